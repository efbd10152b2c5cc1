#!/bin/sh
# Seeds each development user's INBOX with the sample mails of demo/mail (mounted
# at /seed) the first time its Maildir is created, then runs Dovecot in the
# foreground. A restart finds the Maildir and seeds nothing again.
set -eu
for user in $(grep -v '^#' /etc/dovecot/users | cut -d: -f1); do
  maildir="/srv/mail/$user/Maildir"
  [ -d "$maildir/cur" ] && continue
  mkdir -p "$maildir/cur" "$maildir/new" "$maildir/tmp"
  n=0
  if [ "$user" = "support@demo.example" ]; then
    for mail in /seed/*.eml; do
      [ -f "$mail" ] || continue
      n=$((n + 1))
      cp "$mail" "$maildir/new/$(date +%s).seed$n.mailroom-dev"
    done
  fi
  chown -R 1000:1000 "/srv/mail/$user"
  echo "seeded $n sample mail(s) into $user"
done
exec /usr/sbin/dovecot -F
