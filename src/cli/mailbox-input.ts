// What `mailroom mailbox add` and `mailbox edit` share: reading secrets from an
// environment variable or stdin (never argv, which other users can read in
// `ps`), the CA file, dates and numbers from flags, and turning the service's
// field errors back into the flags the user typed.
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/config.js';
import type { PrismaClient } from '../db/prisma.js';
import { describeError, isMailroomError } from '../errors.js';
import { parseCaPem } from '../mailboxes/ca.js';
import type { ConnectionTestDetails } from '../mailboxes/types.js';
import { printable, type CommandServices } from './io.js';
import { parseCommandArgs, usageError } from './usage.js';

export interface MailboxCommandDeps {
  services: () => CommandServices;
  env?: NodeJS.ProcessEnv;
  readStdin?: () => Promise<string>;
}

/** The option a service field comes from, so that a bad value is reported as the flag the user typed. */
const FLAG_OF: Record<string, string> = {
  address: '--address',
  aliases: '--alias',
  host: '--host',
  port: '--port',
  tls: '--tls/--starttls/--no-tls',
  username: '--user',
  password: '--password-env/--password-stdin',
  refresh_token: '--refresh-token-env/--refresh-token-stdin',
  oauth_token_url: '--oauth-token-url',
  oauth_client_id: '--oauth-client-id',
  oauth_client_secret: '--oauth-client-secret-env',
  oauth_scope: '--oauth-scope',
  tls_ca_pem: '--ca-file',
  folder: '--folder',
  post_action: '--after',
  poll_seconds: '--poll-seconds',
  since: '--since',
};

/** A VALIDATION error of the mailbox service as a usage error naming flags; anything else unchanged. */
export function asUsageError(err: unknown): unknown {
  if (!isMailroomError(err, 'VALIDATION')) return err;
  return usageError(err.fields.map((f) => `${FLAG_OF[f.field.split('.')[0] ?? ''] ?? f.field} ${f.message}`).join('; ') + '.');
}

/** A VALIDATION error of the service as the usage error of the flags the user typed. */
export function asUsage(validate: () => unknown): void {
  try {
    validate();
  } catch (err) {
    throw asUsageError(err);
  }
}

/** The flags of a mailbox's settings, the same for `mailbox add` and `mailbox edit` (each adds its own). */
export const SETTING_OPTIONS = {
  address: { type: 'string' },
  alias: { type: 'string', multiple: true },
  host: { type: 'string' },
  port: { type: 'string' },
  tls: { type: 'boolean' },
  starttls: { type: 'boolean' },
  'no-tls': { type: 'boolean' },
  user: { type: 'string' },
  'password-env': { type: 'string' },
  'password-stdin': { type: 'boolean' },
  folder: { type: 'string' },
  after: { type: 'string' },
  'poll-seconds': { type: 'string' },
  since: { type: 'string' },
  'ca-file': { type: 'string' },
  'no-test': { type: 'boolean' },
  'oauth-token-url': { type: 'string' },
  'oauth-client-id': { type: 'string' },
  'oauth-client-secret-env': { type: 'string' },
  'oauth-scope': { type: 'string' },
  'refresh-token-env': { type: 'string' },
  'refresh-token-stdin': { type: 'boolean' },
} as const;

type Flags = Parameters<typeof parseCommandArgs>[1];

export function withId<O extends Flags>(rest: string[], options: O, sub: string) {
  const parsed = parseCommandArgs(rest, options, { min: 1, max: 1, names: `mailbox ID (mailbox ${sub} ID)` });
  const text = parsed.positionals[0] ?? '';
  if (!/^[1-9]\d{0,9}$/.test(text) || Number(text) > 2_147_483_647) throw usageError(`"${text}" is not a mailbox id (a positive whole number).`);
  return { values: parsed.values, id: Number(text) };
}

export async function withDb(deps: MailboxCommandDeps, fn: (db: PrismaClient, config: Config) => Promise<number>): Promise<number> {
  const services = deps.services();
  try {
    return await fn(services.db, services.config);
  } finally {
    await services.close();
  }
}

export function wholeNumber(text: string | undefined, flag: string): number {
  if (text === undefined || !/^\d{1,9}$/.test(text.trim())) throw usageError(`${flag} must be a whole number.`);
  return Number(text.trim());
}

export function parseSince(text: string): Date {
  // A bare date is midnight UTC, so that the same command means the same on every machine.
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw usageError(`--since must be a date such as 2026-11-01 or 2026-11-01T08:00:00Z, not "${text}".`);
  return date;
}

/** `--tls` / `--starttls` / `--no-tls` as the service's tls field; undefined when none is given. */
export function tlsMode(v: { tls?: boolean; starttls?: boolean; 'no-tls'?: boolean }): 'tls' | 'starttls' | 'none' | undefined {
  const modes = (['tls', 'starttls', 'no-tls'] as const).filter((m) => v[m]);
  if (modes.length > 1) throw usageError('Give only one of --tls, --starttls and --no-tls.');
  return v.starttls ? 'starttls' : v['no-tls'] ? 'none' : v.tls ? 'tls' : undefined;
}

/** The PEM text of `--ca-file PATH`, checked to hold certificates. */
export async function readCaFile(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    throw usageError(`--ca-file ${file} cannot be read (${describeError(err)}).`);
  }
  if (parseCaPem(pem) === null) throw usageError(`--ca-file ${file} holds no PEM certificates (-----BEGIN CERTIFICATE----- blocks, and nothing else).`);
  return pem;
}

/** What an environment variable's name looks like by convention (MBX_PW); only such a name is ever echoed. */
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

export function readSecretFromEnv(deps: MailboxCommandDeps, flag: string, name: string): string {
  const value = (deps.env ?? process.env)[name];
  if (value) return value;
  // Someone who typed the password itself after the flag must not see it printed (or logged by a CI runner).
  if (!ENV_NAME.test(name)) {
    throw usageError(`${flag}: the environment variable named by ${flag} is not set or empty; give the variable's name (like MBX_PW), never the secret itself.`);
  }
  throw usageError(`${flag} ${name}: the environment variable ${name} is not set or empty.`);
}

export async function readSecretFromStdin(deps: MailboxCommandDeps, flag: string): Promise<string> {
  const raw = await (deps.readStdin ?? readProcessStdin)();
  // One line, as `echo "$PASSWORD" |` or a password manager writes it: the newline is not part of it.
  const value = raw.replace(/\r?\n$/, '');
  if (!value) throw usageError(`${flag}: standard input was empty.`);
  return value;
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

export const SECRET_SOURCES = ['password-env', 'password-stdin', 'refresh-token-env', 'refresh-token-stdin'] as const;
export type SecretSource = (typeof SECRET_SOURCES)[number];

/** The one secret flag given (at most one), and its value read from the environment or stdin. */
export async function readSecret(
  deps: MailboxCommandDeps,
  v: Partial<Record<SecretSource, string | boolean>>,
  need: 'exactly' | 'at most',
): Promise<{ source: SecretSource; secret: string } | null> {
  const given = SECRET_SOURCES.filter((s) => v[s] !== undefined && v[s] !== false);
  if (given.length > 1 || (need === 'exactly' && given.length === 0)) {
    throw usageError(`Give ${need} one of --password-env VAR and --password-stdin (or, for OAuth2, --refresh-token-env VAR and --refresh-token-stdin).`);
  }
  const source = given[0];
  if (source === undefined) return null;
  const secret = source.endsWith('-stdin') ? await readSecretFromStdin(deps, `--${source}`) : readSecretFromEnv(deps, `--${source}`, v[source] as string);
  return { source, secret };
}

export function passed(d: ConnectionTestDetails): string {
  const over = d.tls_protocol ? `over ${d.tls_protocol}` : 'in plain text';
  return `logged in to ${printable(d.host)}:${d.port} as ${printable(d.username)} ${over}; folder ${printable(d.folder)} has ${d.messages} message(s) (UIDVALIDITY ${d.uid_validity}, UIDNEXT ${d.uid_next}).`;
}
