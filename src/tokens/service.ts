// API tokens of a tenant: create (shown once), list, revoke, and authenticate a
// presented token. A token belongs to a user (the one named, created on first
// use, or the tenant's system user) and has a role, USER or ADMIN. The CLI
// (`mailroom token ...`) and the API (`/api/{tenant}/v1/tokens`) call these
// same functions, so the two cannot drift. Lists never carry the token or its
// hash, only the short display prefix it was created with.
//
// Authentication reads the row on every request (no cache): a revoke or an
// expiry takes effect from the next request on, in every replica.
import type { PrismaClient } from '../db/prisma.js';
import type { PageRequest } from '../db/page.js';
import { pageWindow } from '../db/page.js';
import { MailroomError } from '../errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { requireTenant } from '../tenants/service.js';
import { LAST_USED_GRANULARITY_MS, lastUseIsStale, tokenState, tokenUsable, type TokenState } from './lifecycle.js';
import type { Principal, Role } from './principal.js';
import { generateToken, hashToken, tokenDisplayPrefix } from './tokens.js';
import { hasControlChars } from '../util/controls.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A token as lists show it: never the token itself, never its hash. */
export interface TokenView {
  id: number;
  tenant: string;
  role: Role;
  /** The email of the token's user. */
  user: string;
  /** The first characters of the token, to recognise it by. */
  token_prefix: string;
  created: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  state: TokenState;
}

/** A new token: its view plus the token, which is shown this once. */
export interface CreatedToken extends TokenView {
  token: string;
}

export interface CreateTokenInput {
  tenantSlug: string;
  role: Role;
  userEmail?: string | undefined;
  /** How long the token lives; absent: it does not expire. */
  expiresInMs?: number | undefined;
}

const withNames = { tenant: { select: { slug: true } }, user: { select: { email: true } } } as const;
type Row = Prisma.ApiTokenGetPayload<{ include: typeof withNames }>;

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function toTokenView(row: Row, now: Date = new Date()): TokenView {
  return {
    id: row.id,
    tenant: row.tenant.slug,
    role: row.role,
    user: row.user.email,
    token_prefix: row.token_prefix,
    created: row.created.toISOString(),
    last_used_at: iso(row.last_used_at),
    expires_at: iso(row.expires_at),
    revoked_at: iso(row.revoked_at),
    state: tokenState(row, now),
  };
}

export async function createToken(db: PrismaClient, input: CreateTokenInput): Promise<CreatedToken> {
  const tenant = await requireTenant(db, input.tenantSlug);
  let user;
  if (input.userEmail !== undefined) {
    const email = input.userEmail.trim().toLowerCase();
    if (!EMAIL.test(email) || hasControlChars(email) || email.length > 254) {
      throw new MailroomError('VALIDATION', 'user must be an email address.', { fields: [{ field: 'user', message: 'user must be an email address' }] });
    }
    user = await db.user.upsert({
      where: { tenant_id_email: { tenant_id: tenant.id, email } },
      create: { tenant_id: tenant.id, email, name: email.split('@')[0] ?? email },
      update: {},
    });
  } else {
    user = await db.user.findFirst({ where: { tenant_id: tenant.id, is_system: true } });
    if (!user) throw new MailroomError('NOT_FOUND', `Tenant "${tenant.slug}" has no system user.`);
  }
  const token = generateToken();
  const expires_at = input.expiresInMs === undefined ? null : new Date(Date.now() + input.expiresInMs);
  const row = await db.apiToken.create({
    data: { tenant_id: tenant.id, user_id: user.id, role: input.role, token_hash: hashToken(token), token_prefix: tokenDisplayPrefix(token), expires_at },
    include: withNames,
  });
  return { ...toTokenView(row), token };
}

/** Tokens of one tenant (or of every tenant, for the operator's CLI), oldest first. */
export async function listTokens(db: PrismaClient, options: { tenantId?: number; page?: PageRequest } = {}): Promise<{ tokens: TokenView[]; total: number }> {
  const where: Prisma.ApiTokenWhereInput = options.tenantId === undefined ? {} : { tenant_id: options.tenantId };
  const [rows, total] = await Promise.all([
    db.apiToken.findMany({ where, include: withNames, orderBy: { id: 'asc' }, ...(options.page ? pageWindow(options.page) : {}) }),
    db.apiToken.count({ where }),
  ]);
  const now = new Date();
  return { tokens: rows.map((r) => toTokenView(r, now)), total };
}

/** One token; another tenant's token is simply not found. */
export async function getToken(db: PrismaClient, id: number, scope: { tenantId?: number } = {}): Promise<TokenView> {
  const row = await db.apiToken.findFirst({ where: { id, ...(scope.tenantId === undefined ? {} : { tenant_id: scope.tenantId }) }, include: withNames });
  if (!row) throw new MailroomError('NOT_FOUND', `Token ${id} does not exist${scope.tenantId === undefined ? '' : ' in this tenant'}.`);
  return toTokenView(row);
}

/**
 * Revokes a token: from the next request on it answers 401, and the dashboard
 * sessions it opened end. Revoking a revoked token changes nothing (its first
 * revocation time stays) and is not an error.
 */
export async function revokeToken(db: PrismaClient, id: number, scope: { tenantId?: number } = {}): Promise<{ token: TokenView; alreadyRevoked: boolean }> {
  const before = await getToken(db, id, scope);
  if (before.revoked_at !== null) return { token: before, alreadyRevoked: true };
  await db.apiToken.updateMany({ where: { id, revoked_at: null }, data: { revoked_at: new Date() } });
  return { token: await getToken(db, id, scope), alreadyRevoked: false };
}

/**
 * The principal of a presented token, or null when it is unknown, revoked or
 * expired. The token is looked up by its sha256 (the secret itself is never
 * compared). Its last use is written at most once a minute, by a conditional
 * update, so concurrent requests and replicas write it once between them.
 */
export async function authenticateToken(db: PrismaClient, token: string, now: Date = new Date()): Promise<Principal | null> {
  const row = await db.apiToken.findUnique({ where: { token_hash: hashToken(token) }, include: { tenant: { select: { slug: true } } } });
  if (!row || !tokenUsable(row, now)) return null;
  if (lastUseIsStale(row.last_used_at, now)) {
    const staleBefore = new Date(now.getTime() - LAST_USED_GRANULARITY_MS);
    await db.apiToken
      .updateMany({ where: { id: row.id, OR: [{ last_used_at: null }, { last_used_at: { lte: staleBefore } }] }, data: { last_used_at: now } })
      // Recording the use is bookkeeping: a failure to write it must not refuse the request.
      .catch(() => undefined);
  }
  return { tokenId: row.id, tenantId: row.tenant_id, tenantSlug: row.tenant.slug, userId: row.user_id, role: row.role };
}
