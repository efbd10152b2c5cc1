// The admin console (/admin) through app.inject(): who may in (an ADMIN login
// only), what refuses a forged form (no CSRF token, another site's Origin or
// Sec-Fetch-Site), what every page sends (strict CSP, no inline script or
// style), that hostile values are escaped and secrets never rendered, and the
// pages against real data (mailboxes, the ingest log with reprocess, tickets
// with their conversations). The browser's view is console-browser.test.ts.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/api/admin-session.js';
import type { PrismaClient } from '../../src/db/prisma.js';
import { valuesOf } from '../../src/api/console/mailbox-views.js';
import { addMailbox, getMailbox } from '../../src/mailboxes/service.js';
import { createApiTenant, type ApiTenant } from '../support/api.js';
import { buildConsoleTestApp, csrfOf, form, loginCookie, type ConsoleTestApp } from '../support/console.js';
import { addDovecotUser } from '../support/dovecot.js';
import { testEnv } from '../support/env.js';
import { imapCursor, ingestMessage, type FetchedMessage, type IngestContext, type IngestMailbox } from '../support/ingest.js';
import { createLogger } from '../../src/logging/logger.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const PASSWORD = `pw-${randomBytes(10).toString('hex')}`;

let t: ConsoleTestApp;
let app: FastifyInstance;
let db: PrismaClient;
let tenant: ApiTenant;
let cookie: string;
let csrf: string;

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ url, headers: { cookie, accept: 'text/html', ...headers } });
const post = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) => {
  const f = form(fields);
  return app.inject({ method: 'POST', url, payload: f.payload, headers: { cookie, 'content-type': f['content-type'], ...headers } });
};

beforeAll(async () => {
  t = await buildConsoleTestApp();
  ({ app, db } = t);
  tenant = await createApiTenant(db, 'console');
  cookie = await loginCookie(app, tenant.adminToken);
  csrf = csrfOf((await get('/admin')).body);
});

afterAll(async () => {
  await t?.close();
});

describe('who may use the console', () => {
  it('sends a browser without a session to the login page, and refuses forms with 401', async () => {
    const page = await app.inject({ url: '/admin', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe('/admin/login');
    const posted = await app.inject({ method: 'POST', url: '/admin/mailboxes', ...form({ address: 'x@y.test' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(posted.statusCode).toBe(401);
  });

  it('refuses a USER token at the login form and as a header, and an ADMIN token without a login', async () => {
    const login = await app.inject({ method: 'POST', url: '/admin/login', ...form({ token: tenant.userToken }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(login.statusCode).toBe(403);
    expect(login.headers['set-cookie']).toBeUndefined();
    const user = await app.inject({ url: '/admin', headers: { authorization: `Bearer ${tenant.userToken}` } });
    expect(user.statusCode).toBe(403);
    expect(user.body).toContain('needs an ADMIN login');
    // The console is tied to a login session (its forms are); a bearer token alone is sent to log in.
    const admin = await app.inject({ url: '/admin', headers: { authorization: `Bearer ${tenant.adminToken}` } });
    expect(admin.statusCode).toBe(302);
  });

  it('lands an ADMIN login on the console, and ends with the token', async () => {
    const login = await app.inject({ method: 'POST', url: '/admin/login', ...form({ token: tenant.adminToken }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/admin');
    const own = String(login.headers['set-cookie']).split(';')[0] ?? '';
    expect(own).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect((await app.inject({ url: '/admin', headers: { cookie: own } })).statusCode).toBe(200);
    const ownCsrf = csrfOf((await app.inject({ url: '/admin', headers: { cookie: own } })).body);
    const out = await app.inject({ method: 'POST', url: '/admin/logout', ...form({ _csrf: ownCsrf }), headers: { cookie: own, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' } });
    expect(out.statusCode).toBe(303);
    expect((await app.inject({ url: '/admin', headers: { cookie: own, accept: 'text/html' } })).statusCode).toBe(302);
  });

  it('logs out only from this site: another site cannot end a session by a link, an image or a form', async () => {
    const own = await loginCookie(app, tenant.adminToken);
    const ownCsrf = csrfOf((await app.inject({ url: '/admin', headers: { cookie: own } })).body);
    const alive = async () => (await app.inject({ url: '/admin', headers: { cookie: own, accept: 'text/html' } })).statusCode === 200;
    const urlencoded = { cookie: own, 'content-type': 'application/x-www-form-urlencoded' };
    // A cross-site link or <img>, and a GET from a browser that says nothing: a page with the button, the session stays.
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, {}]) {
      const res = await app.inject({ url: '/admin/logout', headers: { cookie: own, ...headers } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<form method="post" action="/admin/logout">');
      expect(res.body).toContain(`name="_csrf" value="${ownCsrf}"`);
      expect(await alive()).toBe(true);
    }
    // A cross-site form, and a form without the session's token: refused.
    const forged = await app.inject({ method: 'POST', url: '/admin/logout', ...form({ _csrf: ownCsrf }), headers: { ...urlencoded, origin: 'https://evil.example' } });
    expect(forged.statusCode).toBe(403);
    const tokenless = await app.inject({ method: 'POST', url: '/admin/logout', ...form({}), headers: urlencoded });
    expect(tokenless.statusCode).toBe(403);
    expect(await alive()).toBe(true);
    // The queue board's link, followed from this site.
    const linked = await app.inject({ url: '/admin/logout', headers: { cookie: own, 'sec-fetch-site': 'same-origin' } });
    expect(linked.statusCode).toBe(303);
    expect(await alive()).toBe(false);
  });

  it("shows only the login's tenant: another tenant's mailbox is not found", async () => {
    const other = await createApiTenant(db, 'console-other');
    const theirs = await addMailbox(db, t.config.secretKey, other.id, { address: `x-${randomBytes(3).toString('hex')}@other.test`, host: '127.0.0.1', port: 143, tls: 'none', username: 'u', password: 'p' });
    const res = await get(`/admin/mailboxes/${theirs.id}`);
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain(theirs.address);
    const removed = await post(`/admin/mailboxes/${theirs.id}/remove`, { _csrf: csrf });
    expect(removed.statusCode).toBe(404);
    expect(await getMailbox(db, theirs.id)).toMatchObject({ id: theirs.id });
  });
});

describe('pages', () => {
  it('are sent with a strict Content-Security-Policy, no inline script or style, and link the ops pages', async () => {
    const res = await get('/admin');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'self';/);
    expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
    for (const href of ['/admin/static/console.css', '/admin/queues', '/metrics', '/docs', '/admin/tickets', '/admin/mailboxes/new']) expect(res.body).toContain(`href="${href}"`);
    const css = await app.inject({ url: '/admin/static/console.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
  });
});

describe('forms refuse forged posts', () => {
  let id: number;
  beforeAll(async () => {
    id = (await addMailbox(db, t.config.secretKey, tenant.id, { address: `forge-${randomBytes(3).toString('hex')}@console.test`, host: '127.0.0.1', port: 143, tls: 'none', username: 'u', password: PASSWORD })).id;
  });

  it('without the CSRF token, with another session\'s, or from another site', async () => {
    const other = await loginCookie(app, tenant.adminToken);
    const otherCsrf = csrfOf((await app.inject({ url: '/admin', headers: { cookie: other } })).body);
    expect(otherCsrf).not.toBe(csrf);
    const attempts = [
      await post(`/admin/mailboxes/${id}/disable`, {}),
      await post(`/admin/mailboxes/${id}/disable`, { _csrf: 'x'.repeat(43) }),
      await post(`/admin/mailboxes/${id}/disable`, { _csrf: otherCsrf }),
      await post(`/admin/mailboxes/${id}/disable`, { _csrf: csrf }, { origin: 'https://evil.example' }),
      await post(`/admin/mailboxes/${id}/disable`, { _csrf: csrf }, { 'sec-fetch-site': 'cross-site' }),
      await post(`/admin/mailboxes/${id}/disable`, { _csrf: csrf }, { 'sec-fetch-site': 'same-site' }),
    ];
    for (const res of attempts) {
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('Refused');
    }
    expect((await getMailbox(db, id)).enabled).toBe(true);
    const ok = await post(`/admin/mailboxes/${id}/disable`, { _csrf: csrf }, { origin: 'http://localhost:8080', host: 'localhost:8080', 'sec-fetch-site': 'same-origin' });
    expect(ok.statusCode).toBe(303);
    expect((await getMailbox(db, id)).enabled).toBe(false);
  });
});

describe('mailboxes', () => {
  let id: number;
  const address = `box-${randomBytes(3).toString('hex')}@console.test`;

  it('adds one untested, with the password write-only', async () => {
    const res = await post('/admin/mailboxes', { _csrf: csrf, action: 'add', skip_test: 'on', enabled: 'on', address, host: '127.0.0.1', port: '1', tls: 'none', username: 'user', password: PASSWORD, post_action: 'move', move_folder: 'Done', poll_seconds: '120', since: '2026-11-01', aliases: `help@console.test\n` });
    expect(res.statusCode).toBe(303);
    id = Number(/\/admin\/mailboxes\/(\d+)$/.exec(String(res.headers.location))?.[1]);
    const mailbox = await getMailbox(db, id, { tenantId: tenant.id });
    expect(mailbox).toMatchObject({ address, port: 1, tls: 'none', post_action: 'move:Done', poll_seconds: 120, since: '2026-11-01T00:00:00.000Z', aliases: ['help@console.test'], has_secret: true });
    const page = await get(String(res.headers.location), { cookie: `${cookie}; ${String(res.headers['set-cookie']).split(';')[0]}` });
    expect(page.body).toContain('added without a connection test');
    expect(page.body).toContain('<input type="password" id="f-password" name="password" aria-describedby="f-password-hint" value=""');
    expect(page.body).not.toContain(PASSWORD);
  });

  it('names the bad fields of a form and keeps what was typed, except the password', async () => {
    const res = await post('/admin/mailboxes', { _csrf: csrf, action: 'add', address: 'not-an-address', host: 'imap.example.test', port: 'imap', tls: 'tls', username: 'u', password: PASSWORD, poll_seconds: '1', tls_ca_pem: 'not a certificate' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/id="f-tls_ca_pem-error">must be PEM certificates/);
    expect(res.body).toMatch(/id="f-address-error">must be an email address/);
    expect(res.body).toMatch(/id="f-port-error">must be a number/);
    expect(res.body).toMatch(/id="f-poll_seconds-error">must be at least 5/);
    expect(res.body).toContain('value="imap.example.test"');
    expect(res.body).not.toContain(PASSWORD);
  });

  it('edits only what changed; an empty password keeps the stored one; a new host needs it again', async () => {
    const before = await db.mailbox.findUniqueOrThrow({ where: { id } });
    const page = await get(`/admin/mailboxes/${id}`);
    const same = { _csrf: csrf, address, aliases: 'help@console.test', host: '127.0.0.1', port: '1', tls: 'none', username: 'user', password: '', folder: 'INBOX', post_action: 'move', move_folder: 'Done', poll_seconds: '120', since: '2026-11-01' };
    expect(page.body).toContain('value="Done"');
    const nothing = await post(`/admin/mailboxes/${id}`, same);
    expect(nothing.statusCode).toBe(303);
    // Another folder needs a new connection: it is tested first (port 1 refuses), and a failed test changes nothing.
    const untested = await post(`/admin/mailboxes/${id}`, { ...same, poll_seconds: '300', folder: 'Support' });
    expect(untested.statusCode).toBe(422);
    expect(untested.body).toContain('Connection test failed: TCP connection failed');
    expect(await db.mailbox.findUniqueOrThrow({ where: { id } })).toMatchObject({ poll_seconds: before.poll_seconds, folder: before.folder });
    const changed = await post(`/admin/mailboxes/${id}`, { ...same, poll_seconds: '300', folder: 'Support', skip_test: 'on' });
    expect(changed.statusCode).toBe(303);
    const after = await db.mailbox.findUniqueOrThrow({ where: { id } });
    expect(after).toMatchObject({ poll_seconds: 300, folder: 'Support', secret_encrypted: before.secret_encrypted });
    const moved = await post(`/admin/mailboxes/${id}`, { ...same, host: 'imap.elsewhere.test' });
    expect(moved.statusCode).toBe(400);
    expect(moved.body).toMatch(/id="f-password-error">must be given again when host, port, tls or oauth_token_url changes/);
    expect((await db.mailbox.findUniqueOrThrow({ where: { id } })).host).toBe('127.0.0.1');
  });

  it('stores a private CA posted through the form, shows its subject and fingerprint, keeps it when the field is left empty, and removes it', async () => {
    const pem = readFileSync(testEnv().dovecot.certFile, 'utf8');
    const stored = async () => (await db.mailbox.findUniqueOrThrow({ where: { id } })).tls_ca_pem;
    // The edit form as the page fills it (the CA field empty: unchanged).
    const filled = async (): Promise<Record<string, string>> => ({ _csrf: csrf, ...(valuesOf(await getMailbox(db, id)) as Record<string, string>) });
    const bad = await post(`/admin/mailboxes/${id}`, { ...(await filled()), tls_ca_pem: 'not a certificate' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/id="f-tls_ca_pem-error">must be PEM certificates/);
    expect(await stored()).toBeNull();

    // As a browser sends a textarea: CRLF line breaks.
    const saved = await post(`/admin/mailboxes/${id}`, { ...(await filled()), skip_test: 'on', tls_ca_pem: pem.replace(/\r?\n/g, '\r\n') });
    expect(saved.statusCode).toBe(303);
    expect(await stored()).toBe(`${pem.replace(/\r\n/g, '\n').trim()}\n`);
    const [cert] = (await getMailbox(db, id)).tls_ca ?? [];
    expect(cert?.subject).toBe('CN=localhost');
    const page = await get(`/admin/mailboxes/${id}`);
    expect(page.body).toContain(`<dt>Private CA</dt><dd><div class="wrap">CN=localhost <span class="muted small">(SHA-256 ${cert?.fingerprint_sha256}, valid to <time`);
    expect(page.body).not.toContain(pem.split('\n')[1]);
    expect(page.body).toContain('<input type="checkbox" name="remove_ca">');

    const kept = await post(`/admin/mailboxes/${id}`, { ...(await filled()), poll_seconds: '600' });
    expect(kept.statusCode).toBe(303);
    expect(await stored()).not.toBeNull();
    const removed = await post(`/admin/mailboxes/${id}`, { ...(await filled()), skip_test: 'on', remove_ca: 'on' });
    expect(removed.statusCode).toBe(303);
    expect(await stored()).toBeNull();
    expect((await get(`/admin/mailboxes/${id}`)).body).not.toContain('name="remove_ca"');

    // The add form stores one too.
    const added = await post('/admin/mailboxes', { _csrf: csrf, action: 'add', skip_test: 'on', address: `ca-${randomBytes(3).toString('hex')}@console.test`, host: '127.0.0.1', port: '993', tls: 'tls', username: 'u', password: PASSWORD, post_action: 'none', tls_ca_pem: pem });
    expect(added.statusCode).toBe(303);
    const addedId = Number(/\/admin\/mailboxes\/(\d+)$/.exec(String(added.headers.location))?.[1]);
    expect((await getMailbox(db, addedId)).tls_ca).toEqual([expect.objectContaining({ subject: 'CN=localhost', fingerprint_sha256: cert?.fingerprint_sha256 })]);
  });

  it('tests a stored mailbox and says which stage failed', async () => {
    const res = await post(`/admin/mailboxes/${id}/test`, { _csrf: csrf });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Connection test failed: TCP connection failed');
    expect(res.body).toMatch(/DNS lookup: passed/);
    expect(res.body).toMatch(/Authentication: not reached/);
  });

  it('tests new settings against the test Dovecot before adding: a wrong password fails at authentication', async () => {
    const user = `console-${randomBytes(4).toString('hex')}@example.test`;
    await addDovecotUser(testEnv().dovecot, user);
    const fields = { _csrf: csrf, action: 'test', address: user, host: testEnv().dovecot.host, port: String(testEnv().dovecot.imapPort), tls: 'none', username: user, password: 'wrong-password', post_action: 'none' };
    const wrong = await post('/admin/mailboxes', fields);
    expect(wrong.body).toContain('Connection test failed: authentication failed');
    const right = await post('/admin/mailboxes', { ...fields, password: 'secret' });
    expect(right.body).toContain('Connection test passed');
    expect(right.body).not.toContain('value="secret"');
    expect(await db.mailbox.count({ where: { address: user } })).toBe(0);
  });

  it('removes a mailbox after a confirmation page', async () => {
    const confirm = await get(`/admin/mailboxes/${id}/remove`);
    expect(confirm.body).toContain(`Remove ${address}?`);
    expect(await db.mailbox.count({ where: { id } })).toBe(1);
    const res = await post(`/admin/mailboxes/${id}/remove`, { _csrf: csrf });
    expect(res.statusCode).toBe(303);
    expect(await db.mailbox.count({ where: { id } })).toBe(0);
  });
});

describe('the ingest log and tickets', () => {
  let mailbox: IngestMailbox;
  let ctx: IngestContext;
  let uid = 0n;
  const ids: Record<string, number> = {};
  const fetched = (raw: Buffer): FetchedMessage => ({ uidValidity: 7n, uid: ++uid, raw, internalDate: new Date(Date.UTC(2026, 11, 1, 9, 0, Number(uid))) });
  const mail = (subject: string, from: string, body: string, headers = 'Content-Type: text/plain; charset=utf-8') =>
    Buffer.from(`From: ${from}\r\nTo: support@hostile.test\r\nCc: boss@customer.test\r\nSubject: ${subject}\r\nMessage-ID: <${randomBytes(6).toString('hex')}@customer.test>\r\nMIME-Version: 1.0\r\n${headers}\r\n\r\n${body}`);

  beforeAll(async () => {
    const row = await db.mailbox.create({ data: { tenant_id: tenant.id, address: 'support@hostile.test', host: '127.0.0.1', port: 143, tls: 'none', username: 'u', secret_encrypted: 'x', folder: HOSTILE, cursor: imapCursor(7n, 0n) } });
    mailbox = { id: row.id, tenant_id: tenant.id, address: row.address, aliases: [] };
    ctx = { db, blobs: t.blobs, secretKey: t.config.secretKey, publicUrl: t.config.publicUrl, logger: createLogger({ level: 'silent' }) };
    const html = `--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p style="color:red">Printer ${HOSTILE} is on fire<script>alert(2)</script></p>\r\n--b\r\nContent-Type: application/pdf; name="${HOSTILE}.pdf"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n`;
    ids.conversation = (await ingestMessage(ctx, mailbox, fetched(mail(`Help ${HOSTILE}`, `"Eve ${HOSTILE}" <eve@customer.test>`, html, 'Content-Type: multipart/mixed; boundary="b"')))).recordId;
    ids.failed = (await ingestMessage({ ...ctx, parseLimits: { maxRawBytes: 10 } }, mailbox, fetched(mail('Too big for now', 'anna@customer.test', 'Hello.\r\n')))).recordId;
    ids.unreadable = (await ingestMessage(ctx, mailbox, fetched(Buffer.from('\u0000\u0001this is not mail')))).recordId;
  });

  it('lists mailboxes with their health and backlog, escaping every value', async () => {
    const res = await get('/admin');
    expect(res.body).toContain('support@hostile.test');
    expect(res.body).toMatch(/log\?outcome=failed">2 failed</);
    const one = await get(`/admin/mailboxes/${mailbox.id}`);
    expect(one.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(one.body).not.toContain(HOSTILE);
  });

  it('shows the log filtered by outcome, with links, errors and reprocess buttons', async () => {
    const all = await get(`/admin/mailboxes/${mailbox.id}/log`);
    expect(all.statusCode).toBe(200);
    expect(all.body).toContain('All (3)');
    expect(all.body).toContain('failed (2)');
    expect(all.body).not.toContain(HOSTILE);
    expect(all.body).toContain('Help &lt;img src=x onerror=alert(1)&gt;');
    const conversationRow = await db.ingestRecord.findUniqueOrThrow({ where: { id: ids.conversation! } });
    expect(all.body).toContain(`href="/admin/tickets/${conversationRow.ticket_id}#conversation-${conversationRow.conversation_id}"`);
    const failed = await get(`/admin/mailboxes/${mailbox.id}/log?outcome=failed`);
    expect(failed.body).toContain('<code>MAIL_LIMIT_EXCEEDED</code>');
    expect(failed.body).toContain('<code>MAIL_UNREADABLE</code>');
    expect(failed.body).not.toContain('Help &lt;img');
    expect(failed.body).toContain(`action="/admin/mailboxes/${mailbox.id}/log/${ids.failed}/reprocess"`);
    expect(failed.body).toContain('Reprocess all failed (2)');
  });

  it('reprocesses one failed message and then all failed ones, saying what became of them', async () => {
    const one = await post(`/admin/mailboxes/${mailbox.id}/log/${ids.failed}/reprocess`, { _csrf: csrf });
    expect(one.statusCode).toBe(303);
    const flash = String(one.headers['set-cookie']).split(';')[0] ?? '';
    const shown = await get(String(one.headers.location), { cookie: `${cookie}; ${flash}` });
    expect(shown.body).toMatch(/Message \d+ reprocessed: failed → conversation \(ticket \d+, conversation \d+\)\./);
    expect((await db.ingestRecord.findUniqueOrThrow({ where: { id: ids.failed! } })).outcome).toBe('conversation');
    const bulk = await post(`/admin/mailboxes/${mailbox.id}/reprocess-failed`, { _csrf: csrf });
    expect(bulk.statusCode).toBe(303);
    const after = await get(String(bulk.headers.location), { cookie: `${cookie}; ${String(bulk.headers['set-cookie']).split(';')[0] ?? ''}` });
    expect(after.body).toContain('Reprocessed 1 of 1 failed message(s): 1 failed.');
  });

  it('shows tickets and a conversation as an agent reads it, the mail itself in a sandboxed frame', async () => {
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: ids.conversation! } });
    const list = await get('/admin/tickets');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(`href="/admin/tickets/${record.ticket_id}"`);
    expect(list.body).not.toContain(HOSTILE);
    const res = await get(`/admin/tickets/${record.ticket_id}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(HOSTILE);
    expect(res.body).not.toContain('<script');
    expect(res.body).toMatch(/<dt>FROM<\/dt><dd>Eve &lt;img src=x onerror=alert\(1\)&gt; &lt;eve@customer.test&gt;<\/dd>/);
    expect(res.body).toMatch(/<dt>CC<\/dt><dd>boss@customer.test<\/dd>/);
    expect(res.body).toContain('<h3>Extracted reply</h3>\n<div class="extracted">Printer is on fire</div>');
    // The file name was made safe on ingest; its status shows until the attachment job ends.
    expect(res.body).toMatch(/<td class="wrap">img src=x onerror=alert\(1\)_\.pdf<\/td><td class="num">1 KiB<\/td><td><span class="badge att-UNAVAILABLE">UNAVAILABLE<\/span>/);
    const frame = `/admin/tickets/${record.ticket_id}/conversations/${record.conversation_id}/html`;
    expect(res.body).toContain(`<iframe class="mail" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" loading="lazy" title="Message of conversation ${record.conversation_id} as sent" src="${frame}"></iframe>`);
    const doc = await get(frame);
    expect(doc.statusCode).toBe(200);
    expect(doc.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'unsafe-inline';.*sandbox allow-popups/);
    expect(doc.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(doc.body).toContain('style="color:red"');
    expect(doc.body).not.toMatch(/<script|onerror/i);
    expect((await get(`/admin/tickets/${record.ticket_id}/conversations/999999/html`)).statusCode).toBe(404);
    const filtered = await get(`/admin/tickets?status=nope`);
    expect(filtered.statusCode).toBe(400);
    expect(filtered.body).toContain('status &quot;nope&quot; is not a status of this tenant');
  });
});
