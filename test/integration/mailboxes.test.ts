// Mailbox administration against the run's real Dovecot and PostgreSQL: the
// connection test stage by stage, the service, and `mailroom mailbox ...` as a
// user runs it. Every test works in its own tenant; the Dovecot account has a
// distinctive password so that its absence from every output means something.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSecretKey } from '../../src/config/config.js';
import { decryptSecret } from '../../src/crypto/secrets.js';
import type { PrismaClient } from '../../src/db/prisma.js';
import { MailroomError } from '../../src/errors.js';
import { testMailboxConnection } from '../../src/sources/imap/connection-test.js';
import { testStoredMailbox, updateMailboxTested } from '../../src/mailboxes/connection.js';
import { addMailbox, getMailbox, getMailboxRow, listMailboxes, parseMailboxInput, removeMailbox, setMailboxEnabled, storedFields, updateMailbox } from '../../src/mailboxes/service.js';
import { createTenant } from '../../src/tenants/service.js';
import { runCli, type CliResult } from '../support/cli.js';
import { addDovecotUser, freePort, imapClient } from '../support/dovecot.js';
import { childEnv, testEnv, testPolicy, testPrisma } from '../support/env.js';
import { imapCursor } from '../support/ingest.js';

const suffix = randomBytes(4).toString('hex');
const USER = `admin-${suffix}@example.test`;
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
let db: PrismaClient;
let key: Buffer;

beforeAll(async () => {
  db = testPrisma();
  key = decodeSecretKey(testEnv().secretKey) ?? Buffer.alloc(0);
  await addDovecotUser(testEnv().dovecot, USER, PASSWORD);
  const c = imapClient(testEnv().dovecot, USER, PASSWORD);
  await c.connect();
  await c.mailboxCreate('Archive');
  await c.logout();
});

afterAll(async () => {
  await db.$disconnect();
});

async function newTenant(): Promise<{ id: number; slug: string }> {
  return createTenant(db, { slug: `mbx-${randomBytes(5).toString('hex')}` });
}

/** Settings for the run's Dovecot, plain text on its IMAP port unless changed. */
function settings(extra: Record<string, unknown> = {}) {
  const d = testEnv().dovecot;
  return { address: `support-${randomBytes(4).toString('hex')}@acme.test`, host: d.host, port: d.imapPort, tls: 'none', username: USER, password: PASSWORD, ...extra };
}

const connectionRow = (extra: Record<string, unknown> = {}) => storedFields(parseMailboxInput(settings(extra)), key);
const ca = () => ({ ca: [readFileSync(testEnv().dovecot.certFile)] });

function expectNoSecret(...texts: string[]): void {
  for (const t of texts) expect(t).not.toContain(PASSWORD);
}

describe('testMailboxConnection', () => {
  it('logs in and opens the folder read-only', async () => {
    const result = await testMailboxConnection({ mailbox: connectionRow(), secretKeys: key, policy: testPolicy() });
    expect(result).toMatchObject({ ok: true, details: { host: '127.0.0.1', port: testEnv().dovecot.imapPort, address: '127.0.0.1', tls_protocol: null, username: USER, folder: 'INBOX' } });
    if (result.ok) expect(result.details.uid_validity).toBeGreaterThan(0);
  });

  it.each([
    ['auth', () => connectionRow({ password: 'wrong-password' }), 'MAILBOX_AUTH_FAILED', /127\.0\.0\.1:\d+ rejected the login of user admin-/],
    ['folder', () => connectionRow({ folder: 'Nope' }), 'MAILBOX_FOLDER_FAILED', /^Folder "Nope" does not exist for user admin-.* on 127\.0\.0\.1:\d+\.$/],
    ['dns', () => connectionRow({ host: 'mail.mailroom-test.invalid' }), 'MAILBOX_DNS_FAILED', /^The host name mail\.mailroom-test\.invalid does not exist\.$/],
    ['tls', () => connectionRow({ tls: 'tls' }), 'MAILBOX_TLS_FAILED', /^The TLS handshake with 127\.0\.0\.1:\d+ failed: wrong version number \(ERR_SSL_WRONG_VERSION_NUMBER\); the port speaks plain text, so use starttls or none as the TLS mode\.$/],
    ['tls', () => connectionRow({ tls: 'tls', port: testEnv().dovecot.imapsPort }), 'MAILBOX_TLS_FAILED', /^The certificate of 127\.0\.0\.1:\d+ is not trusted: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)\.$/],
    ['tls', () => connectionRow({ tls: 'starttls' }), 'MAILBOX_TLS_FAILED', /^The certificate of 127\.0\.0\.1:\d+ \(after STARTTLS\) is not trusted: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)\.$/],
  ])('reports the %s stage: %#', async (stage, row, code, message) => {
    const result = await testMailboxConnection({ mailbox: row(), secretKeys: key, policy: testPolicy() });
    expect(result).toMatchObject({ ok: false, stage, code });
    if (!result.ok) {
      expect(result.message).toMatch(message);
      expectNoSecret(result.message);
    }
  });

  it('reports a closed port as the tcp stage', async () => {
    const port = await freePort();
    const result = await testMailboxConnection({ mailbox: connectionRow({ port }), secretKeys: key, policy: testPolicy() });
    expect(result).toEqual({ ok: false, stage: 'tcp', code: 'MAILBOX_CONNECT_FAILED', message: `Nothing accepts connections on 127.0.0.1:${port} (connection refused).` });
  });

  it('reports a plain-text server that never greets as the tcp stage, not a TLS failure', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const result = await testMailboxConnection({ mailbox: connectionRow({ port, tls: 'none' }), secretKeys: key, policy: testPolicy(), timeoutMs: 1000 });
      expect(result).toEqual({
        ok: false,
        stage: 'tcp',
        code: 'MAILBOX_CONNECT_FAILED',
        message: `127.0.0.1:${port} accepted the connection but sent no IMAP greeting (is it an implicit TLS port? then use tls as the TLS mode).`,
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('passes over implicit TLS and over STARTTLS when the certificate is trusted', async () => {
    const tls = await testMailboxConnection({ mailbox: connectionRow({ tls: 'tls', port: testEnv().dovecot.imapsPort }), secretKeys: key, policy: testPolicy(), tls: ca() });
    expect(tls).toMatchObject({ ok: true, details: { tls: 'tls', tls_protocol: expect.stringMatching(/^TLSv1\.[23]$/) } });
    const starttls = await testMailboxConnection({ mailbox: connectionRow({ tls: 'starttls' }), secretKeys: key, policy: testPolicy(), tls: ca() });
    expect(starttls).toMatchObject({ ok: true, details: { tls: 'starttls', tls_protocol: expect.stringMatching(/^TLSv1\.[23]$/) } });
  });

  it('reports the oauth stage with the endpoint error, and the auth stage when the server refuses the access token', async () => {
    const replies = [
      { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }) },
      { status: 200, body: JSON.stringify({ access_token: 'access-for-dovecot', expires_in: 3600 }) },
    ];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const r = replies.shift() ?? { status: 500, body: '{}' };
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
      const mailbox = connectionRow({ password: undefined, auth: 'oauth2', refresh_token: 'refresh-ABC', oauth_token_url: tokenUrl, oauth_client_id: 'cid' });
      const refused = await testMailboxConnection({ mailbox, secretKeys: key, policy: testPolicy() });
      expect(refused).toEqual({ ok: false, stage: 'oauth', code: 'OAUTH_FAILED', message: `The OAuth2 token endpoint ${tokenUrl} refused the refresh token with HTTP 400: invalid_grant (Token has been expired or revoked.).` });
      const rejected = await testMailboxConnection({ mailbox, secretKeys: key, policy: testPolicy() });
      // The test Dovecot has no OAuth2 mechanism: the token is good, the server cannot take it.
      expect(rejected).toEqual({ ok: false, stage: 'auth', code: 'MAILBOX_AUTH_FAILED', message: `127.0.0.1:${testEnv().dovecot.imapPort} does not offer OAuth2 login (XOAUTH2 or OAUTHBEARER) for user ${USER}.` });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('a refresh token rotated by a connection test', () => {
  it('replaces the stored one, even when a later stage fails, but never one changed meanwhile', async () => {
    let next = 1;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'access', expires_in: 3600, refresh_token: `refresh-NEW-${next++}` })));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
      const tenant = await newTenant();
      const view = await addMailbox(db, key, tenant.id, settings({ password: undefined, auth: 'oauth2', refresh_token: 'refresh-OLD', oauth_token_url: tokenUrl, oauth_client_id: 'cid' }), { policy: testPolicy() });
      const deps = { db, secretKey: key, policy: testPolicy() };
      // The test Dovecot takes no OAuth2 login: the test fails at the auth stage, after the endpoint rotated the token.
      expect(await testStoredMailbox(deps, view.id, {})).toMatchObject({ ok: false, stage: 'auth' });
      expect(decryptSecret((await getMailboxRow(db, view.id)).secret_encrypted, key)).toBe('refresh-NEW-1');
      // An edit that keeps the token and fails its test after the refresh (here at the auth stage): the edit is
      // refused, the rotated token is kept all the same.
      const edit = await updateMailboxTested(deps, view.id, { folder: 'Archive' }, {}, { test: true });
      expect(edit).toMatchObject({ failed: { stage: 'auth' } });
      const afterEdit = await getMailboxRow(db, view.id);
      expect({ folder: afterEdit.folder, token: decryptSecret(afterEdit.secret_encrypted, key) }).toEqual({ folder: 'INBOX', token: 'refresh-NEW-2' });

      // An admin stores another token while a test runs: the test's rotation of the old one does not overwrite it.
      const slowServer = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          void updateMailbox(db, key, view.id, { refresh_token: 'refresh-FROM-ADMIN' }, {}, { policy: testPolicy() }).then(() =>
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'access', expires_in: 3600, refresh_token: 'refresh-STALE' })),
          );
        });
      });
      await new Promise<void>((resolve) => slowServer.listen(0, '127.0.0.1', resolve));
      try {
        const slowUrl = `http://127.0.0.1:${(slowServer.address() as AddressInfo).port}/token`;
        await db.mailbox.update({ where: { id: view.id }, data: { oauth_token_url: slowUrl } });
        await testStoredMailbox(deps, view.id, {});
        expect(decryptSecret((await getMailboxRow(db, view.id)).secret_encrypted, key)).toBe('refresh-FROM-ADMIN');
      } finally {
        await new Promise((resolve) => slowServer.close(resolve));
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('mailbox service', () => {
  it('adds a mailbox with its secret encrypted, and refuses the same address twice', async () => {
    const tenant = await newTenant();
    const view = await addMailbox(db, key, tenant.id, settings({ address: 'Help@Acme.test', aliases: ['Support@Acme.test', 'support@acme.test'], post_action: 'move:Archive' }));
    expect(view).toMatchObject({ tenant: tenant.slug, address: 'help@acme.test', aliases: ['support@acme.test'], post_action: 'move:Archive', since: null, state: 'connecting', has_secret: true });
    expectNoSecret(JSON.stringify(view));

    const raw = await db.$queryRaw<{ j: string }[]>`SELECT row_to_json(m)::text AS j FROM mailboxes m WHERE id = ${view.id}`;
    expect(raw[0]?.j).toBeDefined();
    expectNoSecret(raw[0]?.j ?? '');
    expect(decryptSecret((await getMailboxRow(db, view.id)).secret_encrypted, key)).toBe(PASSWORD);

    const dup = await addMailbox(db, key, tenant.id, settings({ address: 'HELP@acme.test' })).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(MailroomError);
    expect(dup).toMatchObject({ code: 'CONFLICT', message: 'A mailbox for help@acme.test already exists in this tenant.' });
    // Another tenant may use the same address.
    await expect(addMailbox(db, key, (await newTenant()).id, settings({ address: 'help@acme.test' }))).resolves.toMatchObject({ address: 'help@acme.test' });
  });

  it('stores nothing when the check before storing fails', async () => {
    const tenant = await newTenant();
    const failing = addMailbox(db, key, tenant.id, settings(), {
      beforeStore: async () => {
        throw new MailroomError('MAILBOX_AUTH_FAILED', 'no');
      },
    });
    await expect(failing).rejects.toMatchObject({ code: 'MAILBOX_AUTH_FAILED' });
    expect((await listMailboxes(db, { tenantId: tenant.id })).total).toBe(0);
  });

  it('lists per tenant with paging, and hides other tenants behind NOT_FOUND', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await addMailbox(db, key, a.id, settings())).id);
    await addMailbox(db, key, b.id, settings());
    const page = await listMailboxes(db, { tenantId: a.id, page: { page: 2, page_size: 2 } });
    expect(page.total).toBe(3);
    expect(page.mailboxes.map((m) => m.id)).toEqual([ids[2]]);
    await expect(getMailbox(db, ids[0] ?? 0, { tenantId: b.id })).rejects.toMatchObject({ code: 'NOT_FOUND', message: `No mailbox with id ${ids[0]}.` });
    await expect(getMailbox(db, ids[0] ?? 0, { tenantId: a.id })).resolves.toMatchObject({ tenant: a.slug });
  });

  it('disables, enables (failures forgotten) and removes', async () => {
    const tenant = await newTenant();
    const { id } = await addMailbox(db, key, tenant.id, settings());
    await db.mailbox.update({ where: { id }, data: { state: 'auth_error', consecutive_failures: 4, last_error: 'rejected' } });
    expect(await setMailboxEnabled(db, id, false)).toMatchObject({ enabled: false, state: 'disabled' });
    expect(await setMailboxEnabled(db, id, true)).toMatchObject({ enabled: true, state: 'connecting', consecutive_failures: 0 });
    expect((await removeMailbox(db, id)).id).toBe(id);
    await expect(removeMailbox(db, id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('updates only what it is given; new credentials or folder reconnect and reset what no longer applies', async () => {
    const tenant = await newTenant();
    const first = await addMailbox(db, key, tenant.id, settings({ address: 'one@acme.test' }));
    await addMailbox(db, key, tenant.id, settings({ address: 'two@acme.test' }));
    await db.mailbox.update({ where: { id: first.id }, data: { state: 'auth_error', consecutive_failures: 3, cursor: imapCursor(5n, 9n) } });

    const polled = await updateMailbox(db, key, first.id, { poll_seconds: 120, post_action: 'seen' });
    expect(polled).toMatchObject({ poll_seconds: 120, post_action: 'seen', state: 'auth_error', uid_validity: 5, host: '127.0.0.1' });

    const repaired = await updateMailbox(db, key, first.id, { password: 'new-password-1' });
    expect(repaired).toMatchObject({ state: 'connecting', consecutive_failures: 0, uid_validity: 5 });
    expect(decryptSecret((await getMailboxRow(db, first.id)).secret_encrypted, key)).toBe('new-password-1');

    expect(await updateMailbox(db, key, first.id, { folder: 'Archive' })).toMatchObject({ folder: 'Archive', uid_validity: null, last_uid: null });
    await expect(updateMailbox(db, key, first.id, { address: 'TWO@acme.test' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(updateMailbox(db, key, first.id, { auth: 'oauth2', oauth_token_url: 'https://t.example/token', oauth_client_id: 'c' })).rejects.toMatchObject({
      code: 'VALIDATION',
      fields: [{ field: 'refresh_token', message: 'is required for oauth2 authentication' }],
    });
    await expect(updateMailbox(db, key, first.id, { port: 0, secret_encrypted: 'x' })).rejects.toMatchObject({ code: 'VALIDATION' });
    // A stored password never follows the mailbox to another server unless given again.
    await expect(updateMailbox(db, key, first.id, { host: 'imap.acme.test' })).rejects.toMatchObject({
      code: 'VALIDATION',
      fields: [{ field: 'password', message: 'must be given again when host, port, tls or oauth_token_url changes' }],
    });
    expect(await updateMailbox(db, key, first.id, { enabled: false, host: 'imap.acme.test', password: 'new-password-2' })).toMatchObject({ enabled: false, state: 'disabled', host: 'imap.acme.test' });
  });
});

describe('mailroom mailbox', () => {
  const lastLine = (r: CliResult) => r.stdout.trimEnd().split('\n').pop() ?? '';
  const dovecot = () => testEnv().dovecot;
  const addArgs = (slug: string, address: string, extra: string[] = []) => [
    'mailbox', 'add', '--tenant', slug, '--address', address, '--host', dovecot().host, '--port', String(dovecot().imapPort), '--no-tls', '--user', USER, ...extra,
  ];
  const outputs: CliResult[] = [];
  const cli = async (args: string[], options: { input?: string; env?: Record<string, string> } = {}) => {
    const r = await runCli(args, { env: childEnv(options.env), input: options.input });
    outputs.push(r);
    return r;
  };

  afterAll(() => {
    for (const r of outputs) expectNoSecret(r.stdout, r.stderr);
  });

  it('adds with --password-stdin after a passing test, then lists, shows, tests, disables, enables and removes', async () => {
    const tenant = await newTenant();
    const add = await cli(addArgs(tenant.slug, 'Desk@Acme.test', ['--password-stdin', '--alias', 'help@acme.test', '--after', 'move:Archive']), { input: `${PASSWORD}\n` });
    expect(add.stderr).toMatch(/Connection test passed: logged in to 127\.0\.0\.1:\d+ as admin-.* in plain text; folder INBOX has \d+ message/);
    expect(add.code).toBe(0);
    expect(add.stdout.trim()).toMatch(/^\d+$/);
    const id = Number(lastLine(add));
    const row = await getMailboxRow(db, id);
    expect(row).toMatchObject({ address: 'desk@acme.test', aliases: ['help@acme.test'], tls: 'none', post_action: 'move', post_action_folder: 'Archive', since: null });
    expect(decryptSecret(row.secret_encrypted, key)).toBe(PASSWORD);

    const list = await cli(['mailbox', 'list', '--tenant', tenant.slug]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+TENANT\s+ADDRESS\s+HOST:PORT\s+FOLDER\s+ENABLED\s+STATE\s+LAST SUCCESS\s+LAST ERROR/);
    expect(list.stdout).toMatch(new RegExp(`\\n${id}\\s+${tenant.slug}\\s+desk@acme\\.test\\s+127\\.0\\.0\\.1:\\d+\\s+INBOX\\s+yes\\s+connecting\\s+-\\s+-`));
    const json = await cli(['mailbox', 'list', '--tenant', tenant.slug, '--json']);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ id, address: 'desk@acme.test', has_secret: true })]);

    const show = await cli(['mailbox', 'show', String(id)]);
    expect(show.stdout).toMatch(/after:\s+move:Archive/);
    expect(show.stdout).toMatch(/secret:\s+stored \(encrypted\)/);
    const showJson = JSON.parse((await cli(['mailbox', 'show', String(id), '--json'])).stdout) as Record<string, unknown>;
    expect(showJson).toMatchObject({ id, tenant: tenant.slug, post_action: 'move:Archive' });
    expect(Object.keys(showJson).some((k) => k === 'secret_encrypted' || k === 'password')).toBe(false);

    const test = await cli(['mailbox', 'test', String(id)]);
    expect(test.code).toBe(0);
    expect(test.stdout).toMatch(new RegExp(`^Mailbox ${id} \\(desk@acme\\.test\\): logged in to 127\\.0\\.0\\.1:\\d+ as admin-`));

    expect((await cli(['mailbox', 'disable', String(id)])).stdout).toBe(`Disabled mailbox ${id} (desk@acme.test); state disabled.\n`);
    expect((await cli(['mailbox', 'enable', String(id)])).stdout).toBe(`Enabled mailbox ${id} (desk@acme.test); state connecting.\n`);

    const noYes = await cli(['mailbox', 'remove', String(id)]);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/add --yes to confirm/);
    const remove = await cli(['mailbox', 'remove', String(id), '--yes']);
    expect(remove.code).toBe(0);
    expect(remove.stdout).toBe(`Removed mailbox ${id} (desk@acme.test) of tenant ${tenant.slug}.\n`);
    const gone = await cli(['mailbox', 'show', String(id)]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`mailroom: No mailbox with id ${id}.\n`);
  });

  it('adds with --password-env and --since, over implicit TLS with the test CA', async () => {
    const tenant = await newTenant();
    const args = addArgs(tenant.slug, 'tls@acme.test', ['--password-env', 'MBX_PW', '--since', '2026-11-01', '--poll-seconds', '30'])
      .map((a) => (a === String(dovecot().imapPort) ? String(dovecot().imapsPort) : a === '--no-tls' ? '--tls' : a));
    const add = await cli(args, { env: { MBX_PW: PASSWORD, NODE_EXTRA_CA_CERTS: dovecot().certFile } });
    expect(add.stderr).toMatch(/over TLSv1\.[23]/);
    expect(add.stderr).toMatch(/mail received since 2026-11-01T00:00:00\.000Z is backfilled/);
    expect(add.code).toBe(0);
    expect(await getMailbox(db, Number(lastLine(add)))).toMatchObject({ tls: 'tls', since: '2026-11-01T00:00:00.000Z', poll_seconds: 30 });
  });

  it('stores nothing when the connection test fails; --no-test stores it untested; test then names the stage', async () => {
    const tenant = await newTenant();
    const bad = await cli(addArgs(tenant.slug, 'bad@acme.test', ['--password-env', 'MBX_PW']), { env: { MBX_PW: 'wrong-password' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^mailroom: the connection test failed at the auth stage: 127\.0\.0\.1:\d+ rejected the login of user admin-/);
    expect(bad.stderr).toMatch(/Nothing was stored/);
    expect(bad.stdout).toBe('');
    expect(await db.mailbox.count({ where: { tenant_id: tenant.id } })).toBe(0);

    const untested = await cli(addArgs(tenant.slug, 'bad@acme.test', ['--password-stdin', '--no-test', '--folder', 'Nope']), { input: PASSWORD });
    expect(untested.code).toBe(0);
    const id = lastLine(untested);
    const test = await cli(['mailbox', 'test', id]);
    expect(test.code).toBe(1);
    expect(test.stderr).toMatch(new RegExp(`^mailroom: mailbox ${id} \\(bad@acme\\.test\\) failed the connection test at the folder stage: Folder "Nope" does not exist`));
    const dup = await cli(addArgs(tenant.slug, 'bad@acme.test', ['--password-stdin']), { input: PASSWORD });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/A mailbox for bad@acme\.test already exists in this tenant\./);
  });

  it('adds an OAuth2 mailbox with the refresh token from stdin and the client secret from the environment', async () => {
    const tenant = await newTenant();
    const port = await freePort();
    const tokenUrl = `http://127.0.0.1:${port}/token`;
    const args = addArgs(tenant.slug, 'oauth@acme.test', ['--oauth-token-url', tokenUrl, '--oauth-client-id', 'cid-1', '--oauth-client-secret-env', 'MBX_CS', '--oauth-scope', 'imap', '--refresh-token-stdin', '--no-test']);
    const add = await cli(args, { input: 'refresh-token-from-stdin\n', env: { MBX_CS: 'client-secret-from-env' } });
    expect(add.code).toBe(0);
    const id = Number(lastLine(add));
    const row = await getMailboxRow(db, id);
    expect(row).toMatchObject({ auth: 'oauth2', oauth_token_url: tokenUrl, oauth_client_id: 'cid-1', oauth_scope: 'imap' });
    expect(decryptSecret(row.secret_encrypted, key)).toBe('refresh-token-from-stdin');
    expect(decryptSecret(row.oauth_client_secret_encrypted ?? '', key)).toBe('client-secret-from-env');
    const test = await cli(['mailbox', 'test', String(id)]);
    expect(test.code).toBe(1);
    expect(test.stderr).toMatch(`failed the connection test at the oauth stage: The OAuth2 token endpoint ${tokenUrl} cannot be reached (ECONNREFUSED).`);
    const show = await cli(['mailbox', 'show', String(id), '--json']);
    for (const r of [add, test, show]) for (const s of ['refresh-token-from-stdin', 'client-secret-from-env']) expect(r.stdout + r.stderr).not.toContain(s);
    expect(JSON.parse(show.stdout)).toMatchObject({ auth: 'oauth2', has_secret: true, has_oauth_client_secret: true });
  });

  it.each([
    [['mailbox'], /Missing sub-command/],
    [['mailbox', 'frob'], /Unknown sub-command "mailbox frob"/],
    [['mailbox', 'show', 'abc'], /"abc" is not a mailbox id/],
    [['mailbox', 'add', '--address', 'a@b.test'], /Missing --tenant/],
    [['mailbox', 'add', '--tenant', 'x', '--address', 'a@b.test', '--host', 'h', '--port', '70000', '--user', 'u', '--password-env', 'MBX_PW'], /--port must be between 1 and 65535/],
    [['mailbox', 'add', '--tenant', 'x', '--address', 'a@b.test', '--host', 'h', '--port', '143', '--user', 'u', '--password-env', 'MBX_PW', '--password-stdin'], /exactly one of --password-env VAR and --password-stdin/],
    [['mailbox', 'add', '--tenant', 'x', '--address', 'a@b.test', '--host', 'h', '--port', '143', '--user', 'u', '--password-env', 'UNSET_VAR'], /UNSET_VAR is not set/],
    [['mailbox', 'add', '--tenant', 'x', '--address', 'a@b.test', '--host', 'h', '--port', '143', '--user', 'u', '--password-env', 'MBX_PW', '--tls', '--no-tls'], /only one of --tls, --starttls and --no-tls/],
    [['mailbox', 'add', '--tenant', 'x', '--address', 'a@b.test', '--host', 'h', '--port', '143', '--user', 'u', '--password-env', 'MBX_PW', '--after', 'delete', '--since', '2026-11-01'], /--after must be seen, none or move:FOLDER/],
    [['mailbox', 'add', '--tenant', 'x', '--address', 'a@b.test', '--host', 'h', '--port', '143', '--user', 'u', '--password-env', 'MBX_PW', '--since', 'last week'], /--since must be a date/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const r = await cli(args, { env: { MBX_PW: PASSWORD } });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('says which tenant does not exist', async () => {
    const r = await cli(addArgs(`nobody-${suffix}`, 'a@acme.test', ['--password-env', 'MBX_PW', '--no-test']), { env: { MBX_PW: PASSWORD } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`mailroom: Tenant "nobody-${suffix}" does not exist.\n`);
  });
});
