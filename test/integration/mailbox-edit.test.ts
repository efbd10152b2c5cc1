// `mailroom mailbox edit` against a running worker and the run's Dovecot: a
// new password clears an auth_error and is used by the worker's next
// connection, an earlier --since backfills what `add` skipped without
// doubling anything, and a private CA (--ca-file, API tls_ca_pem) is trusted
// by the connection test and the worker's IMAP connection alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { moveCursor } from '../../src/ingest/cursor.js';
import { addMailbox, getMailbox, updateMailbox } from '../../src/mailboxes/service.js';
import { parseCursor } from '../../src/sources/imap/cursor.js';
import { bearer, buildTestApp, createApiTenant, type TestApp, type Wrapped } from '../support/api.js';
import { CLI, runCli, type CliResult } from '../support/cli.js';
import { addDovecotUser, imapClient, waitFor, type DovecotInfo } from '../support/dovecot.js';
import { childEnv, testEnv, testPrisma } from '../support/env.js';
import { createTestMailbox, secretKey, testMail } from '../support/mailboxes.js';

const TSX_LOADER = import.meta.resolve('tsx');
const db = testPrisma();
const storage = `file://${mkdtempSync(path.join(tmpdir(), 'mailroom-edit-blobs-'))}`;
const PASSWORD = `pw-${randomBytes(10).toString('hex')}`;
const WRONG = `wrong-${randomBytes(10).toString('hex')}`;
const ENV = { MAILROOM_STORAGE_URL: storage, MAILROOM_ALLOW_PRIVATE_HOSTS: '127.0.0.1,::1,localhost' };
const outputs: CliResult[] = [];
const running: ChildProcess[] = [];

const dovecot = (): DovecotInfo => testEnv().dovecot;
const lastLine = (r: CliResult) => r.stdout.trimEnd().split('\n').pop() ?? '';

async function cli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const r = await runCli(args, { env: childEnv({ ...ENV, ...options.env }), input: options.input });
  outputs.push(r);
  return r;
}

function startWorker(): { child: ChildProcess; lines: string[] } {
  const cwd = mkdtempSync(path.join(tmpdir(), 'mailroom-edit-worker-'));
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, 'worker'], { cwd, env: childEnv({ ...ENV, LOG_LEVEL: 'info', MAILROOM_IDLE_SECONDS: '0' }), stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  const lines: string[] = [];
  child.stdout!.on('data', (d: Buffer) => lines.push(d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => lines.push(d.toString('utf8')));
  onTestFailed(() => console.log(`worker output (last 30 chunks):\n${lines.slice(-30).join('')}`));
  return { child, lines };
}

/** APPEND with an INTERNALDATE of our choosing (old mail that was there before the mailbox was added). */
async function append(user: string, raw: string, date?: Date): Promise<void> {
  const c = imapClient(dovecot(), user, PASSWORD);
  await c.connect();
  try {
    await c.append('INBOX', raw, [], date);
  } finally {
    await c.logout().catch(() => c.close());
  }
}

const conversations = (mailboxId: number) => db.conversation.count({ where: { mailbox_id: mailboxId } });

beforeAll(async () => {
  // Mailboxes of earlier test files would be synced by this worker too: switch them off.
  await db.mailbox.updateMany({ data: { enabled: false } });
});
afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  for (const r of outputs) for (const s of [PASSWORD, WRONG]) expect(r.stdout + r.stderr).not.toContain(s);
  await db.$disconnect();
});

describe('mailroom mailbox edit under a running worker', () => {
  it('changes a password (clearing auth_error) and a --since (backfilling once), and the worker picks both up', async () => {
    const user = `edit-${randomBytes(4).toString('hex')}@example.test`;
    await addDovecotUser(dovecot(), user, PASSWORD);
    const tenant = `edit-${randomBytes(4).toString('hex')}`;
    expect((await cli(['tenant', 'create', tenant])).code).toBe(0);
    // Three mails from January, there before the mailbox is added.
    for (let i = 0; i < 3; i++) await append(user, testMail(user, { subject: `Old ${i}` }), new Date(`2026-01-0${i + 2}T10:00:00Z`));

    const add = await cli(
      ['mailbox', 'add', '--tenant', tenant, '--address', user, '--host', dovecot().host, '--port', String(dovecot().imapPort), '--no-tls', '--user', user, '--password-env', 'MBX_PW', '--poll-seconds', '5'],
      { env: { MBX_PW: PASSWORD } },
    );
    expect(add.code).toBe(0);
    const id = Number(lastLine(add));
    expect(add.stderr).toContain(`3 message(s) already in INBOX were not ingested; to ingest them run: mailroom mailbox edit ${id} --since YYYY-MM-DD`);

    startWorker();
    await waitFor(async () => (await getMailbox(db, id)).state === 'idle', 60_000, 'the first sync did not finish');
    await append(user, testMail(user, { subject: 'New 1' }));
    await waitFor(async () => (await conversations(id)) === 1, 60_000, 'the new mail was not ingested');

    // A wrong password stored untested: the worker's next connection fails, auth_error.
    const wrong = await cli(['mailbox', 'edit', String(id), '--password-env', 'MBX_PW', '--no-test'], { env: { MBX_PW: WRONG } });
    expect(wrong.code).toBe(0);
    expect(wrong.stdout).toBe(`Changed mailbox ${id} (${user}): password; state connecting.\n`);
    await waitFor(async () => (await getMailbox(db, id)).state === 'auth_error', 60_000, 'the wrong password did not end in auth_error');

    // The wrong password again is tested, fails, and changes nothing.
    const refused = await cli(['mailbox', 'edit', String(id), '--password-stdin'], { input: `${WRONG}\n` });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/connection test failed at the auth stage/);
    expect(refused.stderr).toMatch(/Nothing was changed/);
    expect((await getMailbox(db, id)).state).toBe('auth_error');

    // The right one: tested, auth_error cleared, and the worker logs in with it.
    const fixed = await cli(['mailbox', 'edit', String(id), '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(fixed.stderr).toMatch(/Connection test passed/);
    expect(fixed.code).toBe(0);
    await append(user, testMail(user, { subject: 'New 2' }));
    await waitFor(async () => (await conversations(id)) === 2, 60_000, 'the worker did not use the new password');
    expect(await getMailbox(db, id)).toMatchObject({ consecutive_failures: 0, last_error: null });

    // The backfill: the January mail is ingested, the two new ones are recognised, not doubled.
    // --wait follows it until the worker is through.
    const since = await runCli(['mailbox', 'edit', String(id), '--since', '2026-01-01', '--wait'], { env: childEnv(ENV), timeoutMs: 90_000 });
    outputs.push(since);
    expect(since.stderr).toMatch(/reads INBOX again and ingests the mail received since 2026-01-01T00:00:00\.000Z; mail already ingested is recognised/);
    expect(since.stderr).toMatch(new RegExp(`The backfill of mailbox ${id} is done\\.`));
    expect(since.code).toBe(0);
    expect(await conversations(id)).toBe(5);
    expect((await getMailbox(db, id)).state).toBe('idle');
    const records = await db.ingestRecord.findMany({ where: { mailbox_id: id }, select: { outcome: true, subject: true } });
    expect(records.map((r) => r.subject).sort()).toEqual(['New 1', 'New 2', 'Old 0', 'Old 1', 'Old 2']);
    expect(records.every((r) => r.outcome === 'conversation')).toBe(true);
    expect((await getMailbox(db, id)).backlog).toBeNull();
  }, 240_000);

  it('trusts a private CA given with --ca-file, in the connection test and in the worker', async () => {
    const user = `ca-${randomBytes(4).toString('hex')}@example.test`;
    await addDovecotUser(dovecot(), user, PASSWORD);
    const tenant = `ca-${randomBytes(4).toString('hex')}`;
    expect((await cli(['tenant', 'create', tenant])).code).toBe(0);
    const args = ['mailbox', 'add', '--tenant', tenant, '--address', user, '--host', dovecot().host, '--port', String(dovecot().imapsPort), '--tls', '--user', user, '--password-env', 'MBX_PW', '--poll-seconds', '5'];

    // The test server's certificate is its own CA: unknown to the system.
    const untrusted = await cli(args, { env: { MBX_PW: PASSWORD } });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/failed at the tls stage: The certificate of 127\.0\.0\.1:\d+ is not trusted/);

    const trusted = await cli([...args, '--ca-file', dovecot().certFile], { env: { MBX_PW: PASSWORD } });
    expect(trusted.stderr).toMatch(/Connection test passed: .* over TLSv1\.[23]/);
    expect(trusted.code).toBe(0);
    const id = Number(lastLine(trusted));
    const show = await cli(['mailbox', 'show', String(id), '--json']);
    const view = JSON.parse(show.stdout) as { tls_ca: { subject: string; fingerprint_sha256: string }[] };
    expect(view.tls_ca).toEqual([expect.objectContaining({ subject: 'CN=localhost', fingerprint_sha256: expect.stringMatching(/^[0-9A-F:]{95}$/) })]);
    expect(show.stdout).not.toContain('BEGIN CERTIFICATE');
    expect((await cli(['mailbox', 'show', String(id)])).stdout).toMatch(/tls ca:\s+CN=localhost \(SHA-256 /);

    startWorker();
    await append(user, testMail(user, { subject: 'Over TLS' }));
    await waitFor(async () => (await conversations(id)) === 1, 60_000, 'the worker did not ingest over TLS with the CA');

    // Dropping the CA fails the connection test, and changes nothing.
    const dropped = await cli(['mailbox', 'edit', String(id), '--no-ca']);
    expect(dropped.code).toBe(1);
    expect(dropped.stderr).toMatch(/certificate/);
    expect((await getMailbox(db, id)).tls_ca).not.toBeNull();

    const notPem = await cli(['mailbox', 'edit', String(id), '--ca-file', path.join(dovecot().base, 'users')]);
    expect(notPem.code).toBe(2);
    expect(notPem.stderr).toMatch(/--ca-file .* holds no PEM certificates/);
  }, 240_000);
});

describe('mailroom mailbox edit without a worker', () => {
  it.each([
    [['mailbox', 'edit', '1'], /Nothing to change/],
    [['mailbox', 'edit'], /Missing mailbox ID/],
    [['mailbox', 'edit', '1', '--tls', '--no-tls'], /only one of --tls, --starttls and --no-tls/],
    [['mailbox', 'edit', '1', '--since', 'yesterday'], /--since must be a date/],
    [['mailbox', 'edit', '1', '--password-env', 'UNSET_VAR_X'], /UNSET_VAR_X is not set/],
    [['mailbox', 'edit', '1', '--ca-file', '/nonexistent/ca.pem'], /--ca-file \/nonexistent\/ca\.pem cannot be read/],
  ])('exits 2 for %j', async (args, message) => {
    const r = await cli(args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('names the flag of a bad value and the password a move to another host needs', async () => {
    const tenant = await db.tenant.create({ data: { slug: `ed-${randomBytes(4).toString('hex')}`, name: 'x' } });
    const view = await addMailbox(db, secretKey(), tenant.id, { address: 'a@edit.test', host: '127.0.0.1', port: 1, tls: 'none', username: 'u', password: PASSWORD, enabled: false });
    const port = await cli(['mailbox', 'edit', String(view.id), '--port', '70000']);
    expect(port.stderr).toMatch(/--port must be between 1 and 65535/);
    expect(port.code).toBe(2);
    const moved = await cli(['mailbox', 'edit', String(view.id), '--host', 'imap.elsewhere.test']);
    expect(moved.stderr).toMatch(/--password-env\/--password-stdin must be given again when host, port, tls or oauth_token_url changes/);
    expect(moved.code).toBe(2);
    const poll = await cli(['mailbox', 'edit', String(view.id), '--poll-seconds', '30', '--after', 'seen', '--alias', 'b@edit.test']);
    expect(poll.stdout).toBe(`Changed mailbox ${view.id} (a@edit.test): aliases, post_action, poll_seconds; state disabled.\n`);
    expect(await getMailbox(db, view.id)).toMatchObject({ poll_seconds: 30, post_action: 'seen', aliases: ['b@edit.test'] });
  });
});

describe('PATCH mailboxes/{id} with tls_ca_pem and test', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ db });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 400 naming tls_ca_pem when it is not PEM, stores a CA, and tests the change with "test": true', async () => {
    const a = await createApiTenant(db, 'edca');
    const user = `api-ca-${randomBytes(4).toString('hex')}@example.test`;
    await addDovecotUser(dovecot(), user, PASSWORD);
    const view = await addMailbox(db, secretKey(), a.id, { address: user, host: dovecot().host, port: dovecot().imapsPort, tls: 'tls', username: user, password: PASSWORD, enabled: false });
    const patch = async (body: unknown) => {
      const res = await t.app.inject({ method: 'PATCH', url: `/api/${a.slug}/v1/mailboxes/${view.id}`, headers: bearer(a.adminToken), payload: body as object });
      return { status: res.statusCode, body: res.json<Wrapped<Record<string, unknown>>>() };
    };
    const bad = await patch({ tls_ca_pem: 'not a certificate' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ code: 'VALIDATION', field: 'tls_ca_pem' })]);

    // Without the CA the test fails at the tls stage: 422, nothing changed.
    const untested = await patch({ port: dovecot().imapsPort, password: PASSWORD, test: true });
    expect(untested.status).toBe(422);
    expect(untested.body.errors[0]?.message).toMatch(/certificate/);

    const pem = readFileSync(dovecot().certFile, 'utf8');
    const ok = await patch({ tls_ca_pem: pem, test: true });
    expect(ok.status).toBe(200);
    expect(ok.body.data.tls_ca).toEqual([expect.objectContaining({ subject: 'CN=localhost' })]);
    expect(JSON.stringify(ok.body)).not.toContain('BEGIN CERTIFICATE');
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: view.id } })).tls_ca_pem).toBe(pem);
  });
});

describe('a reset cursor against a sync that started before the change', () => {
  it('makes the stale sync stop when it started with no cursor yet, instead of writing its cursor over the reset', async () => {
    const box = await createTestMailbox(db);
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } })).cursor).toBeNull();
    // What the first sync of a new mailbox read when it started: no cursor.
    const seenBySync = null;
    await updateMailbox(db, secretKey(), box.mailboxId, { since: '2025-01-01T00:00:00Z' });
    // Its first cursor write (from what it read) now fails: the sync stops and runs again with the new since.
    await expect(moveCursor(db, box.mailboxId, { from: seenBySync, to: '7:100' })).rejects.toMatchObject({ code: 'CURSOR_MOVED' });
    const reset = (await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } })).cursor;
    expect(reset).toMatch(/^reset:/);
    // The source reads the reset marker as no cursor (the folder afresh), and every reset differs.
    expect(parseCursor(reset)).toBeNull();
    await updateMailbox(db, secretKey(), box.mailboxId, { since: '2024-01-01T00:00:00Z' });
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } })).cursor).not.toBe(reset);
  });
});
