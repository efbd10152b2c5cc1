// The connection policy and terminal safety end to end, against the run's real
// PostgreSQL (on 127.0.0.1:5432), Redis (:6379) and Dovecot: a tenant's
// mailbox aimed at them is refused with one message that names the policy and
// MAILROOM_ALLOW_PRIVATE_HOSTS and says nothing about the port (API test
// endpoint, API validation, CLI, and the worker's own connect through
// imapflow), and is allowed once the variable names it. Then control
// characters: refused on input (API and CLI), and, when a row already holds
// them, printed escaped by `mailbox list|show` and `status`.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/prisma.js';
import { createLogger } from '../../src/logging/logger.js';
import { STRICT_POLICY } from '../../src/net/policy.js';
import { createImapClient } from '../../src/sources/imap/client.js';
import { imapSource } from '../../src/sources/imap/index.js';
import { AccessTokenCache } from '../../src/sources/oauth.js';
import { bearer, buildTestApp, createApiTenant, type ApiTenant, type TestApp, type Wrapped } from '../support/api.js';
import { runCli } from '../support/cli.js';
import { addDovecotUser, DEFAULT_PASSWORD } from '../support/dovecot.js';
import { childEnv, testEnv, testPolicy, testPrisma } from '../support/env.js';
import { createTestMailbox, secretKey } from '../support/mailboxes.js';
import { encryptSecret } from '../../src/crypto/secrets.js';

const POLICY = 'Mailroom refuses private, loopback and link-local addresses unless MAILROOM_ALLOW_PRIVATE_HOSTS allows them.';
const ESC = '\u001b';
const PG_PORT = Number(new URL(testEnv().databaseUrl).port || 5432);
const REDIS_PORT = Number(new URL(testEnv().redisUrl).port || 6379);

let db: PrismaClient;
/** The API as an install without MAILROOM_ALLOW_PRIVATE_HOSTS runs it. */
let strict: TestApp;
/** And with MAILROOM_ALLOW_PRIVATE_HOSTS=127.0.0.1 (the test support's default). */
let allowing: TestApp;
let tenant: ApiTenant;

beforeAll(async () => {
  db = testPrisma();
  strict = await buildTestApp({ db, env: { MAILROOM_ALLOW_PRIVATE_HOSTS: '' } });
  allowing = await buildTestApp({ db });
  tenant = await createApiTenant(db, 'policy');
});

afterAll(async () => {
  await strict.close();
  await allowing.close();
  await db.$disconnect();
});

async function api<T = unknown>(t: TestApp, method: 'POST' | 'PATCH', url: string, body?: unknown) {
  const res = await t.app.inject({ method, url: `/api/${tenant.slug}/v1/${url}`, headers: bearer(tenant.adminToken), ...(body === undefined ? {} : { payload: body as object }) });
  return { status: res.statusCode, body: res.json<Wrapped<T>>() };
}

/** A stored mailbox aimed at host:port (stored directly: the API would refuse the IP literal). */
async function storedMailbox(host: string, port: number, extra: Record<string, unknown> = {}): Promise<number> {
  const address = `p-${randomBytes(4).toString('hex')}@acme.test`;
  const row = await db.mailbox.create({
    data: { tenant_id: tenant.id, address, host, port, tls: 'none', username: address, secret_encrypted: encryptSecret('pw-unused', secretKey()), ...extra },
  });
  return row.id;
}

const settings = (extra: Record<string, unknown> = {}) => ({ address: `n-${randomBytes(4).toString('hex')}@acme.test`, host: 'imap.acme.test', port: 993, username: 'support', password: 'pw-1', test: false, ...extra });

describe('the connection policy', () => {
  it('refuses the connection test to PostgreSQL and Redis on loopback with the same message, naming the policy and not the port state', async () => {
    const messages: string[] = [];
    for (const port of [PG_PORT, REDIS_PORT, 1]) {
      const id = await storedMailbox('127.0.0.1', port);
      const res = await api<{ ok: boolean; stage: string; code: string; message: string }>(strict, 'POST', `mailboxes/${id}/test`);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ ok: false, stage: 'policy', code: 'CONNECTION_NOT_ALLOWED', message: `127.0.0.1 is a loopback address; ${POLICY}` });
      messages.push(res.body.data.message);
    }
    // An open port (5432, 6379) and a closed one (1) cannot be told apart.
    expect(new Set(messages).size).toBe(1);
  });

  it('allows the same loopback address once MAILROOM_ALLOW_PRIVATE_HOSTS names it', async () => {
    const user = `pol-${randomBytes(4).toString('hex')}@example.test`;
    await addDovecotUser(testEnv().dovecot, user);
    const id = await storedMailbox('127.0.0.1', testEnv().dovecot.imapPort, { username: user, secret_encrypted: encryptSecret(DEFAULT_PASSWORD, secretKey()) });
    expect((await api(strict, 'POST', `mailboxes/${id}/test`)).body.data).toMatchObject({ ok: false, stage: 'policy' });
    expect((await api(allowing, 'POST', `mailboxes/${id}/test`)).body.data).toMatchObject({ ok: true, details: { address: '127.0.0.1' } });
  });

  it('answers 400 naming host or oauth_token_url for refused IP literals and token URLs, on create and on PATCH', async () => {
    for (const host of ['127.0.0.1', '127.1', '0x7f000001', '2130706433', '10.0.0.5', '[::1]', '169.254.169.254']) {
      const res = await api(strict, 'POST', 'mailboxes', settings({ host, port: REDIS_PORT }));
      expect(res.status, host).toBe(400);
      expect(res.body.errors, host).toEqual([{ code: 'VALIDATION', field: 'host', message: expect.stringMatching(/^is not allowed: .* address; Mailroom refuses private, loopback and link-local addresses unless MAILROOM_ALLOW_PRIVATE_HOSTS allows them$/) }]);
    }
    const oauth = { password: undefined, auth: 'oauth2', refresh_token: 'rt-1', oauth_client_id: 'cid' };
    for (const url of ['http://login.example/token', `http://127.0.0.1:${PG_PORT}/token`, 'https://127.1/token', 'https://0x7f000001/token', 'https://user:pw@login.example/token']) {
      const res = await api(strict, 'POST', 'mailboxes', settings({ ...oauth, oauth_token_url: url }));
      expect(res.status, url).toBe(400);
      expect(res.body.errors.map((e) => e.field), url).toEqual(['oauth_token_url']);
      expect(JSON.stringify(res.body), url).not.toContain('pw@');
    }
    const created = await api<{ id: number }>(strict, 'POST', 'mailboxes', settings());
    expect(created.status).toBe(200);
    const patched = await api(strict, 'PATCH', `mailboxes/${created.body.data.id}`, { host: '192.168.0.1', password: 'pw-2' });
    expect(patched.status).toBe(400);
    expect(patched.body.errors).toEqual([{ code: 'VALIDATION', field: 'host', message: `is not allowed: 192.168.0.1 is a private address; ${POLICY.replace(/\.$/, '')}` }]);
    // With the variable, the same literal passes validation.
    expect((await api(allowing, 'POST', 'mailboxes', settings({ host: '127.0.0.1' }))).status).toBe(200);
  });

  it('checks host names after DNS at every connect of the worker: localhost is refused, then allowed by address, certificate checked against the name', async () => {
    const box = await createTestMailbox(db, { tenantId: tenant.id });
    // imapflow's own connect (no connection test before it), over implicit TLS to the name `localhost`.
    const mailbox = await db.mailbox.update({ where: { id: box.mailboxId }, data: { host: 'localhost', port: testEnv().dovecot.imapsPort, tls: 'tls' } });
    const ctx = { secretKeys: [secretKey()], logger: createLogger({ level: 'silent' }), tokens: new AccessTokenCache(), maxRawBytes: 1024 * 1024 };
    const refused = await imapSource.open(mailbox, { ...ctx, policy: STRICT_POLICY }).catch((e: unknown) => e);
    expect(imapSource.classify(mailbox, refused)).toEqual({ kind: 'connect', code: 'CONNECTION_NOT_ALLOWED', message: expect.stringMatching(new RegExp(`^localhost resolves to (127\\.0\\.0\\.1|::1), a loopback address; ${POLICY.replace(/[.()]/g, '\\$&')}$`)) });
    // Allowed by address only (127.0.0.1): the lookup hands over 127.0.0.1, TLS still verifies the name localhost.
    const client = await createImapClient(mailbox, { secretKeys: [secretKey()], policy: testPolicy(), tls: { ca: [readFileSync(testEnv().dovecot.certFile)] } });
    await client.connect();
    expect((client as unknown as { socket: { remoteAddress?: string } }).socket.remoteAddress).toBe('127.0.0.1');
    await client.logout();
  });
});

describe('mailroom mailbox and the policy', () => {
  it('add refuses an IP literal as a usage error naming --host, and a name resolving to loopback at the policy stage; test says the same', { timeout: 180_000 }, async () => {
    const strictEnv = { MAILROOM_ALLOW_PRIVATE_HOSTS: '' };
    const base = ['mailbox', 'add', '--tenant', tenant.slug, '--address', `c-${randomBytes(3).toString('hex')}@acme.test`, '--no-tls', '--user', 'u', '--password-env', 'PW'];
    const literal = await runCli([...base, '--host', '127.0.0.1', '--port', String(PG_PORT)], { env: childEnv({ ...strictEnv, PW: 'pw-1' }), timeoutMs: 60_000 });
    expect(literal.code).toBe(2);
    expect(literal.stderr).toContain(`mailroom: --host is not allowed: 127.0.0.1 is a loopback address; ${POLICY}`);
    const named = await runCli([...base, '--host', 'localhost', '--port', String(REDIS_PORT)], { env: childEnv({ ...strictEnv, PW: 'pw-1' }), timeoutMs: 60_000 });
    expect(named.code).toBe(1);
    expect(named.stderr).toMatch(new RegExp(`the connection test failed at the policy stage: localhost resolves to (127\\.0\\.0\\.1|::1), a loopback address; ${POLICY.replace(/[.()]/g, '\\$&')}`));
    expect(named.stderr).not.toMatch(/refused|timed out|greeting/i);

    const id = await storedMailbox('127.0.0.1', REDIS_PORT);
    const test = await runCli(['mailbox', 'test', String(id)], { env: childEnv(strictEnv), timeoutMs: 60_000 });
    expect(test.code).toBe(1);
    expect(test.stderr).toContain(`failed the connection test at the policy stage: 127.0.0.1 is a loopback address; ${POLICY}`);
  });
});

describe('control characters', () => {
  it('are refused in mailbox fields by the API (400 naming the field) and the CLI (usage error naming the flag)', { timeout: 120_000 }, async () => {
    for (const field of ['username', 'folder'] as const) {
      const res = await api(strict, 'POST', 'mailboxes', settings({ [field]: `x${ESC}[2J` }));
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ code: 'VALIDATION', field, message: 'must not contain control characters' }]);
    }
    const r = await runCli(['mailbox', 'add', '--tenant', tenant.slug, '--address', 'c@acme.test', '--host', 'imap.acme.test', '--port', '993', '--user', `x${ESC}[2J`, '--folder', `IN${ESC}[2J`, '--password-env', 'PW', '--no-test'], { env: childEnv({ PW: 'pw-1' }), timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--user must not contain control characters; --folder must not contain control characters.');
    expect(r.stderr).not.toContain(ESC);
  });

  it('already stored in a row, are printed escaped by mailbox list, show and status', { timeout: 240_000 }, async () => {
    const id = await storedMailbox('imap.acme.test', 993, {
      username: `evil${ESC}[2J`,
      folder: `INBOX${ESC}]0;pwned\u0007`,
      last_error: `NO ${ESC}[31mred\r\nmailroom: fake line\u009b2J`,
      state: 'connect_error',
    });
    const env = childEnv();
    const outputs = [];
    // One at a time: four tsx processes at once on a busy machine outlast the CLI helper's timeout.
    for (const args of [['mailbox', 'list', '--tenant', tenant.slug], ['mailbox', 'show', String(id)], ['mailbox', 'show', String(id), '--json'], ['status']]) {
      outputs.push(await runCli(args, { env, timeoutMs: 60_000 }));
    }
    for (const out of outputs) {
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout + out.stderr).not.toMatch(/[\u001b\u0007\u009b\r]/);
      expect(out.stdout).not.toMatch(/^mailroom: fake line/m);
    }
    const [list, show, json, status] = outputs.map((o) => o.stdout) as [string, string, string, string];
    expect(list).toContain('INBOX\\u001b]0;pwned\\u0007');
    expect(list).toContain('NO \\u001b[31mred\\u000d\\u000amailroom: fake line\\u009b2J');
    expect(show).toMatch(/^user: +evil\\u001b\[2J$/m);
    expect(show).toMatch(/^folder: +INBOX\\u001b\]0;pwned\\u0007$/m);
    expect(JSON.parse(json)).toMatchObject({ username: `evil${ESC}[2J`, last_error: `NO ${ESC}[31mred\r\nmailroom: fake line\u009b2J` });
    expect(status).toContain('NO \\u001b[31mred\\u000d\\u000amailroom: fake line\\u009b2J');
  });
});
