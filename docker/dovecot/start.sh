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
  now=$(date +%s)
  if [ "$user" = "support@demo.example" ]; then
    # In name order (the sample mails are numbered: a reply after its request), one second apart:
    # Dovecot takes the arrival time (IMAP INTERNALDATE, Mailroom's `created`) from the file's mtime.
    for mail in /seed/*.eml; do
      [ -f "$mail" ] || continue
      n=$((n + 1))
      file="$maildir/new/$((now + n)).seed$(printf '%04d' "$n").mailroom-dev"
      cp "$mail" "$file"
      touch -d "@$((now + n))" "$file"
    done
  fi
  chown -R 1000:1000 "/srv/mail/$user"
  echo "seeded $n sample mail(s) into $user"
done
exec /usr/sbin/dovecot -F
