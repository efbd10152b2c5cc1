// `mailroom mailbox add|list|show|test|enable|disable|remove` (and `edit`, in
// mailbox-edit.ts). Passwords and refresh tokens come only from an environment
// variable or stdin (mailbox-input.ts), and are never printed. Every value a
// tenant or a server supplied is printed through printable() (io.ts).
import { MailroomError } from '../errors.js';
import { sourceFor } from '../sources/registry.js';
import { addMailbox, getMailbox, getMailboxRow, listMailboxes, parseMailboxInput, removeMailbox, setMailboxEnabled } from '../mailboxes/service.js';
import type { ConnectionTestResult, MailboxView } from '../mailboxes/types.js';
import { requireTenant } from '../tenants/service.js';
import { nearest } from './help.js';
import { printable, printableJson, type Out } from './io.js';
import { editMailboxCommand } from './mailbox-edit.js';
import { SETTING_OPTIONS, asUsage, passed, readCaFile, readSecret, readSecretFromEnv, tlsMode, wholeNumber, parseSince, withDb, withId, type MailboxCommandDeps } from './mailbox-input.js';
import { parseCommandArgs, usageError } from './usage.js';

export type { MailboxCommandDeps };

const SUBS = ['add', 'edit', 'list', 'show', 'test', 'enable', 'disable', 'remove'];

const SUBCOMMANDS = 'add, edit, list, show, test, enable, disable or remove';

export async function runMailboxCommand(args: string[], io: Out, deps: MailboxCommandDeps): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add':
      return add(rest, io, deps);
    case 'edit':
      return editMailboxCommand(rest, io, deps);
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
    default: {
      const guess = nearest(sub, SUBS);
      throw usageError(`Unknown sub-command "mailbox ${sub}"${guess ? `; did you mean "mailbox ${guess}"?` : `; use ${SUBCOMMANDS}.`}`);
    }
  }
}

const ADD_OPTIONS = { tenant: { type: 'string' }, ...SETTING_OPTIONS } as const;

async function add(rest: string[], io: Out, deps: MailboxCommandDeps): Promise<number> {
  const { values: v } = parseCommandArgs(rest, ADD_OPTIONS, { min: 0, max: 0, names: '' });
  for (const flag of ['tenant', 'address', 'host', 'port', 'user'] as const) {
    if (v[flag] === undefined) throw usageError(`Missing --${flag}.`);
  }
  const tls = tlsMode(v) ?? 'tls';
  const { source, secret } = (await readSecret(deps, v, 'exactly'))!;
  const oauth = source.startsWith('refresh-token') || v['oauth-token-url'] !== undefined || v['oauth-client-id'] !== undefined;
  if (oauth && source.startsWith('password')) throw usageError('OAuth2 mailboxes take --refresh-token-env VAR or --refresh-token-stdin, not a password.');

  const input = {
    address: v.address,
    aliases: v.alias ?? [],
    host: v.host,
    port: wholeNumber(v.port, '--port'),
    tls,
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
    tls_ca_pem: v['ca-file'] === undefined ? null : await readCaFile(v['ca-file']),
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
    let found: number | undefined;
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
          found = result.details.messages;
          io.err(`Connection test passed: ${passed(result.details)}`);
        },
      });
      const from = view.since ? `mail received since ${view.since} is backfilled` : 'only mail that arrives from now on is ingested';
      io.err(`Added mailbox ${printable(view.address)} to tenant ${printable(tenant.slug)} (id ${view.id}); ${from}.`);
      if (!view.since && found !== 0) io.err(backfillHint(view, found));
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

/** What `add` says when it skipped the mail already there: how to ingest it after all. */
export function backfillHint(view: Pick<MailboxView, 'id' | 'folder'>, found: number | undefined): string {
  // Untested (--no-test), the count is unknown.
  const folder = printable(view.folder);
  const what = found === undefined ? `Mail already in ${folder} (if any) was not ingested` : `${found} message(s) already in ${folder} were not ingested`;
  return `${what}; to ingest ${found === undefined ? 'it' : 'them'} run: mailroom mailbox edit ${view.id} --since YYYY-MM-DD (the oldest receive date to take).`;
}

function describe(m: MailboxView): string {
  const rows: [string, unknown][] = [
    ['id', m.id], ['tenant', m.tenant], ['address', m.address], ['aliases', m.aliases.join(', ') || '-'],
    ['server', `${m.host}:${m.port} (${m.tls})`], ['user', m.username],
    ['auth', m.auth === 'oauth2' ? `oauth2 via ${m.oauth_token_url} (client ${m.oauth_client_id}${m.oauth_scope ? `, scope ${m.oauth_scope}` : ''})` : 'password'],
    ['secret', m.has_secret ? 'stored (encrypted)' : 'missing'],
    ['tls ca', m.tls_ca ? m.tls_ca.map((c) => `${c.subject} (SHA-256 ${c.fingerprint_sha256}, valid to ${c.valid_to})`).join('; ') : 'the system CAs'],
    ['folder', m.folder], ['after', m.post_action],
    ['poll seconds', m.poll_seconds], ['since', m.since ?? 'only mail that arrives after the mailbox was added'], ['enabled', m.enabled ? 'yes' : 'no'],
    ['state', m.state], ['last success', m.last_success_at ?? '-'], ['last error', m.last_error ?? '-'],
    ['failures in a row', m.consecutive_failures],
    ['backlog', m.backlog ? `${m.backlog.remaining} message(s) left, ${m.backlog.done} done` : '-'], ['cursor', m.uid_validity === null ? '-' : `UIDVALIDITY ${m.uid_validity}, last UID ${m.last_uid ?? '-'}`],
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
