// The `mailroom` commands. Each command that needs the database or Redis gets
// its services from the process entry point (src/main/cli.ts, which assembles
// them with src/main/services.ts); the commands open no connections of their
// own.
import { USAGE, parseCommandArgs, usageError } from './usage.js';
import { loadConfig, redactUrl } from '../config/config.js';
import { loadDotenv } from '../config/dotenv.js';
import { migrate } from '../db/migrate.js';
import { createTenant } from '../tenants/service.js';
import type { Role } from '../tokens/principal.js';
import { createToken } from '../tokens/service.js';

import { COMMANDS, helpFor, nearest, subCommands } from './help.js';
import { runMailboxCommand } from './mailbox.js';
import { parseCommand } from './parse.js';
import { reprocessCommand } from './reprocess.js';
import { statusCommand } from './status.js';
import type { CliEntry, Out } from './io.js';

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
      const result = await migrate(config.databaseUrl, { log: (m) => io.err(m) });
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
      const { db, close } = needEntry().services(startupConfig(io));
      try {
        const tenant = await createTenant(db, { slug: positionals[1] ?? '', name: values.name });
        io.out(`Created tenant ${tenant.slug} (id ${tenant.id}).`);
      } finally {
        await close();
      }
      return 0;
    }
    case 'token': {
      const { values, positionals } = parseCommandArgs(
        rest,
        { tenant: { type: 'string' }, role: { type: 'string' }, user: { type: 'string' } },
        { min: 1, max: 1, names: 'sub-command (token create)' },
      );
      if (positionals[0] !== 'create') throw usageError(`Unknown sub-command "token ${positionals[0]}"; use "token create".`);
      if (!values.tenant) throw usageError('Missing --tenant SLUG.');
      const role = values.role?.toUpperCase();
      if (role !== 'USER' && role !== 'ADMIN') throw usageError('--role must be USER or ADMIN.');
      const { db, close } = needEntry().services(startupConfig(io));
      try {
        const created = await createToken(db, { tenantSlug: values.tenant, role: role as Role, userEmail: values.user });
        io.err(`Created ${created.role} token for ${created.userEmail} in tenant ${created.tenantSlug}; it is shown only once:`);
        io.out(created.token);
      } finally {
        await close();
      }
      return 0;
    }
    case 'parse':
      return parseCommand(rest, io);
    case 'reprocess':
      return reprocessCommand(rest, io, () => needEntry().services(startupConfig(io)));
    case 'mailbox':
      return runMailboxCommand(rest, io, { services: () => needEntry().services(startupConfig(io)) });
    case 'status':
      return statusCommand(rest, io, (options) => needEntry().services(startupConfig(io), options));
    case 'api':
    case 'worker':
    case 'start': {
      parseCommandArgs(rest, {}, { min: 0, max: 0, names: '' });
      const config = startupConfig(io);
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

function startupConfig(io: Out) {
  const dotenv = loadDotenv();
  if (dotenv.generatedSecretKey) io.err(`Generated a development MAILROOM_SECRET_KEY into ${dotenv.file}.`);
  return loadConfig();
}
