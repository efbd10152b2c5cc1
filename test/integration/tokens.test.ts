// The API token life cycle end to end, against the run's PostgreSQL: an ADMIN
// lists, creates and revokes the tenant's tokens through /api/{tenant}/v1/tokens
// (a USER may not, another tenant's id is not found), a revoked or expired token
// answers 401 from the next request on, and last use is recorded — at most once
// a minute. The operator's side (`mailroom token ...`) runs the real CLI.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/prisma.js';
import { authenticateToken, createToken } from '../../src/tokens/service.js';
import { bearer, buildTestApp, createApiTenant, type ApiTenant, type TestApp, type Wrapped } from '../support/api.js';
import { runCli } from '../support/cli.js';
import { childEnv } from '../support/env.js';
import type { TokenView } from '../../src/tokens/service.js';

let testApp: TestApp;
let app: FastifyInstance;
let db: PrismaClient;
let acme: ApiTenant;
let globex: ApiTenant;

/** A row as the API answers it (the token itself only on create). */
type TokenRow = TokenView & { token?: string };

beforeAll(async () => {
  testApp = await buildTestApp();
  ({ app, db } = testApp);
  acme = await createApiTenant(db, 'acme');
  globex = await createApiTenant(db, 'globex');
});

afterAll(async () => {
  await testApp?.close();
});

const tokens = (tenant: ApiTenant, token: string, path = '', init: { method?: 'GET' | 'POST' | 'DELETE'; payload?: unknown } = {}) =>
  app.inject({ method: init.method ?? 'GET', url: `/api/${tenant.slug}/v1/tokens${path}`, headers: bearer(token), ...(init.payload === undefined ? {} : { payload: init.payload as object }) });

/** A request any valid token of the tenant may make. */
const ticketsWith = (tenant: ApiTenant, token: string) => app.inject({ url: `/api/${tenant.slug}/v1/tickets`, headers: bearer(token) });

describe('POST /tokens', () => {
  it('creates a token with an expiry, shows it once, and the token works', async () => {
    const before = Date.now();
    const res = await tokens(acme, acme.adminToken, '', { method: 'POST', payload: { role: 'user', user: 'Agent@Acme.test', expires_in: '90d' } });
    expect(res.statusCode).toBe(200);
    const created = res.json<Wrapped<TokenRow>>().data;
    expect(created).toMatchObject({ tenant: acme.slug, role: 'USER', user: 'agent@acme.test', state: 'active', last_used_at: null, revoked_at: null });
    expect(created.token).toMatch(/^mr_[A-Za-z0-9_-]{43}$/);
    expect(created.token?.startsWith(created.token_prefix)).toBe(true);
    const expires = Date.parse(created.expires_at ?? '');
    expect(expires - before).toBeGreaterThanOrEqual(90 * 86_400_000);
    expect(expires - before).toBeLessThan(90 * 86_400_000 + 60_000);
    expect((await ticketsWith(acme, created.token ?? '')).statusCode).toBe(200);

    // The token is in that answer only: neither the list nor the single read carries it.
    const list = await tokens(acme, acme.adminToken);
    expect(list.body).not.toContain(created.token);
    const one = await tokens(acme, acme.adminToken, `/${created.id}`);
    expect(one.json<Wrapped<TokenRow>>().data).not.toHaveProperty('token');
    expect(one.body).not.toContain(created.token);
  });

  it('answers 400 naming each bad field', async () => {
    const res = await tokens(acme, acme.adminToken, '', { method: 'POST', payload: { role: 'ROOT', expires_in: '3 months', scope: 'all' } });
    expect(res.statusCode).toBe(400);
    const fields = res.json<Wrapped>().errors.map((e) => e.field).sort();
    expect(fields).toEqual(['expires_in', 'role', 'scope']);
    const missing = await tokens(acme, acme.adminToken, '', { method: 'POST', payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json<Wrapped>().errors).toEqual([expect.objectContaining({ field: 'role', message: 'role is required' })]);
    const badUser = await tokens(acme, acme.adminToken, '', { method: 'POST', payload: { role: 'USER', user: 'ops\u001b[2J@acme.test' } });
    expect(badUser.statusCode).toBe(400);
    expect(badUser.json<Wrapped>().errors[0]?.field).toBe('user');
    for (const expires_in of ['0d', '1.5h', '10y', '3651d', '-1d', 12]) {
      const r = await tokens(acme, acme.adminToken, '', { method: 'POST', payload: { role: 'USER', expires_in } });
      expect(r.statusCode, String(expires_in)).toBe(400);
      expect(r.json<Wrapped>().errors[0]?.field).toBe('expires_in');
    }
  });
});

describe('GET /tokens', () => {
  it("lists the tenant's tokens with last use, never a token or its hash", async () => {
    const fresh = await createToken(db, { tenantSlug: acme.slug, role: 'ADMIN', userEmail: 'lead@acme.test' });
    const listed = async () => (await tokens(acme, acme.adminToken, '?page_size=200')).json<Wrapped<TokenRow[]>>();
    const first = await listed();
    expect(first.meta).toMatchObject({ page: 1, page_size: 200, total: first.data.length });
    expect(first.data.every((t) => t.tenant === acme.slug)).toBe(true);
    expect(first.data.find((t) => t.id === fresh.id)).toMatchObject({ role: 'ADMIN', user: 'lead@acme.test', last_used_at: null, expires_at: null, state: 'active' });
    const raw = JSON.stringify(first);
    expect(raw).not.toContain(acme.adminToken);
    expect(raw).not.toContain(acme.userToken);
    expect(raw).not.toMatch(/[0-9a-f]{64}/);

    const used = Date.now();
    expect((await ticketsWith(acme, fresh.token)).statusCode).toBe(200);
    const lastUsed = (await listed()).data.find((t) => t.id === fresh.id)?.last_used_at;
    expect(Date.parse(lastUsed ?? '')).toBeGreaterThanOrEqual(used - 1000);
  });

  it('writes last use at most once a minute per token', async () => {
    const fresh = await createToken(db, { tenantSlug: acme.slug, role: 'USER' });
    const stored = async () => (await db.apiToken.findUniqueOrThrow({ where: { id: fresh.id } })).last_used_at;
    await authenticateToken(db, fresh.token, new Date('2030-01-01T10:00:00Z'));
    expect(await stored()).toEqual(new Date('2030-01-01T10:00:00Z'));
    // Many uses within the minute: no new write.
    for (const second of [1, 20, 59]) await authenticateToken(db, fresh.token, new Date(`2030-01-01T10:00:${String(second).padStart(2, '0')}Z`));
    expect(await stored()).toEqual(new Date('2030-01-01T10:00:00Z'));
    await authenticateToken(db, fresh.token, new Date('2030-01-01T10:01:00Z'));
    expect(await stored()).toEqual(new Date('2030-01-01T10:01:00Z'));
  });
});

describe('DELETE /tokens/{id}', () => {
  it('revokes: the token answers 401 from the next request on', async () => {
    const victim = await createToken(db, { tenantSlug: acme.slug, role: 'USER' });
    expect((await ticketsWith(acme, victim.token)).statusCode).toBe(200);
    const res = await tokens(acme, acme.adminToken, `/${victim.id}`, { method: 'DELETE' });
    expect(res.statusCode).toBe(200);
    expect(res.json<Wrapped<TokenRow>>().data).toMatchObject({ id: victim.id, state: 'revoked' });
    const revokedAt = res.json<Wrapped<TokenRow>>().data.revoked_at;
    expect(revokedAt).not.toBeNull();
    const after = await ticketsWith(acme, victim.token);
    expect(after.statusCode).toBe(401);
    expect(after.json<Wrapped>().errors[0]?.code).toBe('UNAUTHORIZED');
    // Again: nothing changes, the first revocation time stays.
    const again = await tokens(acme, acme.adminToken, `/${victim.id}`, { method: 'DELETE' });
    expect(again.statusCode).toBe(200);
    expect(again.json<Wrapped<TokenRow>>().data.revoked_at).toBe(revokedAt);
  });

  it("answers 404 for another tenant's token id, and leaves that token working", async () => {
    const theirs = await createToken(db, { tenantSlug: globex.slug, role: 'ADMIN' });
    const del = await tokens(acme, acme.adminToken, `/${theirs.id}`, { method: 'DELETE' });
    expect(del.statusCode).toBe(404);
    expect((await tokens(acme, acme.adminToken, `/${theirs.id}`)).statusCode).toBe(404);
    expect((await ticketsWith(globex, theirs.token)).statusCode).toBe(200);
  });
});

describe('expiry', () => {
  it('an expired token answers 401', async () => {
    const soon = await createToken(db, { tenantSlug: acme.slug, role: 'ADMIN', expiresInMs: 60_000 });
    expect((await ticketsWith(acme, soon.token)).statusCode).toBe(200);
    // The minute passes.
    await db.apiToken.update({ where: { id: soon.id }, data: { expires_at: new Date(Date.now() - 1) } });
    expect((await ticketsWith(acme, soon.token)).statusCode).toBe(401);
    expect((await tokens(acme, soon.token)).statusCode).toBe(401);
    const listed = (await tokens(acme, acme.adminToken, '?page_size=200')).json<Wrapped<TokenRow[]>>().data;
    expect(listed.find((t) => t.id === soon.id)?.state).toBe('expired');
  });
});

describe('who may manage tokens', () => {
  it('401 without a valid token, 403 for a USER or another tenant, before any 400', async () => {
    const none = await app.inject({ method: 'POST', url: `/api/${acme.slug}/v1/tokens`, payload: { role: 'nope' } });
    expect(none.statusCode).toBe(401);
    const user = await tokens(acme, acme.userToken);
    expect(user.statusCode).toBe(403);
    const userCreate = await tokens(acme, acme.userToken, '', { method: 'POST', payload: { role: 'ADMIN' } });
    expect(userCreate.statusCode).toBe(403);
    const userBad = await tokens(acme, acme.userToken, '', { method: 'POST', payload: { role: 'nope' } });
    expect(userBad.statusCode).toBe(403);
    const userRevoke = await tokens(acme, acme.userToken, '/1', { method: 'DELETE' });
    expect(userRevoke.statusCode).toBe(403);
    const otherTenant = await tokens(globex, acme.adminToken);
    expect(otherTenant.statusCode).toBe(403);
    const badId = await tokens(acme, acme.adminToken, '/abc', { method: 'DELETE' });
    expect(badId.statusCode).toBe(400);
    expect(badId.json<Wrapped>().errors[0]?.field).toBe('id');
    expect((await tokens(acme, acme.adminToken, '/2147483647', { method: 'DELETE' })).statusCode).toBe(404);
  });
});

describe('mailroom token create|list|revoke', () => {
  it('creates with --expires-in, lists without the token, revokes by id', async () => {
    const env = childEnv();
    const created = await runCli(['token', 'create', '--tenant', globex.slug, '--role', 'USER', '--user', 'cli@globex.test', '--expires-in', '12h'], { env });
    expect(created.code).toBe(0);
    const token = created.stdout.trimEnd().split('\n').pop() ?? '';
    expect(token).toMatch(/^mr_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/Created USER token \d+ for cli@globex\.test in tenant globex-\w+ \(expires \d{4}-\d\d-\d\dT/);
    expect((await ticketsWith(globex, token)).statusCode).toBe(200);

    const listed = await runCli(['token', 'list', '--tenant', globex.slug, '--json'], { env });
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(token);
    const rows = JSON.parse(listed.stdout) as TokenRow[];
    const mine = rows.find((r) => r.user === 'cli@globex.test');
    expect(mine).toMatchObject({ tenant: globex.slug, role: 'USER', state: 'active' });
    expect(mine?.last_used_at).not.toBeNull();
    expect(Date.parse(mine?.expires_at ?? '') - Date.parse(mine?.created ?? '')).toBeGreaterThanOrEqual(12 * 3_600_000 - 1000);

    // --tenant on revoke is a guard: another tenant's id is not found there.
    const wrongTenant = await runCli(['token', 'revoke', '--tenant', acme.slug, String(mine?.id)], { env });
    expect(wrongTenant.code).toBe(1);
    expect(wrongTenant.stderr).toContain(`Token ${mine?.id} does not exist in this tenant.`);
    const revoked = await runCli(['token', 'revoke', String(mine?.id)], { env });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked token ${mine?.id} (USER, cli@globex.test, tenant ${globex.slug})`);
    expect((await ticketsWith(globex, token)).statusCode).toBe(401);
    // Four runs of the real CLI (tsx compiles on each start): generous on a loaded machine.
  }, 180_000);
});

describe('/docs', () => {
  it('documents the token routes', async () => {
    const res = await app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const paths = res.json<{ paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>> }>().paths;
    expect(Object.keys(paths['/api/{tenant}/v{version}/tokens'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths['/api/{tenant}/v{version}/tokens/{id}'] ?? {}).sort()).toEqual(['delete', 'get']);
    const body = paths['/api/{tenant}/v{version}/tokens']?.post?.requestBody?.content['application/json']?.schema;
    expect(Object.keys(body?.properties ?? {}).sort()).toEqual(['expires_in', 'role', 'user']);
  });
});
