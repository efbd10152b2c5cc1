// /admin/queues (bull-board) end to end: real queues on the run's Redis, the app
// listening on 127.0.0.1, and Debian's Chromium driven by playwright-core doing
// what an operator does — land on the login page, try a USER token, log in with
// the ADMIN token and read the queue counts. curl's way in (HTTP Basic) and the
// refusals are checked with app.inject(). The run's database holds many
// tenants, so the app is the operators' install (MAILROOM_OPS_TENANT); the rule
// without it is checked against a fresh database of its own.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, sessionCookie } from '../../src/api/admin-session.js';
import { NO_OPS_TENANT } from '../../src/api/routes/admin-queues.js';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.js';
import {
  QUEUE_NAMES,
  attachmentJobsFor,
  closeQueues,
  createQueues,
  createRedisConnection,
  enqueueAttachmentJobs,
  requestMailboxSyncUnique,
  type Queues,
} from '../../src/queues/queues.js';
import { blobKeyFor, sha256Hex } from '../../src/storage/blob-store.js';
import { createTenant } from '../../src/tenants/service.js';
import { createToken } from '../../src/tokens/service.js';
import { bearer, buildTestApp, createApiTenant, type ApiTenant, type TestApp } from '../support/api.js';
import { createTestDatabase, dropTestDatabase } from '../support/database.js';
import { testEnv, testPrisma } from '../support/env.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const SCREENSHOT = path.resolve('test-artifacts/admin-queues.png');
if (!HAS_CHROMIUM && process.env.MAILROOM_REQUIRE_BROWSER === '1') {
  // CI installs Chromium and sets this: there, a missing browser is a failure, not a skip.
  throw new Error(`admin-queues: no Chromium at ${CHROMIUM}, and MAILROOM_REQUIRE_BROWSER=1`);
}
if (!HAS_CHROMIUM) {
  console.warn(`admin-queues: no Chromium at ${CHROMIUM}; the browser test is skipped (apt-get install -y chromium, or set CHROMIUM_PATH).`);
}

let testApp: TestApp;
let app: FastifyInstance;
let db: PrismaClient;
let redis: Redis;
let connection: Redis;
let queues: Queues;
let prefix: string;
let tenant: ApiTenant;
let baseUrl: string;

const basic = (token: string) => `Basic ${Buffer.from(`ops:${token}`).toString('base64')}`;

/** Waits for a condition with a deadline instead of sleeping a fixed time. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  const env = testEnv();
  // Own queues under the run's prefix (global teardown deletes them); the
  // login sessions go under the same prefix through the app's config.
  prefix = `${env.queuePrefix}-${randomBytes(4).toString('hex')}`;
  connection = createRedisConnection(env.redisUrl);
  queues = createQueues({ connection, prefix });
  db = testPrisma();
  tenant = await createApiTenant(db, 'ops');
  testApp = await buildTestApp({ db, queues, env: { MAILROOM_QUEUE_PREFIX: prefix, MAILROOM_OPS_TENANT: tenant.slug } });
  ({ app, redis } = testApp);

  // Three attachment jobs waiting (made as the sync makes them, from rows with blob keys), one mailbox sync that failed.
  await enqueueAttachmentJobs(queues.attachments, attachmentJobsFor([1, 2, 3].map((n) => ({ id: n, tenantId: tenant.id, storageKey: blobKeyFor(sha256Hex(Buffer.from(`attachment ${n}`))) }))));
  await requestMailboxSyncUnique(queues.sync, 1, 'admin-queues');
  const workerConnection = createRedisConnection(env.redisUrl);
  const worker = new Worker(
    QUEUE_NAMES.sync,
    async () => {
      throw new Error('IMAP login refused');
    },
    { connection: workerConnection, prefix },
  );
  try {
    await until('the sync job to fail', async () => (await queues.sync.getJobCounts('failed')).failed === 1);
  } finally {
    await worker.close();
    await workerConnection.quit();
  }

  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await testApp?.close();
  await db?.$disconnect();
  if (queues) await closeQueues(queues);
  await connection?.quit();
});

describe('/admin/queues for scripts (HTTP Basic)', () => {
  it('lists both queues with their counts for the ADMIN token as the Basic password', async () => {
    const res = await app.inject({ url: '/admin/queues/api/queues', headers: { authorization: basic(tenant.adminToken) } });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ queues: { name: string; counts: Record<string, number>; readOnlyMode: boolean }[] }>();
    const byName = new Map(body.queues.map((q) => [q.name, q]));
    expect(byName.get('attachments')?.counts).toMatchObject({ waiting: 3, failed: 0 });
    expect(byName.get('mailbox-sync')?.counts).toMatchObject({ failed: 1, waiting: 0 });
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('answers 401 to a wrong token, 403 to a USER token, and 401 with a Basic challenge to no credentials', async () => {
    const wrong = await app.inject({ url: '/admin/queues/api/queues', headers: { authorization: basic('mr_not-a-real-token') } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic /);
    const user = await app.inject({ url: '/admin/queues/api/queues', headers: { authorization: basic(tenant.userToken) } });
    expect(user.statusCode).toBe(403);
    const none = await app.inject({ url: '/admin/queues/api/queues' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm="Mailroom admin"/);
    const page = await app.inject({ url: '/admin/queues', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe('/admin/login');
  });

  it('is read-only: actions that change shared queues are refused', async () => {
    const headers = { authorization: basic(tenant.adminToken) };
    const pause = await app.inject({ method: 'PUT', url: '/admin/queues/api/queues/attachments/pause', headers });
    expect(pause.statusCode).toBe(405);
    const retry = await app.inject({ method: 'PUT', url: '/admin/queues/api/queues/mailbox-sync/retry/failed', headers });
    expect(retry.statusCode).toBe(405);
    expect(await queues.attachments.isPaused()).toBe(false);
    expect((await queues.sync.getJobCounts('failed')).failed).toBe(1);
  });
});

describe('job payloads on the dashboard', () => {
  it("carry ids only: no blob key, which is the sha256 of a customer's file", async () => {
    const res = await app.inject({ url: '/admin/queues/api/queues?activeQueue=attachments&status=waiting&page=1&jobsPerPage=10', headers: { authorization: basic(tenant.adminToken) } });
    expect(res.statusCode).toBe(200);
    const attachments = res.json<{ queues: { name: string; jobs: { data: unknown }[] }[] }>().queues.find((q) => q.name === 'attachments');
    expect(attachments?.jobs.map((j) => j.data)).toEqual(expect.arrayContaining([1, 2, 3].map((n) => ({ attachmentId: n, tenantId: tenant.id }))));
    expect(attachments?.jobs).toHaveLength(3);
    expect(res.body).not.toContain(sha256Hex(Buffer.from('attachment 1')));
    expect(res.body).not.toMatch(/[0-9a-f]{64}/);
  });
});

describe('/admin/queues without MAILROOM_OPS_TENANT', () => {
  const form = (target: FastifyInstance, token: string) =>
    target.inject({ method: 'POST', url: '/admin/login', payload: new URLSearchParams({ token }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

  it('is closed to every ADMIN while more than one tenant exists (their login opens only their console), and the login page says so', async () => {
    const open = await buildTestApp({ db, queues, env: { MAILROOM_QUEUE_PREFIX: prefix } });
    try {
      // The run's database: this file's tenants (a customer besides the operators) and every other file's.
      await createApiTenant(db, 'other');
      expect(await db.tenant.count()).toBeGreaterThan(1);
      const page = await open.app.inject({ url: '/admin/login' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('MAILROOM_OPS_TENANT');
      expect(page.body).toMatch(/role="alert">Queue dashboard closed: /);
      const viaBasic = await open.app.inject({ url: '/admin/queues/api/queues', headers: { authorization: basic(tenant.adminToken) } });
      expect(viaBasic.statusCode).toBe(403);
      expect(viaBasic.json<{ message: string }>().message).toBe(NO_OPS_TENANT);
      const login = await form(open.app, tenant.adminToken);
      expect(login.statusCode).toBe(303);
      const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
      const board = await open.app.inject({ url: '/admin/queues/api/queues', headers: { cookie } });
      expect(board.statusCode).toBe(403);
      expect(board.json<{ message: string }>().message).toBe(NO_OPS_TENANT);
      expect((await open.app.inject({ url: '/admin', headers: { cookie } })).statusCode).toBe(200);
    } finally {
      await open.close();
    }
  });

  it("is open to a single tenant's ADMIN, and closes (to sessions too, which keep their console) once a second tenant is created", async () => {
    const fresh = await createTestDatabase();
    const freshDb = createPrisma(fresh.url, { max: 2 });
    const single = await buildTestApp({ db: freshDb, queues, env: { MAILROOM_QUEUE_PREFIX: prefix } });
    try {
      const only = await createApiTenant(freshDb, 'solo');
      const page = await single.app.inject({ url: '/admin/login' });
      expect(page.body).not.toContain('dashboard closed');
      expect(page.body).toContain('MAILROOM_OPS_TENANT');
      const viaBasic = () => single.app.inject({ url: '/admin/queues/api/queues', headers: { authorization: basic(only.adminToken) } });
      expect((await viaBasic()).statusCode).toBe(200);
      const login = await form(single.app, only.adminToken);
      expect(login.statusCode).toBe(303);
      const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
      expect((await single.app.inject({ url: '/admin/queues/api/queues', headers: { cookie } })).statusCode).toBe(200);

      await createTenant(freshDb, { slug: 'second-customer' });
      expect((await viaBasic()).statusCode).toBe(403);
      const after = await single.app.inject({ url: '/admin/queues/api/queues', headers: { cookie } });
      expect(after.statusCode).toBe(403);
      expect(after.json<{ message: string }>().message).toBe(NO_OPS_TENANT);
      expect(after.headers['set-cookie']).toBeUndefined();
    } finally {
      await single.close();
      await freshDb.$disconnect();
      await dropTestDatabase(fresh.name);
    }
  });
});

describe('/admin/queues with MAILROOM_OPS_TENANT', () => {
  it("refuses the ADMIN tokens of every other tenant, by Basic auth or after a login (which is for their console)", async () => {
    const scoped = await buildTestApp({ db, queues, env: { MAILROOM_QUEUE_PREFIX: prefix, MAILROOM_OPS_TENANT: tenant.slug } });
    try {
      const customer = await createApiTenant(db, 'cust');
      const get = (token: string) => scoped.app.inject({ url: '/admin/queues/api/queues', headers: { authorization: basic(token) } });
      expect((await get(tenant.adminToken)).statusCode).toBe(200);
      const refused = await get(customer.adminToken);
      expect(refused.statusCode).toBe(403);
      expect(refused.body).toContain('MAILROOM_OPS_TENANT');
      const login = await scoped.app.inject({
        method: 'POST',
        url: '/admin/login',
        payload: new URLSearchParams({ token: customer.adminToken }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      // The login is the admin console's too, where a customer's ADMIN sees their own tenant; the board stays closed.
      expect(login.statusCode).toBe(303);
      const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
      const board = await scoped.app.inject({ url: '/admin/queues/api/queues', headers: { cookie } });
      expect(board.statusCode).toBe(403);
      expect(board.body).toContain('MAILROOM_OPS_TENANT');
      // Refused, not logged out: the console still works with the same session.
      expect(board.headers['set-cookie']).toBeUndefined();
      expect((await scoped.app.inject({ url: '/admin', headers: { cookie } })).statusCode).toBe(200);
    } finally {
      await scoped.close();
    }
  });
});

describe('/admin/login and the session cookie', () => {
  const form = (token: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/admin/login', payload: new URLSearchParams({ token }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });

  it('serves the login form and refuses unknown tokens and cross-site posts', async () => {
    const page = await app.inject({ url: '/admin/login' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toContain('<form method="post" action="/admin/login">');
    const wrong = await form('mr_not-a-real-token');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('Unknown, revoked or expired token.');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const crossSite = await form(tenant.adminToken, { origin: 'https://evil.example' });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.headers['set-cookie']).toBeUndefined();
  });

  it('ends a session as soon as its token is revoked', async () => {
    const created = await createToken(db, { tenantSlug: tenant.slug, role: 'ADMIN' });
    const login = await form(created.token);
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/admin');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=28800$`));
    const cookie = setCookie.split(';')[0] ?? '';
    expect((await app.inject({ url: '/admin/queues/api/queues', headers: { cookie } })).statusCode).toBe(200);
    await db.apiToken.update({ where: { id: created.id }, data: { revoked_at: new Date() } });
    const after = await app.inject({ url: '/admin/queues', headers: { cookie, accept: 'text/html' } });
    expect(after.statusCode).toBe(302);
    expect(after.headers.location).toBe('/admin/login');
    expect(String(after.headers['set-cookie'])).toContain(`${SESSION_COOKIE}=; Path=/admin`);
  });

  it('ends a session when its token is revoked through the API, and when its token expires', async () => {
    const session = async (token: string) => {
      const login = await form(token);
      expect(login.statusCode).toBe(303);
      return String(login.headers['set-cookie']).split(';')[0] ?? '';
    };
    const board = (cookie: string) => app.inject({ url: '/admin/queues/api/queues', headers: { cookie } });

    const revoked = await createToken(db, { tenantSlug: tenant.slug, role: 'ADMIN' });
    const revokedCookie = await session(revoked.token);
    expect((await board(revokedCookie)).statusCode).toBe(200);
    const del = await app.inject({ method: 'DELETE', url: `/api/${tenant.slug}/v1/tokens/${revoked.id}`, headers: bearer(tenant.adminToken) });
    expect(del.statusCode).toBe(200);
    expect((await board(revokedCookie)).statusCode).toBe(401);

    const expiring = await createToken(db, { tenantSlug: tenant.slug, role: 'ADMIN', expiresInMs: 60 * 60_000 });
    const expiringCookie = await session(expiring.token);
    expect((await board(expiringCookie)).statusCode).toBe(200);
    // The hour passes: the stored expiry moves into the past.
    await db.apiToken.update({ where: { id: expiring.id }, data: { expires_at: new Date(Date.now() - 1000) } });
    expect((await board(expiringCookie)).statusCode).toBe(401);
    const again = await form(expiring.token);
    expect(again.statusCode).toBe(401);
    expect(again.body).toContain('Unknown, revoked or expired token.');
  });

  it('marks the cookie Secure when Mailroom is served over https', () => {
    expect(sessionCookie('x'.repeat(43), { secure: true })).toMatch(/; Secure$/);
  });
});

describe.skipIf(!HAS_CHROMIUM)(`/admin/queues in headless Chromium (${CHROMIUM})`, () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('redirects to the login page, refuses a USER token, logs the ADMIN in and shows the queues with their counts', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();

    await page.goto(`${baseUrl}/admin/queues`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');

    await page.fill('input[name="token"]', tenant.userToken);
    const [refused] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    expect(refused?.status()).toBe(403);
    expect(await page.innerText('body')).toContain('This is a USER token; the admin console and the queue dashboard need an ADMIN token.');
    expect(await context.cookies()).toEqual([]);

    await page.fill('input[name="token"]', tenant.adminToken);
    // The login lands on the admin console, which links the board.
    await Promise.all([page.waitForURL(`${baseUrl}/admin`), page.click('button[type="submit"]')]);
    await Promise.all([page.waitForURL(`${baseUrl}/admin/queues`), page.getByRole('link', { name: 'Queues' }).click()]);

    // One card per queue (the board renders them client-side from its API).
    const card = (name: string) => page.locator('main li').filter({ has: page.locator(`a[title="${name}"]`) });
    await card('attachments').getByText('3 Jobs', { exact: true }).waitFor();
    await card('mailbox-sync').getByText('1 Job', { exact: true }).waitFor();
    expect(await card('attachments').innerText()).toMatch(/^attachments\b[\s\S]*\b3 Jobs$/);
    expect(await card('mailbox-sync').innerText()).toMatch(/^mailbox-sync\b[\s\S]*\bfailed\s*1\b[\s\S]*\b1 Job$/i);
    expect(await page.locator('a[href$="?status=waiting"]').innerText()).toMatch(/^WAITING\s*3$/);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    const cookie = cookies[0];
    expect(cookie).toMatchObject({ name: SESSION_COOKIE, httpOnly: true, sameSite: 'Strict', path: '/admin', secure: false });
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie?.value).not.toContain(tenant.adminToken);
    expect(page.url()).not.toContain(tenant.adminToken);
    // Redis holds the session under the run's prefix, keyed by a hash of the id and without the token.
    const sessionKey = `${prefix}:admin-session:${createHash('sha256').update(cookie?.value ?? '').digest('hex')}`;
    const stored = await redis.get(sessionKey);
    expect(stored).toMatch(/^\{"tokenId":\d+,"createdAt":"[^"]+"\}$/);
    expect(await redis.ttl(sessionKey)).toBeGreaterThan(7 * 3600);

    // A failed job's error is one click away.
    await page.goto(`${baseUrl}/admin/queues/queue/mailbox-sync?status=failed`);
    await page.getByText('IMAP login refused').first().waitFor();

    // Logging out ends the session on the server, not just in this browser.
    await page.goto(`${baseUrl}/admin/logout`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    expect(await context.cookies()).toEqual([]);
    const replay = await app.inject({ url: '/admin/queues/api/queues', headers: { cookie: `${SESSION_COOKIE}=${cookie?.value ?? ''}` } });
    expect(replay.statusCode).toBe(401);
    expect(replay.headers['www-authenticate']).toBeUndefined();
    await context.close();
  });
});
