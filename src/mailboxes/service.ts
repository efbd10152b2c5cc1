// Mailbox administration over Prisma: add, list, show, change, enable/disable,
// remove. Input is validated here (the CLI and the HTTP API share it; field
// names are the wire names). Secrets are encrypted before they reach the
// database and never leave it again: every read returns a MailboxView. No
// field may carry control characters (they would reach terminals and logs
// raw), and a host or token URL that is an IP literal the connection policy
// refuses is refused here already; host names are checked at each connect.
import { z } from 'zod';
import { pageWindow, type PageRequest } from '../db/page.js';
import type { PrismaClient } from '../db/prisma.js';
import type { Prisma } from '../generated/prisma/client.js';
import { encryptSecret } from '../crypto/secrets.js';
import { MailroomError, type FieldProblem } from '../errors.js';
import { isUniqueViolation } from '../db/errors.js';
import { checkHostLiteral, refusalMessage, tokenUrlProblem, tokenUrlShapeProblem, type ConnectionPolicy } from '../net/policy.js';
import { hasControlChars, hasLineBreaks } from '../util/controls.js';
import { parsePostAction, type Mailbox, type MailboxConnectionRow, type MailboxView, type PostAction } from './types.js';
import { toMailboxView } from './view.js';
import { parseCaPem } from './ca.js';
import { transition } from './health.js';
import { resetCursor } from './reset-cursor.js';

/** The range of a backfill date (`since`): mail has no earlier dates, and later ones are typos or probes. */
const SINCE_MIN = Date.UTC(1970, 0, 1);
const SINCE_MAX = Date.UTC(10000, 0, 1) - 1;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const CONTROLS = 'must not contain control characters';

const email = z.string({ error: 'must be an email address' }).refine((v) => !hasControlChars(v), CONTROLS).trim().toLowerCase().regex(EMAIL, 'must be an email address').max(320);
const text = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .refine((v) => !hasControlChars(v), CONTROLS)
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);
// Never printed, but sent in an IMAP command or a form: a line break or NUL could end it early.
const secret = z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(8192).refine((v) => !hasLineBreaks(v), 'must not contain line breaks or NUL');

const fields = {
  address: email,
  aliases: z.array(email, { error: 'must be a list of email addresses' }).max(100),
  host: text(253)
    .toLowerCase()
    .regex(/^\[?[a-z0-9._:-]+\]?$/, 'must be a host name or IP address')
    .transform((h) => h.replace(/^\[(.*)\]$/, '$1')),
  port: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be between 1 and 65535').max(65535, 'must be between 1 and 65535'),
  tls: z.enum(['tls', 'starttls', 'none'], { error: 'must be tls, starttls or none' }),
  username: text(320),
  auth: z.enum(['password', 'oauth2'], { error: 'must be password or oauth2' }),
  password: secret,
  refresh_token: secret,
  // https (http:// only to a host the operator allowed: tokens must not cross a network in clear), no user:password.
  // Whether http:// or an internal IP literal may pass depends on the allow list: policyProblems.
  oauth_token_url: text(2048).superRefine((v, ctx) => {
    const problem = tokenUrlShapeProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  oauth_client_id: text(512),
  oauth_client_secret: secret.nullable(),
  oauth_scope: text(1024).nullable(),
  tls_ca_pem: z
    .string({ error: 'must be PEM certificates (a string)' })
    .max(256 * 1024, 'must be at most 256 KiB')
    .refine((v) => parseCaPem(v) !== null, 'must be PEM certificates (-----BEGIN CERTIFICATE----- blocks, nothing else)')
    .nullable(),
  folder: text(255),
  post_action: z.string({ error: 'must be seen, none or move:FOLDER' }).transform((v, ctx): PostAction => {
    if (hasControlChars(v)) {
      ctx.addIssue({ code: 'custom', message: CONTROLS });
      return z.NEVER;
    }
    const parsed = parsePostAction(v);
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: 'must be seen, none or move:FOLDER' });
      return z.NEVER;
    }
    return parsed;
  }),
  poll_seconds: z.number({ error: 'must be a number' }).int('must be a whole number').min(5, 'must be at least 5').max(86_400, 'must be at most 86400 (a day)'),
  since: z
    .union([z.date(), z.string()], { error: 'must be a date' })
    .transform((v, ctx) => {
      const d = typeof v === 'string' ? new Date(v) : v;
      if (Number.isNaN(d.getTime())) {
        ctx.addIssue({ code: 'custom', message: 'must be a date (ISO 8601)' });
        return z.NEVER;
      }
      // JavaScript takes years up to ±275760, the database and any mail server do not.
      if (d.getTime() < SINCE_MIN || d.getTime() > SINCE_MAX) {
        ctx.addIssue({ code: 'custom', message: 'must be a date from 1970 to 9999' });
        return z.NEVER;
      }
      return d;
    })
    .nullable(),
  enabled: z.boolean({ error: 'must be true or false' }),
};

const createSchema = z.strictObject({
  ...fields,
  aliases: fields.aliases.default([]),
  tls: fields.tls.default('tls'),
  auth: fields.auth.default('password'),
  password: fields.password.optional(),
  refresh_token: fields.refresh_token.optional(),
  oauth_token_url: fields.oauth_token_url.optional(),
  oauth_client_id: fields.oauth_client_id.optional(),
  oauth_client_secret: fields.oauth_client_secret.optional(),
  oauth_scope: fields.oauth_scope.optional(),
  tls_ca_pem: fields.tls_ca_pem.default(null),
  folder: fields.folder.default('INBOX'),
  post_action: fields.post_action.default({ post_action: 'none', post_action_folder: null }),
  poll_seconds: fields.poll_seconds.default(60),
  since: fields.since.default(null),
  enabled: fields.enabled.default(true),
});
const patchSchema = z.strictObject(fields).partial();

export type MailboxInput = z.input<typeof createSchema>;
export type MailboxSettings = z.output<typeof createSchema>;
export type MailboxPatch = z.input<typeof patchSchema>;

function invalid(problems: FieldProblem[]): MailroomError {
  const list = problems.map((p) => `${p.field} ${p.message}`).join('; ');
  return new MailroomError('VALIDATION', `Invalid mailbox: ${list}.`, { fields: problems });
}

function problemsOf(error: z.ZodError): FieldProblem[] {
  return error.issues.map((i) =>
    i.code === 'unrecognized_keys' ? { field: i.keys.join(', '), message: 'is not a mailbox field' } : { field: i.path.join('.') || 'mailbox', message: i.message },
  );
}

/** Which credentials an auth method needs, and which it must not get. */
function credentialProblems(auth: Mailbox['auth'], given: { password?: unknown; refresh_token?: unknown; oauth_token_url?: unknown; oauth_client_id?: unknown }, needSecret: boolean): FieldProblem[] {
  const out: FieldProblem[] = [];
  const need = (field: string, ok: unknown) => (ok ? undefined : out.push({ field, message: `is required for ${auth} authentication` }));
  if (auth === 'password') {
    if (needSecret) need('password', given.password);
    for (const field of ['refresh_token', 'oauth_token_url', 'oauth_client_id'] as const) {
      if (given[field] !== undefined && given[field] !== null) out.push({ field, message: 'is only for oauth2 authentication' });
    }
  } else {
    if (needSecret) need('refresh_token', given.refresh_token);
    need('oauth_token_url', given.oauth_token_url);
    need('oauth_client_id', given.oauth_client_id);
    if (given.password !== undefined) out.push({ field: 'password', message: 'is only for password authentication (give refresh_token)' });
  }
  return out;
}

/**
 * The connection policy on what is known before connecting: a host that is an IP literal (any
 * spelling) in a refused range, a token URL that is not https:// or points at one. Without a
 * policy nothing is checked here (every connect still is).
 */
function policyProblems(policy: ConnectionPolicy | undefined, given: { host?: string; oauth_token_url?: string | null }): FieldProblem[] {
  if (!policy) return [];
  const out: FieldProblem[] = [];
  const refused = given.host === undefined ? null : checkHostLiteral(policy, given.host);
  if (refused) out.push({ field: 'host', message: `is not allowed: ${refusalMessage(refused).replace(/\.$/, '')}` });
  const problem = given.oauth_token_url ? tokenUrlProblem(policy, given.oauth_token_url) : null;
  if (problem) out.push({ field: 'oauth_token_url', message: (problem.startsWith('must') ? problem : `is not allowed: ${problem}`).replace(/\.$/, '') });
  return out;
}

const cleanAliases = (aliases: string[], address: string) => [...new Set(aliases)].filter((a) => a !== address);

/**
 * Validates and normalises a new mailbox (pure: the CLI calls it before any I/O). With the
 * connection policy, IP-literal hosts and token URLs it refuses are VALIDATION errors too.
 */
export function parseMailboxInput(input: unknown, policy?: ConnectionPolicy): MailboxSettings {
  const parsed = createSchema.safeParse(input);
  if (!parsed.success) throw invalid(problemsOf(parsed.error));
  const s = parsed.data;
  const problems = [...credentialProblems(s.auth, s, true), ...policyProblems(policy, { host: s.host, oauth_token_url: s.auth === 'oauth2' ? s.oauth_token_url : null })];
  if (problems.length) throw invalid(problems);
  return { ...s, aliases: cleanAliases(s.aliases, s.address) };
}

/** The columns of a new mailbox, secrets encrypted: also what the connection test takes before storing. */
export function storedFields(s: MailboxSettings, secretKey: Buffer) {
  const oauth = s.auth === 'oauth2';
  return {
    // Mailboxes are added with IMAP settings; another source brings its own fields.
    source: 'imap',
    address: s.address,
    aliases: s.aliases,
    host: s.host,
    port: s.port,
    tls: s.tls,
    username: s.username,
    auth: s.auth,
    secret_encrypted: encryptSecret((oauth ? s.refresh_token : s.password) ?? '', secretKey),
    oauth_token_url: oauth ? (s.oauth_token_url ?? null) : null,
    oauth_client_id: oauth ? (s.oauth_client_id ?? null) : null,
    oauth_client_secret_encrypted: oauth && s.oauth_client_secret ? encryptSecret(s.oauth_client_secret, secretKey) : null,
    oauth_scope: oauth ? (s.oauth_scope ?? null) : null,
    tls_ca_pem: s.tls_ca_pem,
    folder: s.folder,
    ...s.post_action,
    poll_seconds: s.poll_seconds,
    // null: only mail that arrives after the mailbox was added. The sync engine treats
    // "no cursor and since null" as "start at the folder's UIDNEXT"; a date asks for a
    // backfill of every message whose INTERNALDATE is on or after it.
    since: s.since,
    enabled: s.enabled,
    state: s.enabled ? ('connecting' as const) : ('disabled' as const),
  } satisfies MailboxConnectionRow & Record<string, unknown>;
}

export type StoredFields = ReturnType<typeof storedFields>;

/** What a `beforeStore` (the connection test) may change in what is stored: a secret it rotated. */
export interface StoreOverrides {
  secret_encrypted?: string;
}

const conflict = (address: string) => new MailroomError('CONFLICT', `A mailbox for ${address} already exists in this tenant.`);
const withTenant = { tenant: { select: { slug: true } } } as const;

export interface Scope {
  /** Only this tenant's mailboxes (the API); absent: any tenant (the CLI). */
  tenantId?: number;
}

export async function addMailbox(
  db: PrismaClient,
  secretKey: Buffer,
  tenantId: number,
  input: unknown,
  options: { beforeStore?: (fields: StoredFields) => Promise<StoreOverrides | undefined | void>; policy?: ConnectionPolicy } = {},
): Promise<MailboxView> {
  const settings = parseMailboxInput(input, options.policy);
  const existing = await db.mailbox.findUnique({ where: { tenant_id_address: { tenant_id: tenantId, address: settings.address } } });
  if (existing) throw conflict(settings.address);
  const data = storedFields(settings, secretKey);
  Object.assign(data, await options.beforeStore?.(data));
  try {
    return toMailboxView(await db.mailbox.create({ data: { ...data, tenant_id: tenantId }, include: withTenant }));
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(settings.address);
    throw err;
  }
}

/** The stored row, secrets still encrypted: for the sync engine and the connection test only. */
export async function getMailboxRow(db: PrismaClient, id: number, scope: Scope = {}): Promise<Mailbox & { tenant: { slug: string } }> {
  const row = await db.mailbox.findFirst({ where: { id, ...(scope.tenantId === undefined ? {} : { tenant_id: scope.tenantId }) }, include: withTenant });
  if (!row) throw new MailroomError('NOT_FOUND', `No mailbox with id ${id}.`);
  return row;
}

export async function getMailbox(db: PrismaClient, id: number, scope: Scope = {}): Promise<MailboxView> {
  return toMailboxView(await getMailboxRow(db, id, scope));
}

/** Oldest first; `page` absent: every mailbox. */
export async function listMailboxes(db: PrismaClient, options: Scope & { page?: PageRequest } = {}): Promise<{ mailboxes: MailboxView[]; total: number }> {
  const where: Prisma.MailboxWhereInput = options.tenantId === undefined ? {} : { tenant_id: options.tenantId };
  const [rows, total] = await Promise.all([
    db.mailbox.findMany({ where, include: withTenant, orderBy: { id: 'asc' }, ...(options.page ? pageWindow(options.page) : {}) }),
    db.mailbox.count({ where }),
  ]);
  return { mailboxes: rows.map(toMailboxView), total };
}

/** Disabling parks the mailbox; enabling starts it afresh (a new connection, failures forgotten). */
export async function setMailboxEnabled(db: PrismaClient, id: number, enabled: boolean, scope: Scope = {}): Promise<MailboxView> {
  const row = await getMailboxRow(db, id, scope);
  const data = { enabled, ...transition(row, { type: enabled ? 'enabled' : 'disabled' }) };
  return toMailboxView(await db.mailbox.update({ where: { id }, data, include: withTenant }));
}

/** Deletes the mailbox and its ingest log; its tickets and conversations stay. */
export async function removeMailbox(db: PrismaClient, id: number, scope: Scope = {}): Promise<MailboxView> {
  const view = toMailboxView(await getMailboxRow(db, id, scope));
  await db.mailbox.delete({ where: { id } });
  return view;
}

/**
 * For PATCH and `mailroom mailbox edit`: only the fields given change; secrets are replaced,
 * never read back. `beforeStore` (the connection test) runs only when a change needs a new
 * connection (server, account, folder, credentials, CA), with the settings as they would be
 * stored; throwing there stores nothing.
 */
export async function updateMailbox(
  db: PrismaClient,
  secretKey: Buffer,
  id: number,
  patch: unknown,
  scope: Scope = {},
  options: { policy?: ConnectionPolicy; beforeStore?: (row: Mailbox) => Promise<StoreOverrides | undefined | void> } = {},
): Promise<MailboxView> {
  const row = await getMailboxRow(db, id, scope);
  const parsed = patchSchema.safeParse(patch);
  if (!parsed.success) throw invalid(problemsOf(parsed.error));
  const p = parsed.data;
  const auth = p.auth ?? row.auth;
  const authChanged = auth !== row.auth;
  const oauth = auth === 'oauth2';
  const merged = { ...p, oauth_token_url: p.oauth_token_url ?? row.oauth_token_url, oauth_client_id: p.oauth_client_id ?? row.oauth_client_id };
  const problems = [...credentialProblems(auth, oauth ? merged : p, authChanged), ...policyProblems(options.policy, p)];
  // Secrets are write-only: a stored one must never be sent somewhere it was not entered for. So
  // pointing the mailbox at another server (or dropping TLS), or at another token endpoint, needs it again.
  if (!authChanged) {
    const moved = changed(p, row, ['host', 'port', 'tls']) || (oauth && changed(p, row, ['oauth_token_url']));
    const again = 'must be given again when host, port, tls or oauth_token_url changes';
    if (moved && (oauth ? p.refresh_token : p.password) === undefined) problems.push({ field: oauth ? 'refresh_token' : 'password', message: again });
    if (moved && oauth && row.oauth_client_secret_encrypted !== null && p.oauth_client_secret === undefined) problems.push({ field: 'oauth_client_secret', message: again });
  }
  if (problems.length) throw invalid(problems);

  const address = p.address ?? row.address;
  if (address !== row.address && (await db.mailbox.findUnique({ where: { tenant_id_address: { tenant_id: row.tenant_id, address } } }))) throw conflict(address);
  const newSecret = oauth ? p.refresh_token : p.password;
  // Plain values only (no Prisma update operators): `data` is also the patch of the row the connection test sees.
  const data: Partial<Mailbox> = {
    ...pick(p, ['address', 'host', 'port', 'tls', 'username', 'folder', 'poll_seconds', 'since', 'oauth_token_url', 'oauth_client_id', 'oauth_scope', 'tls_ca_pem']),
    ...(p.aliases !== undefined || p.address !== undefined ? { aliases: cleanAliases(p.aliases ?? row.aliases, address) } : {}),
    ...(p.post_action ?? {}),
    ...(newSecret !== undefined ? { secret_encrypted: encryptSecret(newSecret, secretKey) } : {}),
    ...(p.oauth_client_secret !== undefined ? { oauth_client_secret_encrypted: p.oauth_client_secret ? encryptSecret(p.oauth_client_secret, secretKey) : null } : {}),
    ...(authChanged ? { auth } : {}),
    ...(authChanged && !oauth ? { oauth_token_url: null, oauth_client_id: null, oauth_client_secret_encrypted: null, oauth_scope: null } : {}),
  };
  // Another server, account or folder: the old cursor means nothing there. Like a new
  // mailbox, it then starts at UIDNEXT (or at `since`).
  if (changed(p, row, ['host', 'username', 'folder'])) data.cursor = resetCursor();
  // An earlier backfill start: the folder is read again from its first message, so the mail
  // between the new and the old start is ingested; what is already stored is recognised by its
  // source key and stays as it is (nothing doubled).
  if (p.since !== undefined && backfillStart({ ...row, since: p.since }) < backfillStart(row)) data.cursor = resetCursor();
  const enabled = p.enabled ?? row.enabled;
  if (p.enabled !== undefined) data.enabled = enabled;
  const reconnect = changed(p, row, ['host', 'port', 'tls', 'username', 'folder', 'oauth_token_url', 'oauth_client_id', 'oauth_scope', 'tls_ca_pem']) || newSecret !== undefined || authChanged || p.oauth_client_secret !== undefined;
  // New credentials or server: try again now (an auth_error is not retried on its own).
  if (!enabled) Object.assign(data, transition(row, { type: 'disabled' }));
  else if (reconnect || (p.enabled === true && !row.enabled)) Object.assign(data, transition(row, { type: reconnect ? 'reconfigured' : 'enabled' }));
  if (reconnect) Object.assign(data, await options.beforeStore?.({ ...row, ...data }));
  try {
    return toMailboxView(await db.mailbox.update({ where: { id }, data, include: withTenant }));
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(address);
    throw err;
  }
}

/** Where a mailbox's ingestion starts (by INTERNALDATE): its `since`, else when it was added. */
export function backfillStart(row: { since: Date | null; created: Date }): Date {
  return row.since ?? row.created;
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

function changed<K extends string>(patch: Partial<Record<K, unknown>>, row: Record<K, unknown>, keys: K[]): boolean {
  return keys.some((k) => patch[k] !== undefined && patch[k] !== row[k]);
}
