// Help per command (`mailroom help COMMAND`, `mailroom COMMAND --help`,
// `mailroom mailbox edit --help`) and the "did you mean" of a mistyped
// command. Pure text and string distance: main.ts decides when to print.
// The overview (`mailroom --help`) is USAGE in usage.ts.

const EXIT = 'Exit codes: 0 ok, 1 runtime failure, 2 usage error.';
const SECRETS = 'Secrets come only from an environment variable (--password-env VAR) or standard input\n(--password-stdin), never from the command line, and are never printed.';

const MAILBOX_SETTINGS = `  --address ADDR           the support address (unique per tenant)
  --alias ADDR             another address delivered here (repeat for more)
  --host H --port P        the IMAP server
  --tls | --starttls | --no-tls
                           implicit TLS (default) | STARTTLS upgrade | plain text (local servers, tests)
  --ca-file PATH           a private CA (PEM certificates) the server's certificate must chain to
  --user U                 the login name
  --password-env VAR | --password-stdin
                           the password, from an environment variable or standard input
  --folder NAME            the folder to ingest (default INBOX)
  --after seen|move:FOLDER|none
                           what to do with a mail once it is stored (default none)
  --poll-seconds N         how often to look for mail where IDLE is not offered (default 60)
  --since DATE             also ingest mail received (IMAP INTERNALDATE) on or after DATE
                           (2026-11-01 is midnight UTC, or a full ISO time)
  OAuth2 instead of a password:
  --oauth-token-url URL --oauth-client-id ID [--oauth-client-secret-env VAR] [--oauth-scope S]
  --refresh-token-env VAR | --refresh-token-stdin`;

const HELP: Readonly<Record<string, string>> = {
  start: `Usage: mailroom start [--port N]

Runs the HTTP API and the worker (IMAP sync, attachment processing) in one
process: the default for a single machine. Listens on HOST:PORT (default
127.0.0.1:3000; --port N overrides PORT); stops cleanly on SIGTERM or Ctrl-C.`,
  worker: `Usage: mailroom worker

Runs IMAP sync and attachment processing only (no HTTP API). Run as many as
you like: they share the mailboxes through Redis and PostgreSQL.`,
  api: `Usage: mailroom api [--port N]

Runs the HTTP API only (no mailbox sync), on HOST:PORT (default 127.0.0.1:3000;
--port N overrides PORT).`,
  migrate: `Usage: mailroom migrate

Applies the database migrations to DATABASE_URL, creating the database first
when it does not exist yet. Running it again is a no-op.`,
  tenant: `Usage: mailroom tenant create SLUG [--name NAME]

Creates a tenant. SLUG: 2 or more characters, a-z 0-9 and -.`,
  'tenant create': `Usage: mailroom tenant create SLUG [--name NAME]

Creates a tenant. SLUG: 2 or more characters, a-z 0-9 and -; NAME is shown in
the admin console (default: the slug).

Example:
  mailroom tenant create acme --name "Acme Corp"`,
  token: `Usage: mailroom token create|list|revoke ...

  token create --tenant SLUG --role USER|ADMIN [--user EMAIL] [--expires-in DURATION]
  token list [--tenant SLUG] [--json]
  token revoke ID [--tenant SLUG]

Manages API tokens. "token create" prints a new token once (alone on the last
line of stdout, for scripts); only its hash is stored. A revoked or expired
token is refused (401) from the next request on.

Run "mailroom token SUB-COMMAND --help" for one of them.`,
  'token create': `Usage: mailroom token create --tenant SLUG --role USER|ADMIN [--user EMAIL] [--expires-in DURATION]

Prints a new API token of the tenant once, alone on the last line of stdout
(for scripts: TOKEN=$(mailroom token create ... | tail -1)). USER reads
tickets and conversations; ADMIN also manages mailboxes and tokens.

  --user EMAIL             whose token it is (default: the tenant's system user)
  --expires-in DURATION    a whole number and a unit: 30m, 12h, 90d, 52w (at most 3650d);
                           from then on the token is refused (default: no expiry)

Example:
  mailroom token create --tenant acme --role ADMIN --user ops@acme.example --expires-in 90d`,
  'token list': `Usage: mailroom token list [--tenant SLUG] [--json]

Lists API tokens, oldest first: id, tenant, role, user, the token's first
characters, created, last used (to the minute), expiry and state (active,
expired or revoked). Times are UTC. Never shows a token or its hash.

  --tenant SLUG            only this tenant's tokens (default: every tenant's)
  --json                   the list as JSON, with full ISO-8601 times

Example:
  mailroom token list --tenant acme`,
  'token revoke': `Usage: mailroom token revoke ID [--tenant SLUG]

Revokes the token with this id (the ID column of "token list"): it is refused
(401) from the next request on, and browser sessions opened with it end.
Revoking twice changes nothing. The token stays listed, as revoked.

  --tenant SLUG            a guard: the token must belong to this tenant

Example:
  mailroom token revoke --tenant acme 13`,
  mailbox: `Usage: mailroom mailbox add|edit|list|show|test|enable|disable|remove ...

  mailbox add --tenant SLUG --address ADDR --host H --port P --user U (--password-env VAR | --password-stdin) [...]
  mailbox edit ID [settings to change]
  mailbox list [--tenant SLUG] [--json]
  mailbox show ID [--json]
  mailbox test ID [--json]
  mailbox enable ID | mailbox disable ID
  mailbox remove ID --yes

Run "mailroom mailbox SUB-COMMAND --help" for one of them.`,
  'mailbox add': `Usage: mailroom mailbox add --tenant SLUG --address ADDR --host H --port P --user U
                           (--password-env VAR | --password-stdin) [options]

Adds a mailbox and prints its id (alone on the last line of stdout). The
connection is tested first (DNS, TCP, TLS, login, folder) and nothing is
stored if that fails, unless --no-test. Only mail that arrives after the
mailbox was added is ingested, unless --since DATE asks for a backfill; mail
skipped that way can be taken later with "mailbox edit ID --since DATE".

  --tenant SLUG            the tenant the mailbox belongs to
${MAILBOX_SETTINGS}
  --no-test                store without testing the connection

${SECRETS}

Example:
  MBX_PW=... mailroom mailbox add --tenant acme --address support@acme.example \\
    --host imap.acme.example --port 993 --user support@acme.example --password-env MBX_PW`,
  'mailbox edit': `Usage: mailroom mailbox edit ID [options]

Changes the settings given, and only those (the same as the API's
PATCH mailboxes/{id}). A change of server, account, folder, credentials or CA
is tested first and stores nothing if the test fails, unless --no-test; it
also clears an auth_error, so the worker tries the new settings at once.
An earlier --since makes the worker read the folder again and ingest the mail
received since then; mail already ingested is recognised, nothing is doubled.

${MAILBOX_SETTINGS}
  --no-aliases             remove every alias
  --no-ca                  trust the system's CAs again instead of --ca-file
  --no-test                store without testing the connection
  --wait                   with --since: follow the backfill (count, rate, time left)
                           until the worker is through it

Moving to another host, port or TLS mode needs the password again (a stored
secret never follows a mailbox to another server).

${SECRETS}

Examples:
  mailroom mailbox edit 7 --since 2026-01-01 --wait
  printf '%s' "$NEW_PW" | mailroom mailbox edit 7 --password-stdin
  mailroom mailbox edit 7 --ca-file /etc/ssl/company-ca.pem`,
  'mailbox list': `Usage: mailroom mailbox list [--tenant SLUG] [--json]

Lists the mailboxes (of one tenant, or of all) with their health: state,
last success, last error.`,
  'mailbox show': `Usage: mailroom mailbox show ID [--json]

Shows one mailbox's settings and health. Secrets are write-only: only whether
one is stored is shown; a private CA is shown by subject and fingerprint.`,
  'mailbox test': `Usage: mailroom mailbox test ID [--json]

Connects, logs in and opens the folder with the stored settings, and says
which stage failed (dns, tcp, tls, oauth, auth, folder). Exit 1 when it fails.`,
  'mailbox enable': `Usage: mailroom mailbox enable ID

Starts syncing a disabled mailbox again (its failures are forgotten).`,
  'mailbox disable': `Usage: mailroom mailbox disable ID

Stops syncing a mailbox; a running sync or IDLE session ends at once.`,
  'mailbox remove': `Usage: mailroom mailbox remove ID --yes

Deletes a mailbox and its ingest log; its tickets and conversations stay. A
running sync or IDLE session ends at once.`,
  parse: `Usage: mailroom parse FILE... [--mailbox-address ADDR] [--jsonl]

Dry run: prints, per file, the conversation the mail would become (JSON), with
threading hints and the auto-reply/bounce verdict. Needs no database.
  --mailbox-address ADDR   apply the BCC rule as if the mail reached this mailbox
  --jsonl                  one JSON object per line instead of one JSON array

Exit 1 when a file cannot be read.`,
  reprocess: `Usage: mailroom reprocess --message ID
       mailroom reprocess --mailbox ID [--outcome failed|skipped]

Runs stored raw messages through the pipeline again (after a fix, or a raised
limit): one ingest record, or every failed (or skipped) one of a mailbox.
A batch shows its progress on stderr: one updating line with count, rate and
time left on a terminal, a line every 10 seconds otherwise. Exit 1 when a
message could not be re-run.`,
  status: `Usage: mailroom status [--json]

Mailbox health (state, last success, failures, last error, and the backlog of
a sync at work with its rate and time left) and the depths of the queues.
Exit 1 when Redis cannot be reached (the mailboxes are still shown).`,
  help: `Usage: mailroom help [COMMAND [SUB-COMMAND]]

Shows the usage of one command, or the overview without one. The same as
"mailroom COMMAND --help".`,
};

/** The commands the dispatcher knows, for "did you mean". */
export const COMMANDS = ['start', 'worker', 'api', 'migrate', 'tenant', 'token', 'mailbox', 'parse', 'reprocess', 'status', 'help'] as const;

/** Help of `words` (a command, maybe with its sub-command); null for an unknown command. */
export function helpFor(words: readonly string[]): string | null {
  const [command, sub] = words;
  if (command === undefined) return null;
  const text = (sub !== undefined && HELP[`${command} ${sub}`]) || HELP[command];
  return text === undefined ? null : `${text}\n\n${EXIT}`;
}

/** Sub-commands that have their own help, for "did you mean" after a known command. */
export function subCommands(command: string): string[] {
  return Object.keys(HELP)
    .filter((k) => k.startsWith(`${command} `))
    .map((k) => k.slice(command.length + 1));
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment):
 * `strat` is one step from `start`, `lsit` one from `list`.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate nearest to `word`, when it is near enough to be a typo (at most 2 edits, and fewer than half the word). */
export function nearest(word: string, candidates: readonly string[]): string | null {
  const w = word.toLowerCase();
  let best: { c: string; d: number } | null = null;
  for (const c of candidates) {
    const d = editDistance(w, c);
    if (best === null || d < best.d) best = { c, d };
  }
  if (best === null || best.d === 0 || best.d > 2 || best.d * 2 >= Math.max(w.length, 2)) return best?.d === 0 ? best.c : null;
  return best.c;
}
