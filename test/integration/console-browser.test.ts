// The admin console in Debian's Chromium (driven by playwright-core over the
// DevTools protocol), doing what an admin does: refused with a USER token, log
// in, add a mailbox of the test Dovecot after its connection test (a wrong
// password fails at authentication), watch the mail a sync ingests appear in
// the ingest log, reprocess the one that failed, read the ticket, and see a
// forged cross-site form refused. Screenshots of every page go to
// test-artifacts/console/ (docs/images/console-*.png are copies of them).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { processAttachment } from '../../src/attachments/processor.js';
import { DEFAULT_POLICY_LIMITS } from '../../src/attachments/policy.js';
import { enqueueAttachmentJobs, type AttachmentJobData } from '../../src/queues/queues.js';
import { AccessTokenCache } from '../../src/sources/oauth.js';
import { createMailboxLocks, type MailboxLocks } from '../../src/sync/lock.js';
import { syncMailbox, type SyncDeps } from '../../src/sync/sync-mailbox.js';
import { createApiTenant, type ApiTenant } from '../support/api.js';
import { buildConsoleTestApp, type ConsoleTestApp } from '../support/console.js';
import { addDovecotUser, appendMessage, DEFAULT_PASSWORD, freePort, waitFor } from '../support/dovecot.js';
import { testEnv } from '../support/env.js';
import { testMail } from '../support/mailboxes.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.resolve('test-artifacts/console');
/** The sync below ingests with this parse limit, so the long mail fails until it is reprocessed (the app's own limit is the default). */
const SMALL_LIMIT = 4000;

let t: ConsoleTestApp;
let tenant: ApiTenant;
let baseUrl: string;
let browser: Browser;
let locks: MailboxLocks;
let deps: SyncDeps;
/** The attachment jobs the sync enqueued; the test runs them as the attachment worker would. */
const attachmentJobs: AttachmentJobData[] = [];

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `console-${name}.png`), fullPage: true });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The admin console's browser tests need Chromium, and there is none at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (Debian/Ubuntu; .ci/run does), or point CHROMIUM_PATH at a Chromium or Chrome binary.`);
  }
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  t = await buildConsoleTestApp({ MAILROOM_PUBLIC_URL: baseUrl });
  tenant = await createApiTenant(t.db, 'browser');
  await t.app.listen({ port, host: '127.0.0.1' });
  const logger = createLogger({ level: 'silent' });
  locks = createMailboxLocks({ databaseUrl: testEnv().databaseUrl });
  // What a worker does, with a small parse limit: the app's blob store, so the console's reprocess reads what the sync stored.
  deps = {
    db: t.db,
    locks,
    ingest: { db: t.db, blobs: t.blobs, secretKey: t.config.secretKey, publicUrl: t.config.publicUrl, logger, parseLimits: { maxRawBytes: SMALL_LIMIT } },
    source: { secretKeys: [t.config.secretKey], logger, tokens: new AccessTokenCache(), maxRawBytes: 1024 * 1024, policy: t.config.connectionPolicy },
    logger,
    enqueueAttachments: async (rows) => {
      attachmentJobs.push(...rows);
      await enqueueAttachmentJobs(t.queues.attachments, rows);
    },
  };
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

afterAll(async () => {
  await browser?.close();
  await locks?.close();
  await t?.close();
});

describe('the admin console in headless Chromium', () => {
  it('is refused with a USER token, as a header or at the login form', async () => {
    const asUser = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${tenant.userToken}` } });
    const page = await asUser.newPage();
    const res = await page.goto(`${baseUrl}/admin`);
    expect(res?.status()).toBe(403);
    expect(await page.innerText('main')).toContain('The admin console needs an ADMIN login; this is a USER token.');
    await asUser.close();

    const context = await browser.newContext();
    const login = await context.newPage();
    await login.goto(`${baseUrl}/admin`);
    expect(new URL(login.url()).pathname).toBe('/admin/login');
    await login.fill('input[name="token"]', tenant.userToken);
    const [refused] = await Promise.all([login.waitForNavigation(), login.click('button[type="submit"]')]);
    expect(refused?.status()).toBe(403);
    expect(await login.innerText('body')).toContain('This is a USER token');
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });

  it('adds a mailbox after its connection test, shows ingested mail in the log, reprocesses the failed one and shows its ticket', { timeout: 180_000 }, async () => {
    const dovecot = testEnv().dovecot;
    const user = `console-${randomBytes(4).toString('hex')}@example.test`;
    await addDovecotUser(dovecot, user);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const submit = async (button: string) => {
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: button, exact: true }).click()]);
    };

    // Log in.
    await page.goto(`${baseUrl}/admin/login`);
    await shot(page, 'login');
    await page.fill('input[name="token"]', tenant.adminToken);
    await Promise.all([page.waitForURL(`${baseUrl}/admin`), page.click('button[type="submit"]')]);
    expect(await page.innerText('h1')).toBe('Mailboxes');

    // The add form, with a wrong password first.
    await Promise.all([page.waitForURL(`${baseUrl}/admin/mailboxes/new`), page.getByRole('link', { name: 'Add a mailbox' }).click()]);
    const fillForm = async (password: string) => {
      await page.getByLabel('Address', { exact: true }).fill(user);
      await page.getByLabel('IMAP host').fill(dovecot.host);
      await page.getByLabel('Port').fill(String(dovecot.imapPort));
      await page.getByLabel('TLS', { exact: true }).selectOption('none');
      await page.getByLabel('User name').fill(user);
      await page.getByLabel('Password').fill(password);
      await page.getByLabel('Backfill since').fill(new Date().toISOString().slice(0, 10));
    };
    await fillForm('not-the-password');
    await submit('Test connection');
    const failed = page.getByRole('alert');
    expect(await failed.locator('h2').innerText()).toBe('Connection test failed: authentication failed');
    expect(await failed.innerText()).toMatch(/TCP connection: passed[\s\S]*Authentication: failed — 127\.0\.0\.1:\d+ rejected the login of user console-/);
    await shot(page, 'add-test-failed');
    // The form keeps what was typed, but never the password.
    expect(await page.getByLabel('Address', { exact: true }).inputValue()).toBe(user);
    expect(await page.getByLabel('Password').inputValue()).toBe('');

    await fillForm(DEFAULT_PASSWORD);
    await submit('Test connection');
    expect(await page.getByRole('status').locator('h2').innerText()).toBe('Connection test passed');
    await shot(page, 'add-test-passed');
    expect(await page.content()).not.toContain(`value="${DEFAULT_PASSWORD}"`);

    await fillForm(DEFAULT_PASSWORD);
    await submit('Add mailbox');
    expect(new URL(page.url()).pathname).toMatch(/^\/admin\/mailboxes\/\d+$/);
    const mailboxId = Number(new URL(page.url()).pathname.split('/').pop());
    expect(await page.getByRole('status').first().innerText()).toBe(`Mailbox ${user} added (its connection test passed).`);

    // Mail arrives; a sync (the worker's job) ingests it while the admin watches the log.
    await appendMessage(dovecot, user, testMail(user, { subject: 'Printer on fire', body: 'Hello,\r\n\r\nthe printer on floor 3 is on fire.\r\n\r\nAnna', attachment: true }));
    await appendMessage(dovecot, user, testMail(user, { subject: 'Quarterly report', body: 'The report, in full:\r\n' + 'A line of the quarterly report.\r\n'.repeat(200) }));
    await Promise.all([page.waitForURL(`${baseUrl}/admin/mailboxes/${mailboxId}/log`), page.getByRole('link', { name: 'Ingest log' }).click()]);
    const synced = syncMailbox(deps, mailboxId, { signal: new AbortController().signal });
    await waitFor(
      async () => {
        await page.reload();
        return (await page.locator('tbody tr').count()) === 2;
      },
      30_000,
      'the two mails did not appear in the ingest log',
    );
    expect(await synced).toMatchObject({ status: 'ok', ingested: 2 });
    const printer = page.locator('tbody tr', { hasText: 'Printer on fire' });
    expect(await printer.locator('.badge').innerText()).toBe('conversation');
    // The long mail failed before it was parsed: no sender or subject yet, its error instead.
    const failedRow = page.locator('tbody tr', { hasText: 'MAIL_LIMIT_EXCEEDED' });
    expect(await failedRow.innerText()).toMatch(/unknown\s+\(no subject\)\s+failed\s+none\s+MAIL_LIMIT_EXCEEDED The message is \d+ bytes, over the limit of 4000/);
    const report = page.locator(`tr#${await failedRow.getAttribute('id')}`);
    await shot(page, 'log');

    // Reprocess the failed one (the app's limit is the default, so it now becomes a conversation).
    await Promise.all([page.waitForNavigation(), report.getByRole('button', { name: 'Reprocess' }).click()]);
    expect(await page.getByRole('status').first().innerText()).toMatch(/^Message \d+ reprocessed: failed → conversation \(ticket \d+, conversation \d+\)\.$/);
    expect(await report.locator('.badge').innerText()).toBe('conversation');
    expect(await report.innerText()).toContain('Quarterly report');
    expect(await page.getByRole('button', { name: /Reprocess all failed/ }).count()).toBe(0);

    // The attachment worker checks the PDF; the ticket then offers its download.
    for (const job of attachmentJobs) await processAttachment({ db: t.db, blobs: t.blobs, logger: createLogger({ level: 'silent' }), limits: DEFAULT_POLICY_LIMITS, attemptBudget: 5 }, job, { attempt: 1, maxAttempts: 5 });
    expect(attachmentJobs).toHaveLength(1);

    // The ticket of the first mail, as an agent reads it.
    await Promise.all([page.waitForNavigation(), printer.getByRole('link', { name: /^Ticket \d+/ }).click()]);
    expect(await page.innerText('h1')).toMatch(/^\[#\d+\] Printer on fire$/);
    const conversation = page.locator('article.conversation').first();
    expect(await conversation.locator('.extracted').innerText()).toContain('the printer on floor 3 is on fire.');
    expect(await conversation.locator('dl.facts').innerText()).toMatch(/FROM\s+Customer <customer@example\.com>\s+TO\s+console-/);
    expect(await conversation.locator('table').innerText()).toMatch(/doc\.pdf\s+1 KiB\s+OK\s+Download/);
    const href = await conversation.getByRole('link', { name: 'Download doc.pdf' }).getAttribute('href');
    expect(href).toMatch(new RegExp(`^${baseUrl}/api/${tenant.slug}/v1/attachments/\\d+/download\\?expires=\\d+&sig=[0-9a-f]{64}$`));
    const download = await page.request.get(href ?? '');
    expect(download.status()).toBe(200);
    expect(download.headers()['content-disposition']).toContain('attachment; filename="doc.pdf"');
    expect((await download.body()).toString()).toBe('%PDF-1.4\n');
    const frame = page.frameLocator('iframe.mail').first();
    await frame.locator('body').getByText('the printer on floor 3 is on fire.').waitFor();
    await shot(page, 'ticket');

    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Tickets', exact: true }).click()]);
    expect(await page.locator('tbody tr').count()).toBe(2);
    await shot(page, 'tickets');

    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Mailboxes', exact: true }).click()]);
    const row = page.locator('tbody tr', { hasText: user });
    expect(await row.locator('.badge').innerText()).toBe('idle');
    await shot(page, 'mailboxes');
    await page.goto(`${baseUrl}/admin/mailboxes/${mailboxId}`);
    await shot(page, 'mailbox');
    await page.goto(`${baseUrl}/admin/mailboxes/${mailboxId}/remove`);
    await shot(page, 'remove');

    // A forged form on another site (another port of 127.0.0.1 is the same site, so the cookie goes along): refused.
    const evil = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form method="post" action="${baseUrl}/admin/mailboxes/${mailboxId}/disable"><input name="x" value="1"></form><script>document.forms[0].submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const forged = page.waitForResponse((r) => r.url().endsWith(`/admin/mailboxes/${mailboxId}/disable`));
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      expect((await forged).status()).toBe(403);
      expect(await page.innerText('main')).toContain('came from another site');
    } finally {
      evil.close();
    }
    expect((await t.db.mailbox.findUniqueOrThrow({ where: { id: mailboxId } })).enabled).toBe(true);

    // Logging out ends the console too.
    await page.goto(`${baseUrl}/admin`);
    await Promise.all([page.waitForURL(`${baseUrl}/admin/login`), page.getByRole('button', { name: 'Log out' }).click()]);
    await page.goto(`${baseUrl}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await context.close();
  });
});
