// Mailbox admin over HTTP against the run's Dovecot, PostgreSQL and Redis:
// CRUD with the connection test, the auth order (401/403/400/404), tenant
// scoping, secrets that go in and never come out, the ingest log with its
// failed and duplicate rows, reprocess after a raised limit, and /metrics.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/prisma.js';
import { imapCursor, ingestMessage, type FetchedMessage, type IngestContext, type IngestMailbox } from '../support/ingest.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { attachmentJobId, closeQueues, createQueues, createRedisConnection, type Queues } from '../../src/queues/queues.js';
import { bearer, buildTestApp, createApiTenant, type ApiTenant, type TestApp, type Wrapped } from '../support/api.js';
import { addDovecotUser, freePort } from '../support/dovecot.js';
import { testEnv, testPrisma } from '../support/env.js';

const USER = `api-box-${randomBytes(4).toString('hex')}@example.test`;
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const NEW_PASSWORD = `pw2-${randomBytes(12).toString('hex')}`;
const SECRETS = [PASSWORD, NEW_PASSWORD, 'wrong-password-zz9'];

let db: PrismaClient;
let t: TestApp;
let app: FastifyInstance;
let connection: Redis;
let queues: Queues;
let a: ApiTenant;
let b: ApiTenant;
/** Every response body, to prove no secret is ever in one. */
const bodies: string[] = [];

beforeAll(async () => {
  const env = testEnv();
  db = testPrisma();
  await addDovecotUser(env.dovecot, USER, PASSWORD);
  connection = createRedisConnection(env.redisUrl);
  queues = createQueues({ connection, prefix: `${env.queuePrefix}-api-${randomBytes(4).toString('hex')}` });
  t = await buildTestApp({ db, queues, metrics: createMetrics() });
  app = t.app;
  a = await createApiTenant(db, 'apimbx');
  b = await createApiTenant(db, 'apimbx');
});

afterAll(async () => {
  await t.close();
  await closeQueues(queues);
  connection.disconnect();
  await db.$disconnect();
});

async function call<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, options: { token?: string | null; body?: unknown; tenant?: string } = {}) {
  const token = options.token === undefined ? a.adminToken : options.token;
  const res: LightMyRequestResponse = await app.inject({
    method,
    url: `/api/${options.tenant ?? a.slug}/v1/${url}`,
    headers: token ? bearer(token) : {},
    ...(options.body === undefined ? {} : { payload: options.body as object }),
  });
  bodies.push(res.body);
  return { status: res.statusCode, body: res.json<Wrapped<T>>() };
}

type MailboxJson = Record<string, unknown> & { id: number; state: string; address: string };

function settings(extra: Record<string, unknown> = {}) {
  const d = testEnv().dovecot;
  return { address: `support-${randomBytes(4).toString('hex')}@acme.test`, host: d.host, port: d.imapPort, tls: 'none', username: USER, password: PASSWORD, ...extra };
}

describe('mailbox admin', () => {
  let id: number;
  let untested: number;

  it('adds a mailbox after a passing connection test, secrets write-only', async () => {
    const res = await call<MailboxJson>('POST', 'mailboxes', { body: settings({ aliases: ['help@acme.test'], post_action: 'seen' }) });
    expect(res.status).toBe(200);
    expect(res.body.errors).toEqual([]);
    expect(res.body.data).toMatchObject({ tenant: a.slug, state: 'connecting', has_secret: true, aliases: ['help@acme.test'], post_action: 'seen', folder: 'INBOX', tls: 'none' });
    expect(res.body.data).not.toHaveProperty('password');
    expect(res.body.data).not.toHaveProperty('secret_encrypted');
    id = res.body.data.id;
  });

  it('stores nothing when the connection test fails, and says at which stage', async () => {
    const body = settings({ password: 'wrong-password-zz9' });
    const res = await call('POST', 'mailboxes', { body });
    expect(res.status).toBe(422);
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toEqual([expect.objectContaining({ code: 'MAILBOX_AUTH_FAILED', stage: 'auth', message: expect.stringMatching(/auth stage.*rejected the login/) })]);
    expect(await db.mailbox.count({ where: { tenant_id: a.id, address: body.address } })).toBe(0);

    const port = await freePort();
    const refused = await call('POST', 'mailboxes', { body: settings({ port }) });
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0]).toMatchObject({ code: 'MAILBOX_CONNECT_FAILED', stage: 'tcp' });
  });

  it('stores untested with "test": false', async () => {
    const res = await call<MailboxJson>('POST', 'mailboxes', { body: settings({ password: 'wrong-password-zz9', test: false }) });
    expect(res.status).toBe(200);
    untested = res.body.data.id;
  });

  it('answers 400 naming every bad field, before anything is looked up', async () => {
    const bad = await call('POST', 'mailboxes', { body: settings({ address: 'not-an-address', poll_seconds: 1, colour: 'red' }) });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['address', 'colour', 'poll_seconds']);
    const typed = await call('POST', 'mailboxes', { body: settings({ port: 'imap' }) });
    expect(typed.status).toBe(400);
    expect(typed.body.errors[0]?.field).toBe('port');
    const missing = await call('POST', 'mailboxes', { body: { host: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.body.errors.map((e) => e.field)).toEqual(expect.arrayContaining(['address', 'port', 'username']));
    const several = await call('GET', 'mailboxes?page=0&page_size=500');
    expect(several.body.errors.map((e) => e.field).sort()).toEqual(['page', 'page_size']);
    // A body that is wrong as a whole (not an object, not JSON) is named `body`.
    const list = await call('POST', 'mailboxes', { body: [] });
    expect(list.status).toBe(400);
    expect(list.body.errors.map((e) => e.field)).toEqual(['body']);
    const notJson = await app.inject({ method: 'POST', url: `/api/${a.slug}/v1/mailboxes`, headers: { ...bearer(a.adminToken), 'content-type': 'application/json' }, payload: '{"address":' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json<Wrapped<unknown>>().errors.map((e) => e.field)).toEqual(['body']);
    const conflict = await call('POST', 'mailboxes', { body: settings({ address: (await call<MailboxJson>('GET', `mailboxes/${id}`)).body.data.address, test: false }) });
    expect(conflict.status).toBe(409);
    const badId = await call('GET', 'mailboxes/abc');
    expect(badId.status).toBe(400);
    expect(badId.body.errors[0]?.field).toBe('id');
    const badPage = await call('GET', 'mailboxes?page_size=500');
    expect(badPage.status).toBe(400);
    expect(badPage.body.errors[0]?.field).toBe('page_size');
  });

  it('lists and shows the tenant\'s mailboxes, paginated', async () => {
    const list = await call<MailboxJson[]>('GET', 'mailboxes?page_size=1');
    expect(list.status).toBe(200);
    expect(list.body.meta).toMatchObject({ page: 1, page_size: 1, total: 2 });
    expect(list.body.data.map((m) => m.id)).toEqual([id]);
    const page2 = await call<MailboxJson[]>('GET', 'mailboxes?page=2&page_size=1');
    expect(page2.body.data.map((m) => m.id)).toEqual([untested]);
    const one = await call<MailboxJson>('GET', `mailboxes/${id}`);
    expect(one.body.data).toMatchObject({ id, username: USER, enabled: true, consecutive_failures: 0, last_error: null });
  });

  it('tests a stored mailbox: 200 either way, with the stage that failed', async () => {
    const ok = await call<{ ok: boolean; details: Record<string, unknown> }>('POST', `mailboxes/${id}/test`);
    expect(ok.status).toBe(200);
    expect(ok.body.data).toMatchObject({ ok: true, details: { username: USER, folder: 'INBOX', tls_protocol: null } });
    const failed = await call('POST', `mailboxes/${untested}/test`);
    expect(failed.status).toBe(200);
    expect(failed.body.data).toMatchObject({ ok: false, stage: 'auth', code: 'MAILBOX_AUTH_FAILED' });
  });

  it('changes only the fields given; new credentials reconnect; enabled alone is enable/disable', async () => {
    await db.mailbox.update({ where: { id: untested }, data: { state: 'auth_error', consecutive_failures: 3 } });
    const fixed = await call<MailboxJson>('PATCH', `mailboxes/${untested}`, { body: { password: NEW_PASSWORD, poll_seconds: 120 } });
    expect(fixed.status).toBe(200);
    expect(fixed.body.data).toMatchObject({ poll_seconds: 120, state: 'connecting', consecutive_failures: 0, has_secret: true });
    const off = await call<MailboxJson>('PATCH', `mailboxes/${untested}`, { body: { enabled: false } });
    expect(off.body.data).toMatchObject({ enabled: false, state: 'disabled' });
    const bad = await call('PATCH', `mailboxes/${untested}`, { body: { tls: 'ssl', port: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field)).toContain('tls');
    // The stored password never goes to another server, or in clear text, unless it is given again.
    const before = await db.mailbox.findUniqueOrThrow({ where: { id: untested } });
    const elsewhere = await call('PATCH', `mailboxes/${untested}`, { body: { host: 'collector.evil.test', tls: 'none' } });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.errors).toEqual([{ code: 'VALIDATION', field: 'password', message: 'must be given again when host, port, tls or oauth_token_url changes' }]);
    expect(await db.mailbox.findUniqueOrThrow({ where: { id: untested } })).toEqual(before);
  });

  it('answers 401 without a token, 403 to a USER token and to another tenant, 404 for unknown or foreign ids', async () => {
    const routes: ['GET' | 'POST' | 'PATCH' | 'DELETE', string][] = [
      ['GET', 'mailboxes'],
      ['POST', 'mailboxes'],
      ['GET', `mailboxes/${id}`],
      ['PATCH', `mailboxes/${id}`],
      ['DELETE', `mailboxes/${id}`],
      ['POST', `mailboxes/${id}/test`],
      ['GET', `mailboxes/${id}/messages`],
      ['POST', `mailboxes/${id}/messages/1/reprocess`],
    ];
    for (const [method, url] of routes) {
      const body = method === 'POST' || method === 'PATCH' ? {} : undefined;
      expect((await call(method, url, { token: null, body })).status, `${method} ${url} without token`).toBe(401);
      expect((await call(method, url, { token: a.userToken, body })).status, `${method} ${url} USER`).toBe(403);
      expect((await call(method, url, { token: b.adminToken, body })).status, `${method} ${url} other tenant`).toBe(403);
      if (url === 'mailboxes') continue;
      // Tenant B's admin on its own path asks for tenant A's mailbox: it does not exist there.
      const foreign = await call(method, url, { token: b.adminToken, tenant: b.slug, body: method === 'PATCH' ? { poll_seconds: 90 } : body });
      expect(foreign.status, `${method} ${url} foreign id`).toBe(404);
      const unknown = await call(method, url.replace(String(id), '999999'), { body: method === 'PATCH' ? { poll_seconds: 90 } : body });
      expect(unknown.status, `${method} ${url} unknown id`).toBe(404);
    }
    expect((await db.mailbox.findUniqueOrThrow({ where: { id } })).poll_seconds).toBe(60);
  });

  it('removes a mailbox', async () => {
    const res = await call<MailboxJson>('DELETE', `mailboxes/${untested}`);
    expect(res.status).toBe(200);
    expect(res.body.data.id).toBe(untested);
    expect((await call('GET', `mailboxes/${untested}`)).status).toBe(404);
  });

  it('never returns a secret', () => {
    for (const body of bodies) for (const secret of SECRETS) expect(body).not.toContain(secret);
    expect(bodies.join('\n')).not.toMatch(/"(password|refresh_token|oauth_client_secret|secret_encrypted)":/);
  });
});

describe('ingest log and reprocess', () => {
  let mailbox: IngestMailbox;
  let ctx: IngestContext;
  let uid = 0n;
  const fetched = (raw: Buffer): FetchedMessage => ({ uidValidity: 11n, uid: ++uid, raw, internalDate: new Date(Date.UTC(2026, 10, 20, 10, 0, Number(uid))) });
  const mail = (subject: string, body = 'Hello,\r\n\r\nthe printer is on fire.\r\n', headers = 'Content-Type: text/plain') =>
    Buffer.from(`From: Anna <anna@example.com>\r\nTo: support@log.test\r\nSubject: ${subject}\r\nMessage-ID: <${randomBytes(6).toString('hex')}@example.com>\r\nMIME-Version: 1.0\r\n${headers}\r\n\r\n${body}`);
  const ids: Record<string, number> = {};
  type Row = Record<string, unknown> & { id: number; outcome: string };

  beforeAll(async () => {
    const row = await db.mailbox.create({ data: { tenant_id: a.id, address: 'support@log.test', host: '127.0.0.1', port: 143, tls: 'none', username: 'u', secret_encrypted: 'x', cursor: imapCursor(11n, 0n) } });
    mailbox = { id: row.id, tenant_id: a.id, address: row.address, aliases: [] };
    ctx = { db, blobs: t.blobs, secretKey: t.config.secretKey, publicUrl: t.config.publicUrl, logger: createLogger({ level: 'silent' }) };
    const good = mail('Printer on fire');
    ids.conversation = (await ingestMessage(ctx, mailbox, fetched(good))).recordId;
    ids.malformed = (await ingestMessage(ctx, mailbox, fetched(Buffer.from('\u0000\u0001this is not mail')))).recordId;
    ids.duplicate = (await ingestMessage(ctx, mailbox, fetched(good))).recordId;
    const withAttachment = mail(
      'Invoice attached',
      '--b\r\nContent-Type: text/plain\r\n\r\nSee the invoice.\r\n--b\r\nContent-Type: application/pdf; name="invoice.pdf"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n',
      'Content-Type: multipart/mixed; boundary="b"',
    );
    ids.limited = (await ingestMessage({ ...ctx, parseLimits: { maxRawBytes: 10 } }, mailbox, fetched(withAttachment))).recordId;
  });

  it('shows one row per fetched message, newest first, shaped as PRODUCT.md says', async () => {
    const res = await call<Row[]>('GET', `mailboxes/${mailbox.id}/messages`);
    expect(res.status).toBe(200);
    expect(res.body.meta).toMatchObject({ page: 1, page_size: 50, total: 4 });
    expect(res.body.data.map((r) => r.id)).toEqual([ids.limited, ids.duplicate, ids.malformed, ids.conversation]);
    const byId = new Map(res.body.data.map((r) => [r.id, r]));
    const first = byId.get(ids.conversation!)!;
    expect(Object.keys(first).sort()).toEqual(
      ['id', 'mailbox_id', 'source_key', 'uid_validity', 'uid', 'message_id', 'from', 'subject', 'received_at', 'size_bytes', 'raw_sha256', 'outcome', 'classification', 'thread_reason', 'conversation_id', 'ticket_id', 'duplicate_of', 'warnings', 'error', 'created'].sort(),
    );
    expect(first).toMatchObject({ mailbox_id: mailbox.id, source_key: '11:1', uid_validity: 11, uid: 1, from: 'anna@example.com', subject: 'Printer on fire', outcome: 'conversation', classification: 'human', thread_reason: 'new_ticket', duplicate_of: null, error: null, received_at: '2026-11-20T10:00:01.000Z' });
    expect(first.conversation_id).toEqual(expect.any(Number));
    expect(byId.get(ids.malformed!)).toMatchObject({ outcome: 'failed', error: { code: 'MAIL_UNREADABLE', message: expect.any(String) }, conversation_id: null });
    expect(byId.get(ids.duplicate!)).toMatchObject({ outcome: 'duplicate', duplicate_of: ids.conversation, conversation_id: first.conversation_id });
    expect(byId.get(ids.limited!)).toMatchObject({ outcome: 'failed', error: { code: 'MAIL_LIMIT_EXCEEDED' } });
  });

  it('filters by outcome and pages', async () => {
    const failed = await call<Row[]>('GET', `mailboxes/${mailbox.id}/messages?outcome=failed`);
    expect(failed.body.data.map((r) => r.id)).toEqual([ids.limited, ids.malformed]);
    expect(failed.body.meta.total).toBe(2);
    const dup = await call<Row[]>('GET', `mailboxes/${mailbox.id}/messages?outcome=duplicate`);
    expect(dup.body.data.map((r) => r.id)).toEqual([ids.duplicate]);
    const page = await call<Row[]>('GET', `mailboxes/${mailbox.id}/messages?page=2&page_size=3`);
    expect(page.body.data.map((r) => r.id)).toEqual([ids.conversation]);
    const bad = await call('GET', `mailboxes/${mailbox.id}/messages?outcome=lost`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]?.field).toBe('outcome');
  });

  it('turns a message that failed on a limit into a conversation once the limit is raised, and enqueues its attachment', async () => {
    const res = await call<Row & { previous_outcome: string; rerun: boolean; conversation_id: number }>('POST', `mailboxes/${mailbox.id}/messages/${ids.limited}/reprocess`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: ids.limited, outcome: 'conversation', previous_outcome: 'failed', rerun: true, error: null, thread_reason: 'new_ticket' });
    const conversation = await db.conversation.findUniqueOrThrow({ where: { id: res.body.data.conversation_id }, include: { attachments: true } });
    expect(conversation.tenant_id).toBe(a.id);
    expect(conversation.attachments).toHaveLength(1);
    expect(await queues.attachments.getJob(attachmentJobId(conversation.attachments[0]!.id))).toBeTruthy();

    const again = await call<Row & { rerun: boolean }>('POST', `mailboxes/${mailbox.id}/messages/${ids.limited}/reprocess`);
    expect(again.body.data).toMatchObject({ outcome: 'conversation', rerun: false });
    const stillBad = await call<Row>('POST', `mailboxes/${mailbox.id}/messages/${ids.malformed}/reprocess`);
    expect(stillBad.body.data).toMatchObject({ outcome: 'failed', error: { code: 'MAIL_UNREADABLE' } });
  });

  it('scopes messages to the mailbox and the tenant', async () => {
    const other = await call<MailboxJson>('POST', 'mailboxes', { body: settings({ test: false }) });
    expect((await call('POST', `mailboxes/${other.body.data.id}/messages/${ids.malformed}/reprocess`)).status).toBe(404);
    expect((await call('GET', `mailboxes/${mailbox.id}/messages`, { token: b.adminToken, tenant: b.slug })).status).toBe(404);
    expect((await call('POST', `mailboxes/${mailbox.id}/messages/0/reprocess`)).status).toBe(400);
  });
});

describe('/metrics', () => {
  it('serves the named series without a token, with queue depths and mailbox states read at scrape time', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of ['mailroom_ingest_total', 'mailroom_ingest_duration_seconds', 'mailroom_sync_duration_seconds', 'mailroom_mailbox_state', 'mailroom_attachment_jobs_total', 'mailroom_queue_jobs']) {
      expect(res.body).toContain(`# TYPE ${name} `);
    }
    expect(res.body).toContain('process_cpu_user_seconds_total');
    // The reprocess test enqueued one attachment job on this app's queues.
    expect(res.body).toMatch(/mailroom_queue_jobs\{queue="attachments",state="waiting"\} [1-9]/);
    expect(res.body).toContain('mailroom_queue_jobs{queue="mailbox-sync",state="failed"} 0');
    expect(res.body).toMatch(/mailroom_mailbox_state\{state="connecting"\} [1-9]/);
  });

  it('still answers when Redis does not, leaving the queue series out', async () => {
    // A connection that keeps retrying, like the server's: the scrape's own deadline must answer.
    const dead = createRedisConnection(`redis://127.0.0.1:${await freePort()}`, { retryStrategy: () => 200 });
    dead.on('error', () => undefined);
    const deadQueues = createQueues({ connection: dead, prefix: 'nowhere' });
    for (const q of [deadQueues.sync, deadQueues.attachments]) q.on('error', () => undefined);
    const other = await buildTestApp({ db, queues: deadQueues });
    try {
      const res = await other.app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('# TYPE mailroom_queue_jobs gauge');
      expect(res.body).not.toMatch(/^mailroom_queue_jobs\{/m);
      expect(res.body).toMatch(/^mailroom_mailbox_state\{/m);
    } finally {
      await other.close();
      dead.disconnect();
    }
  });
});
