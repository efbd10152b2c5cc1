#!/bin/sh
# The one-shot `setup` service of docker-compose.yml: a `demo` tenant with the
# development Dovecot's support@demo.example as its mailbox, backfilled from
# 2000-01-01 so the seeded sample mails are ingested. Does nothing when the
# mailbox already exists, so `docker compose up` can run again.
set -eu
mailroom() { node bin/mailroom.js "$@"; }
if mailroom mailbox list --tenant demo --json 2>/dev/null | grep -q 'support@demo.example'; then
  echo "The demo mailbox exists already."
  exit 0
fi
mailroom tenant create demo --name "Demo" || echo "(tenant demo exists already)"
MAILBOX_PASSWORD=demo-support mailroom mailbox add --tenant demo --address support@demo.example \
  --host dovecot --port 143 --no-tls --user support@demo.example --password-env MAILBOX_PASSWORD \
  --since 2000-01-01
echo 'Added the demo mailbox. An API token: docker compose exec api node bin/mailroom.js token create --tenant demo --role ADMIN'
