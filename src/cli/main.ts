// The `mailroom` commands. Each command that needs the database or Redis gets
// its services from the process entry point (src/main/cli.ts, which assembles
// them with src/main/services.ts); the commands open no connections of their
// own. Each command's code is imported when that command runs: `mailroom
// worker` does not carry the mail core of `parse`, the ingest of `reprocess`
// or the mailbox and token services in its main thread's heap.
import { USAGE, parseCommandArgs, usageError } from './usage.js';
import { loadConfig, redactUrl } from '../config/config.js';
import { loadDotenv } from '../config/dotenv.js';
import { MailroomError, isMailroomError } from '../errors.js';
import { failureReason } from '../util/failure-reason.js';

import { COMMANDS, helpFor, nearest, subCommands } from './help.js';
import { printable, type CliEntry, type Out } from './io.js';

export async function main(argv: string[], io: Out, entry?: CliEntry): Promise<number> {
  const needEntry = (): CliEntry => {
    if (!entry) throw new Error('this command needs the process entry point (src/main/cli.ts)');
    return entry;
  };
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || (command === 'help' && rest.length === 0)) {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  // `mailroom help COMMAND [SUB]` and `mailroom COMMAND [SUB] --help`: that command's usage (help.ts).
  const asked = command === 'help' ? rest : rest.includes('--help') || rest.includes('-h') ? [command, ...rest.filter((a) => !a.startsWith('-'))] : null;
  if (asked) {
    io.out(commandHelp(asked));
    return 0;
  }

  switch (command) {
    case 'migrate': {
      parseCommandArgs(rest, {}, { min: 0, max: 0, names: '' });
      const config = startupConfig(io);
      const { migrate } = await import('../db/migrate.js');
      const result = await migrate(config.databaseUrl, { log: (m) => io.err(m), createDatabase: true }).catch((err: unknown) => {
        // Name the variable (password redacted): the one thing a newcomer can change.
        if (isMailroomError(err, 'DATABASE_UNAVAILABLE')) {
          const why = failureReason(err.cause ?? err, 'is PostgreSQL running?');
          throw new MailroomError('DATABASE_UNAVAILABLE', `Cannot reach PostgreSQL at DATABASE_URL=${redactUrl(config.databaseUrl)}: ${why}.`, { cause: err });
        }
        throw err;
      });
      io.out(
        result.applied.length
          ? `Applied ${result.applied.length} migration(s) to ${redactUrl(config.databaseUrl)}.`
          : `Database ${redactUrl(config.databaseUrl)} is up to date (${result.alreadyApplied.length} migration(s)).`,
      );
      return 0;
    }
    case 'tenant': {
      const { values, positionals } = parseCommandArgs(rest, { name: { type: 'string' } }, { min: 2, max: 2, names: 'sub-command and SLUG (tenant create SLUG)' });
      if (positionals[0] !== 'create') throw usageError(`Unknown sub-command "tenant ${positionals[0]}"; use "tenant create SLUG".`);
      const { createTenant } = await import('../tenants/service.js');
      const { db, close } = needEntry().services(startupConfig(io));
      try {
        const tenant = await createTenant(db, { slug: positionals[1] ?? '', name: values.name });
        io.out(`Created tenant ${printable(tenant.slug)} (id ${tenant.id}).`);
      } finally {
        await close();
      }
      return 0;
    }
    case 'token':
      return (await import('./token.js')).runTokenCommand(rest, io, { services: () => needEntry().services(startupConfig(io)) });
    case 'parse':
      return (await import('./parse.js')).parseCommand(rest, io);
    case 'reprocess':
      return (await import('./reprocess.js')).reprocessCommand(rest, io, () => needEntry().services(startupConfig(io)));
    case 'mailbox':
      return (await import('./mailbox.js')).runMailboxCommand(rest, io, { services: () => needEntry().services(startupConfig(io)) });
    case 'status':
      return (await import('./status.js')).statusCommand(rest, io, (options) => needEntry().services(startupConfig(io), options));
    case 'api':
    case 'worker':
    case 'start': {
      if (command === 'worker' && rest.some((a) => a === '--port' || a.startsWith('--port='))) {
        throw usageError('"mailroom worker" serves no API, so it takes no --port; its /metrics port is MAILROOM_WORKER_METRICS_PORT.');
      }
      const { values } = parseCommandArgs(rest, command === 'worker' ? {} : { port: { type: 'string' } }, { min: 0, max: 0, names: '' });
      const port = values.port as string | undefined;
      if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535)) throw usageError('--port must be a port number (0-65535).');
      // --port wins over PORT (and .env): the one listen port of this run.
      const config = startupConfig(io, port === undefined ? {} : { PORT: port });
      await needEntry().runServer(config, { role: command });
      return 0;
    }
    default: {
      const guess = nearest(command, COMMANDS);
      throw usageError(`Unknown command "${command}"${guess ? `; did you mean "mailroom ${guess}"?` : '.'} Run "mailroom --help".`);
    }
  }
}

/** The help of a command (and sub-command); a mistyped one is a usage error with the nearest name. */
function commandHelp(words: string[]): string {
  const [command = '', sub] = words;
  const text = helpFor(words);
  if (text === null) {
    const guess = nearest(command, COMMANDS);
    throw usageError(`Unknown command "${command}"${guess ? `; did you mean "mailroom ${guess}"?` : '.'} Run "mailroom --help".`);
  }
  // A near miss of a known sub-command is a typo; anything else (an id, a file) gets the command's help.
  const subs = subCommands(command);
  const guess = sub !== undefined && !subs.includes(sub) ? nearest(sub, subs) : null;
  if (guess) throw usageError(`Unknown sub-command "${command} ${sub}"; did you mean "${command} ${guess}"?`);
  return text;
}

function startupConfig(io: Out, overrides: Record<string, string> = {}) {
  const dotenv = loadDotenv();
  if (dotenv.generatedSecretKey) io.err(`Generated a development MAILROOM_SECRET_KEY into ${dotenv.file}.`);
  return loadConfig({ ...process.env, ...overrides });
}
