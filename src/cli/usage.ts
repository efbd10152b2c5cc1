// The `mailroom` command line: help text and argument parsing (no I/O here).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MailroomError } from '../errors.js';

/** A bad command line: the registry's USAGE, which src/main/cli.ts answers with exit code 2 and a pointer to --help. */
export function usageError(message: string): MailroomError {
  return new MailroomError('USAGE', message);
}

export const USAGE = `Usage: mailroom <command> [options]

Commands:
  start [--port N]               API and worker in one process (--port overrides PORT)
  worker                         IMAP sync and attachment processing only
  api [--port N]                 HTTP API only
  migrate                        apply database migrations (creates the database
                                 when it does not exist yet)
  tenant create SLUG [--name NAME]
                                 create a tenant (slug: 2+ chars, a-z 0-9 -)
  token create --tenant SLUG --role USER|ADMIN [--user EMAIL] [--expires-in DURATION]
                                 print a new API token once (alone on the last line);
                                 DURATION: 30m, 12h, 90d, 52w (default: no expiry)
  token list [--tenant SLUG] [--json]
                                 tokens with role, user, created, last used, expiry
                                 and state (never the token itself)
  token revoke ID [--tenant SLUG]
                                 revoke a token: refused from the next request on
  mailbox add --tenant SLUG --address ADDR [--alias ADDR]... --host H --port P
      [--tls|--starttls|--no-tls] --user U (--password-env VAR | --password-stdin)
      [--folder INBOX] [--after seen|move:FOLDER|none] [--poll-seconds N]
      [--since DATE] [--ca-file PATH] [--no-test]
                                 add a mailbox (tests the connection first unless
                                 --no-test); prints its id alone on the last line.
                                 --tls (default) is implicit TLS, --starttls upgrades,
                                 --no-tls is plain text. Without --since only mail
                                 that arrives from now on is ingested.
      OAuth2 instead of a password: --oauth-token-url URL --oauth-client-id ID
      [--oauth-client-secret-env VAR] [--oauth-scope S]
      (--refresh-token-env VAR | --refresh-token-stdin)
  mailbox edit ID [any option of add] [--no-test]
                                 change only the settings given (same as the API's
                                 PATCH); an earlier --since backfills from that date
  mailbox list [--tenant SLUG] [--json]
                                 mailboxes and their health
  mailbox show ID [--json]       one mailbox's settings (secrets are write-only)
  mailbox test ID [--json]       connect, log in, open the folder; say what failed
  mailbox enable ID | disable ID start or stop syncing a mailbox
  mailbox remove ID --yes        delete a mailbox and its ingest log
  parse FILE... [--mailbox-address ADDR] [--jsonl]
                                 dry run: the conversation each mail would become
                                 (JSON; one object per line with --jsonl); no database
  reprocess --message ID | --mailbox ID --outcome failed|skipped
                                 re-run stored raw messages (progress on stderr)
  status [--json]                mailbox health and queue depths (exit 1: Redis unreachable)
  help [COMMAND]                 show this help, or one command's (also: COMMAND --help)

Configuration comes from the environment and the .env file in the Mailroom folder
(or MAILROOM_ENV_FILE): DATABASE_URL, REDIS_URL,
MAILROOM_SECRET_KEY, MAILROOM_STORAGE_URL, MAILROOM_PUBLIC_URL,
MAILROOM_QUEUE_PREFIX, PORT, HOST, LOG_LEVEL, MAILROOM_WORKER_METRICS_PORT,
MAILROOM_OPS_TENANT, MAILROOM_IDLE_SECONDS, MAILROOM_IMAP_TIMEOUT_SECONDS,
MAILROOM_SYNC_CONCURRENCY, MAILROOM_WATCH_LIMIT, MAILROOM_PARSE_THREADS, MAILROOM_MAX_MESSAGE_BYTES,
MAILROOM_MAX_MIME_PARTS, MAILROOM_MAX_HEADER_BYTES,
MAILROOM_MAX_ATTACHMENT_BYTES, MAILROOM_ATTACHMENT_CONCURRENCY,
MAILROOM_ATTACHMENT_SWEEP_SECONDS, MAILROOM_ATTACHMENT_STALE_SECONDS,
MAILROOM_CLAMD_URL, MAILROOM_ALLOW_PRIVATE_HOSTS, MAILROOM_ENV_FILE, MAILROOM_API_MAX_HTML_BYTES,
MAILROOM_API_MAX_REQUEST_HTML_BYTES, MAILROOM_API_LIST_MAX_BYTES, MAILROOM_API_RATE_LIMIT,
MAILROOM_API_RATE_WINDOW_SECONDS (see the README's Configuration table).

Exit codes: 0 ok, 1 runtime failure, 2 usage error.`;

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends Options>(args: string[], options: O, positionals: { min: number; max: number; names: string }) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError((err as Error).message.replace(/\. To specify a positional.*$/s, '.'));
  }
  if (parsed.positionals.length < positionals.min) throw usageError(`Missing ${positionals.names}.`);
  if (parsed.positionals.length > positionals.max) throw usageError(`Unexpected argument "${parsed.positionals[positionals.max]}".`);
  return parsed;
}
