// The `mailroom` command line: help text and argument parsing (no I/O here).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: mailroom <command> [options]

Commands:
  start                          API and worker in one process
  api                            HTTP API only
  migrate                        apply database migrations
  tenant create SLUG [--name NAME]
                                 create a tenant (slug: 2+ chars, a-z 0-9 -)
  token create --tenant SLUG --role USER|ADMIN [--user EMAIL]
                                 print a new API token once (alone on the last line)
  parse FILE... [--mailbox-address ADDR] [--jsonl]
                                 dry run: the conversation each mail would become
                                 (JSON; one object per line with --jsonl); no database
  help                           show this help

Configuration comes from the environment (and ./.env): DATABASE_URL, REDIS_URL,
MAILROOM_SECRET_KEY, MAILROOM_STORAGE_URL, MAILROOM_PUBLIC_URL,
MAILROOM_QUEUE_PREFIX, PORT, HOST, LOG_LEVEL.

Exit codes: 0 ok, 1 runtime failure, 2 usage error.`;

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends Options>(args: string[], options: O, positionals: { min: number; max: number; names: string }) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, '.'));
  }
  if (parsed.positionals.length < positionals.min) throw new UsageError(`Missing ${positionals.names}.`);
  if (parsed.positionals.length > positionals.max) throw new UsageError(`Unexpected argument "${parsed.positionals[positionals.max]}".`);
  return parsed;
}
