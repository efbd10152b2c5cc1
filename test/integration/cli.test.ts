// The `mailroom` command as a user runs it: migrate, tenant create, token create,
// usage errors, and start-up failures that name the bad variable.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, dropTestDatabase } from '../support/database.js';
import { childEnv, testPrisma } from '../support/env.js';
import { runCli } from '../support/cli.js';
import { hashToken } from '../../src/tokens/tokens.js';

const created: string[] = [];
afterAll(async () => {
  for (const name of created) await dropTestDatabase(name);
});

describe('mailroom migrate', () => {
  it('creates the schema on an empty database, and a second run is a no-op', async () => {
    const empty = await createTestDatabase({ migrate: false });
    created.push(empty.name);
    const first = await runCli(['migrate'], { env: childEnv({ DATABASE_URL: empty.url }) });
    expect(first.stderr).toContain('applied');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Applied \d+ migration/);

    const client = new pg.Client({ connectionString: empty.url });
    await client.connect();
    const tables = (await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).rows.map((r) => r.table_name);
    const before = (await client.query('SELECT id, finished_at FROM "_prisma_migrations"')).rows;
    expect(tables).toEqual(expect.arrayContaining(['tenants', 'users', 'api_tokens', 'contacts', 'statuses', 'tickets', 'conversations', 'conversation_email_addresses', 'attachments', 'mailboxes', 'ingest_records', '_prisma_migrations']));

    const second = await runCli(['migrate'], { env: childEnv({ DATABASE_URL: empty.url }) });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/up to date/);
    const after = (await client.query('SELECT id, finished_at FROM "_prisma_migrations"')).rows;
    await client.end();
    expect(after).toEqual(before);
  });
});

describe('start-up configuration', () => {
  it('fails naming DATABASE_URL when it is not a PostgreSQL URL', async () => {
    const r = await runCli(['migrate'], { env: childEnv({ DATABASE_URL: 'mysql://nope' }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DATABASE_URL');
    expect(r.stderr).not.toContain('mysql://nope');
  });

  it('fails naming MAILROOM_SECRET_KEY when it is not 32 bytes', async () => {
    const r = await runCli(['migrate'], { env: childEnv({ MAILROOM_SECRET_KEY: 'too-short' }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('MAILROOM_SECRET_KEY');
    expect(r.stderr).not.toContain('too-short');
  });

  it('names every bad variable at once', async () => {
    const r = await runCli(['migrate'], { env: childEnv({ DATABASE_URL: 'nope', PORT: 'eighty', LOG_LEVEL: 'loud' }) });
    expect(r.code).toBe(1);
    for (const name of ['DATABASE_URL', 'PORT', 'LOG_LEVEL']) expect(r.stderr).toContain(name);
  });

  it('says clearly when the database cannot be reached', async () => {
    const r = await runCli(['migrate'], { env: childEnv({ DATABASE_URL: 'postgresql://postgres:hunter2@127.0.0.1:1/none' }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cannot reach PostgreSQL at DATABASE_URL=.*: connection refused/);
    expect(r.stderr).not.toContain('hunter2');
  });
});

describe('mailroom tenant and token', () => {
  it('creates a tenant, then prints a token alone on the last stdout line and stores only its hash', async () => {
    const t = await runCli(['tenant', 'create', 'globex', '--name', 'Globex Corp'], { env: childEnv() });
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/Created tenant globex/);

    const dup = await runCli(['tenant', 'create', 'globex'], { env: childEnv() });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);

    const r = await runCli(['token', 'create', '--tenant', 'globex', '--role', 'ADMIN', '--user', 'ops@globex.test'], { env: childEnv() });
    expect(r.code).toBe(0);
    const token = r.stdout.trimEnd().split('\n').pop() ?? '';
    expect(token).toMatch(/^mr_[A-Za-z0-9_-]{43}$/);

    const db = testPrisma();
    const row = await db.apiToken.findUnique({ where: { token_hash: hashToken(token) }, include: { user: true, tenant: true } });
    await db.$disconnect();
    expect(row?.role).toBe('ADMIN');
    expect(row?.user.email).toBe('ops@globex.test');
    expect(row?.tenant.slug).toBe('globex');
  });

  it('rejects bad slugs and unknown tenants with a clear sentence', async () => {
    const bad = await runCli(['tenant', 'create', 'A'], { env: childEnv() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/slug "A" must be at least 2 characters/);
    const unknown = await runCli(['token', 'create', '--tenant', 'nobody', '--role', 'USER'], { env: childEnv() });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Tenant "nobody" does not exist/);
  });
});

describe('usage', () => {
  it('prints help with --help and exits 0', async () => {
    const r = await runCli(['--help'], { env: childEnv() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: mailroom <command>/);
  });

  it.each([
    [['frobnicate'], /Unknown command "frobnicate"/],
    [['token', 'create', '--tenant', 'x', '--role', 'ROOT'], /--role must be USER or ADMIN/],
    [['tenant', 'create'], /Missing sub-command and SLUG/],
    [['tenant', 'create', 'ab', '--bogus'], /Unknown option '--bogus'/],
    [[], /Usage: mailroom/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const r = await runCli(args, { env: childEnv() });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(message);
  });
});

describe('mailroom parse', () => {
  it('applies the parser limits from the environment, as the worker does', async () => {
    let body = '';
    for (let i = 0; i < 10; i++) body += `--x\r\nContent-Type: text/plain\r\n\r\npart ${i} ${'words '.repeat(40)}\r\n`;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mailroom-parse-')), 'ten.eml');
    writeFileSync(file, `From: anna@example.com\r\nTo: support@example.com\r\nSubject: Ten parts\r\nMessage-ID: <ten@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n${body}--x--\r\n`);

    const plain = await runCli(['parse', file, '--jsonl'], { env: childEnv() });
    expect(plain.code).toBe(0);
    const whole = JSON.parse(plain.stdout) as { outcome: string; warnings: string[]; conversation: { last_message_extracted: string } };
    expect(whole.outcome).toBe('conversation');
    expect(whole.conversation.last_message_extracted).toContain('part 9');

    const limited = await runCli(['parse', file, '--jsonl'], { env: childEnv({ MAILROOM_MAX_MIME_PARTS: '5' }) });
    expect(limited.code).toBe(0);
    const headersOnly = JSON.parse(limited.stdout) as typeof whole & { thread: { message_id: string } };
    expect(headersOnly).toMatchObject({ outcome: 'conversation', thread: { message_id: 'ten@example.com' } });
    expect(headersOnly.warnings.join('\n')).toContain('it has more than 5 MIME parts (MAILROOM_MAX_MIME_PARTS)');

    const small = await runCli(['parse', file, '--jsonl'], { env: childEnv({ MAILROOM_MAX_MESSAGE_BYTES: '1024' }) });
    expect(JSON.parse(small.stdout)).toMatchObject({ outcome: 'failed', error: { code: 'MAIL_LIMIT_EXCEEDED' } });

    const bad = await runCli(['parse', file], { env: childEnv({ MAILROOM_MAX_HEADER_BYTES: 'lots' }) });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/MAILROOM_MAX_HEADER_BYTES must be a number of bytes/);
  });
});
