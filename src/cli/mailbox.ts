// `mailroom mailbox add|list|show|test|enable|disable|remove`. Passwords and
// refresh tokens come only from an environment variable or stdin (never from
// argv, which other users can read in `ps`), and are never printed. Every
// value a tenant or a server supplied is printed through printable() (io.ts).
import type { Config } from '../config/config.js';
import type { PrismaClient } from '../db/prisma.js';
import { isMailroomError, MailroomError } from '../errors.js';
import { sourceFor } from '../sources/registry.js';
import { addMailbox, getMailbox, getMailboxRow, listMailboxes, parseMailboxInput, removeMailbox, setMailboxEnabled } from '../mailboxes/service.js';
import type { ConnectionTestDetails, ConnectionTestResult, MailboxView } from '../mailboxes/types.js';
import { requireTenant } from '../tenants/service.js';
import { printable, printableJson, type CommandServices, type Out } from './io.js';
import { parseCommandArgs, usageError } from './usage.js';

export interface MailboxCommandDeps {
  services: () => CommandServices;
  env?: NodeJS.ProcessEnv;
  readStdin?: () => Promise<string>;
}

const SUBCOMMANDS = 'add, list, show, test, enable, disable or remove';

/** The option a service field comes from, so that a bad value is reported as the flag the user typed. */
const FLAG_OF: Record<string, string> = {
  address: '--address',
  aliases: '--alias',
  host: '--host',
  port: '--port',
  username: '--user',
  password: '--password-env/--password-stdin',
  refresh_token: '--refresh-token-env/--refresh-token-stdin',
  oauth_token_url: '--oauth-token-url',
  oauth_client_id: '--oauth-client-id',
  oauth_client_secret: '--oauth-client-secret-env',
  oauth_scope: '--oauth-scope',
  folder: '--folder',
  post_action: '--after',
  poll_seconds: '--poll-seconds',
  since: '--since',
};

export async function runMailboxCommand(args: string[], io: Out, deps: MailboxCommandDeps): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add':
      return add(rest, io, deps);
    case 'list': {
      const { values } = parseCommandArgs(rest, { tenant: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
      return withDb(deps, async (db) => {
        const tenantId = values.tenant === undefined ? undefined : (await requireTenant(db, values.tenant)).id;
        const { mailboxes } = await listMailboxes(db, { tenantId });
        if (values.json) io.out(printableJson(mailboxes));
        else if (mailboxes.length === 0) io.out(values.tenant ? `Tenant ${printable(values.tenant)} has no mailboxes.` : 'No mailboxes.');
        else io.out(table(mailboxes));
        return 0;
      });
    }
    case 'show': {
      const { values, id } = withId(rest, { json: { type: 'boolean' } }, 'show');
      return withDb(deps, async (db) => {
        const view = await getMailbox(db, id);
        io.out(values.json ? printableJson(view) : describe(view));
        return 0;
      });
    }
    case 'test': {
      const { values, id } = withId(rest, { json: { type: 'boolean' } }, 'test');
      return withDb(deps, async (db, config) => {
        const row = await getMailboxRow(db, id);
        const result = await sourceFor(row.source).test(row, { secretKeys: [config.secretKey], policy: config.connectionPolicy });
        if (values.json) io.out(printableJson(result));
        if (!result.ok) {
          io.err(`mailroom: mailbox ${id} (${printable(row.address)}) failed the connection test at the ${result.stage} stage: ${printable(result.message)}`);
          return 1;
        }
        if (!values.json) io.out(`Mailbox ${id} (${printable(row.address)}): ${passed(result.details)}`);
        return 0;
      });
    }
    case 'enable':
    case 'disable': {
      const { id } = withId(rest, {}, sub);
      return withDb(deps, async (db) => {
        const view = await setMailboxEnabled(db, id, sub === 'enable');
        io.out(`${sub === 'enable' ? 'Enabled' : 'Disabled'} mailbox ${view.id} (${printable(view.address)}); state ${view.state}.`);
        return 0;
      });
    }
    case 'remove': {
      const { values, id } = withId(rest, { yes: { type: 'boolean' } }, 'remove');
      if (!values.yes) throw usageError(`Removing mailbox ${id} also deletes its ingest log (tickets stay); add --yes to confirm.`);
      return withDb(deps, async (db) => {
        const view = await removeMailbox(db, id);
        io.out(`Removed mailbox ${view.id} (${printable(view.address)}) of tenant ${printable(view.tenant)}.`);
        return 0;
      });
    }
    case undefined:
      throw usageError(`Missing sub-command: mailbox ${SUBCOMMANDS}.`);
    default:
      throw usageError(`Unknown sub-command "mailbox ${sub}"; use ${SUBCOMMANDS}.`);
  }
}

type Flags = Parameters<typeof parseCommandArgs>[1];

function withId<O extends Flags>(rest: string[], options: O, sub: string) {
  const parsed = parseCommandArgs(rest, options, { min: 1, max: 1, names: `mailbox ID (mailbox ${sub} ID)` });
  const text = parsed.positionals[0] ?? '';
  if (!/^[1-9]\d{0,9}$/.test(text) || Number(text) > 2_147_483_647) throw usageError(`"${text}" is not a mailbox id (a positive whole number).`);
  return { values: parsed.values, id: Number(text) };
}

async function withDb(deps: MailboxCommandDeps, fn: (db: PrismaClient, config: Config) => Promise<number>): Promise<number> {
  const services = deps.services();
  try {
    return await fn(services.db, services.config);
  } finally {
    await services.close();
  }
}

const ADD_OPTIONS = {
  tenant: { type: 'string' },
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
  'no-test': { type: 'boolean' },
  'oauth-token-url': { type: 'string' },
  'oauth-client-id': { type: 'string' },
  'oauth-client-secret-env': { type: 'string' },
  'oauth-scope': { type: 'string' },
  'refresh-token-env': { type: 'string' },
  'refresh-token-stdin': { type: 'boolean' },
} as const;

async function add(rest: string[], io: Out, deps: MailboxCommandDeps): Promise<number> {
  const { values: v } = parseCommandArgs(rest, ADD_OPTIONS, { min: 0, max: 0, names: '' });
  for (const flag of ['tenant', 'address', 'host', 'port', 'user'] as const) {
    if (v[flag] === undefined) throw usageError(`Missing --${flag}.`);
  }
  const modes = (['tls', 'starttls', 'no-tls'] as const).filter((m) => v[m]);
  if (modes.length > 1) throw usageError('Give only one of --tls, --starttls and --no-tls.');
  const sources = (['password-env', 'password-stdin', 'refresh-token-env', 'refresh-token-stdin'] as const).filter((s) => v[s] !== undefined && v[s] !== false);
  if (sources.length !== 1) throw usageError('Give exactly one of --password-env VAR and --password-stdin (or, for OAuth2, --refresh-token-env VAR and --refresh-token-stdin).');
  const source = sources[0] as (typeof sources)[number];
  const oauth = source.startsWith('refresh-token') || v['oauth-token-url'] !== undefined || v['oauth-client-id'] !== undefined;
  if (oauth && source.startsWith('password')) throw usageError('OAuth2 mailboxes take --refresh-token-env VAR or --refresh-token-stdin, not a password.');

  const secret = source.endsWith('-stdin') ? await readSecretFromStdin(deps, `--${source}`) : readSecretFromEnv(deps, `--${source}`, v[source] as string);
  const input = {
    address: v.address,
    aliases: v.alias ?? [],
    host: v.host,
    port: wholeNumber(v.port, '--port'),
    tls: v.starttls ? 'starttls' : v['no-tls'] ? 'none' : 'tls',
    username: v.user,
    auth: oauth ? 'oauth2' : 'password',
    ...(oauth ? { refresh_token: secret } : { password: secret }),
    ...(oauth
      ? {
          oauth_token_url: v['oauth-token-url'],
          oauth_client_id: v['oauth-client-id'],
          oauth_client_secret: v['oauth-client-secret-env'] === undefined ? null : readSecretFromEnv(deps, '--oauth-client-secret-env', v['oauth-client-secret-env']),
          oauth_scope: v['oauth-scope'] ?? null,
        }
      : {}),
    folder: v.folder,
    post_action: v.after,
    poll_seconds: v['poll-seconds'] === undefined ? undefined : wholeNumber(v['poll-seconds'], '--poll-seconds'),
    since: v.since === undefined ? null : parseSince(v.since),
  };
  asUsage(() => parseMailboxInput(input));

  return withDb(deps, async (db, config) => {
    const tenant = await requireTenant(db, v.tenant ?? '');
    // The policy's early check (an IP-literal host it refuses) is a usage error like the other fields.
    asUsage(() => parseMailboxInput(input, config.connectionPolicy));
    // A failed test aborts `add` before anything is stored; the failure says which stage.
    let failed: Extract<ConnectionTestResult, { ok: false }> | undefined;
    try {
      const view = await addMailbox(db, config.secretKey, tenant.id, input, {
        policy: config.connectionPolicy,
        beforeStore: async (fields) => {
          if (v['no-test']) return;
          const result = await sourceFor(fields.source).test(fields, { secretKeys: [config.secretKey], policy: config.connectionPolicy });
          if (!result.ok) {
            failed = result;
            throw new MailroomError(result.code, result.message);
          }
          io.err(`Connection test passed: ${passed(result.details)}`);
        },
      });
      const from = view.since ? `mail received since ${view.since} is backfilled` : 'only mail that arrives from now on is ingested';
      io.err(`Added mailbox ${printable(view.address)} to tenant ${printable(tenant.slug)} (id ${view.id}); ${from}.`);
      io.out(String(view.id));
      return 0;
    } catch (err) {
      if (!failed) throw err;
      io.err(`mailroom: the connection test failed at the ${failed.stage} stage: ${printable(failed.message)}`);
      io.err('Nothing was stored; fix the settings, or add --no-test to store the mailbox untested.');
      return 1;
    }
  });
}

/** A VALIDATION error of the service as the usage error of the flags the user typed. */
function asUsage(validate: () => unknown): void {
  try {
    validate();
  } catch (err) {
    if (isMailroomError(err, 'VALIDATION')) throw usageError(err.fields.map((f) => `${FLAG_OF[f.field.split('.')[0] ?? ''] ?? f.field} ${f.message}`).join('; ') + '.');
    throw err;
  }
}

function wholeNumber(text: string | undefined, flag: string): number {
  if (text === undefined || !/^\d{1,9}$/.test(text.trim())) throw usageError(`${flag} must be a whole number.`);
  return Number(text.trim());
}

function parseSince(text: string): Date {
  // A bare date is midnight UTC, so that the same command means the same on every machine.
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw usageError(`--since must be a date such as 2026-11-01 or 2026-11-01T08:00:00Z, not "${text}".`);
  return date;
}

function readSecretFromEnv(deps: MailboxCommandDeps, flag: string, name: string): string {
  const value = (deps.env ?? process.env)[name];
  if (!value) throw usageError(`${flag} ${name}: the environment variable ${name} is not set or empty.`);
  return value;
}

async function readSecretFromStdin(deps: MailboxCommandDeps, flag: string): Promise<string> {
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

function passed(d: ConnectionTestDetails): string {
  const over = d.tls_protocol ? `over ${d.tls_protocol}` : 'in plain text';
  return `logged in to ${printable(d.host)}:${d.port} as ${printable(d.username)} ${over}; folder ${printable(d.folder)} has ${d.messages} message(s) (UIDVALIDITY ${d.uid_validity}, UIDNEXT ${d.uid_next}).`;
}

function describe(m: MailboxView): string {
  const rows: [string, unknown][] = [
    ['id', m.id], ['tenant', m.tenant], ['address', m.address], ['aliases', m.aliases.join(', ') || '-'],
    ['server', `${m.host}:${m.port} (${m.tls})`], ['user', m.username],
    ['auth', m.auth === 'oauth2' ? `oauth2 via ${m.oauth_token_url} (client ${m.oauth_client_id}${m.oauth_scope ? `, scope ${m.oauth_scope}` : ''})` : 'password'],
    ['secret', m.has_secret ? 'stored (encrypted)' : 'missing'], ['folder', m.folder], ['after', m.post_action],
    ['poll seconds', m.poll_seconds], ['since', m.since ?? 'only mail that arrives after the mailbox was added'], ['enabled', m.enabled ? 'yes' : 'no'],
    ['state', m.state], ['last success', m.last_success_at ?? '-'], ['last error', m.last_error ?? '-'],
    ['failures in a row', m.consecutive_failures], ['cursor', m.uid_validity === null ? '-' : `UIDVALIDITY ${m.uid_validity}, last UID ${m.last_uid ?? '-'}`],
    ['created', m.created],
  ];
  return rows.map(([k, val]) => `${(k + ':').padEnd(19)}${printable(val)}`).join('\n');
}

function table(mailboxes: MailboxView[]): string {
  const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
  const head = ['ID', 'TENANT', 'ADDRESS', 'HOST:PORT', 'FOLDER', 'ENABLED', 'STATE', 'LAST SUCCESS', 'LAST ERROR'];
  const body = mailboxes.map((m) => [
    String(m.id), m.tenant, m.address, `${m.host}:${m.port}`, m.folder, m.enabled ? 'yes' : 'no', m.state,
    m.last_success_at ? m.last_success_at.replace(/\.\d+Z$/, 'Z') : '-', clip(printable(m.last_error ?? '-'), 60),
  ].map(printable));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  return [head, ...body].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}
