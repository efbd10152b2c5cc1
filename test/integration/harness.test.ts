// Proves the test harness is real: Dovecot speaks IMAP, PostgreSQL holds rows,
// throw-away databases really disappear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret } from '../../src/crypto/secrets.js';
import { createTenant } from '../../src/tenants/service.js';
import { createToken } from '../../src/tokens/service.js';
import { hashToken } from '../../src/tokens/tokens.js';
import type { PrismaClient } from '../../src/db/prisma.js';
import { createTestDatabase, databaseExists, dropTestDatabase } from '../support/database.js';
import { addDovecotUser, appendMessage, imapClient, recreateFolder, resetUidValidity, startDovecot, stopDovecot } from '../support/dovecot.js';
import { testEnv, testPrisma } from '../support/env.js';

const RAW = (subject: string) =>
  Buffer.from(
    `From: Alice <alice@customer.test>\r\nTo: support@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@customer.test>\r\nDate: Wed, 25 Nov 2026 08:00:00 +0000\r\n\r\nHello, I need help.\r\n`,
  );

async function fetchSubjects(user: string, folder = 'INBOX'): Promise<{ uidValidity: bigint; subjects: string[] }> {
  const client = imapClient(testEnv().dovecot, user);
  await client.connect();
  try {
    const box = await client.mailboxOpen(folder);
    const subjects: string[] = [];
    if (box.exists > 0) {
      for await (const msg of client.fetch('1:*', { envelope: true, source: true })) subjects.push(msg.envelope?.subject ?? '');
    }
    return { uidValidity: BigInt(box.uidValidity), subjects };
  } finally {
    await client.logout();
  }
}

describe('Dovecot harness', () => {
  it('reads back over IMAP a message appended to the throw-away server', async () => {
    const { uid } = await appendMessage(testEnv().dovecot, 'support@example.test', RAW('harness roundtrip'));
    expect(uid).toBeGreaterThan(0);
    const { subjects } = await fetchSubjects('support@example.test');
    expect(subjects).toContain('harness roundtrip');
  });

  it('creates users, and a recreated folder gets a new UIDVALIDITY', async () => {
    const env = testEnv();
    await addDovecotUser(env.dovecot, 'newuser@example.test');
    await appendMessage(env.dovecot, 'newuser@example.test', RAW('into archive'), 'INBOX');
    const client = imapClient(env.dovecot, 'newuser@example.test');
    await client.connect();
    await client.mailboxCreate('Archive');
    await client.logout();
    await appendMessage(env.dovecot, 'newuser@example.test', RAW('archived one'), 'Archive');
    const before = await fetchSubjects('newuser@example.test', 'Archive');
    expect(before.subjects).toEqual(['archived one']);
    await new Promise((r) => setTimeout(r, 1100)); // UIDVALIDITY is a timestamp in seconds
    await recreateFolder(env.dovecot, 'newuser@example.test', 'Archive');
    const after = await fetchSubjects('newuser@example.test', 'Archive');
    expect(after.subjects).toEqual([]);
    expect(after.uidValidity).not.toBe(before.uidValidity);
  });

  it('resets UIDVALIDITY of INBOX while keeping its messages', async () => {
    const env = testEnv();
    await addDovecotUser(env.dovecot, 'reset@example.test');
    await appendMessage(env.dovecot, 'reset@example.test', RAW('kept across reset'));
    const before = await fetchSubjects('reset@example.test');
    await new Promise((r) => setTimeout(r, 1100)); // UIDVALIDITY is a timestamp in seconds
    await resetUidValidity(env.dovecot, 'reset@example.test');
    const after = await fetchSubjects('reset@example.test');
    expect(after.subjects).toEqual(before.subjects);
    expect(after.uidValidity).not.toBe(before.uidValidity);
  });

  it('stops and starts the server', async () => {
    const env = testEnv();
    await stopDovecot(env.dovecot);
    const client = imapClient(env.dovecot, 'support@example.test');
    client.on('error', () => undefined);
    await expect(client.connect()).rejects.toThrow();
    await startDovecot(env.dovecot);
    const { subjects } = await fetchSubjects('support@example.test');
    expect(subjects).toContain('harness roundtrip');
  });
});

describe('PostgreSQL harness', () => {
  let db: PrismaClient;
  beforeAll(() => {
    db = testPrisma();
  });
  afterAll(async () => {
    await db.$disconnect();
  });

  it('runs against a throw-away mailroom_test_* database', () => {
    expect(testEnv().databaseName).toMatch(/^mailroom_test_[0-9a-f]+$/);
    expect(new URL(testEnv().databaseUrl).pathname).toBe(`/${testEnv().databaseName}`);
  });

  it('round-trips a tenant, a token and a mailbox row through Prisma', async () => {
    const key = Buffer.from(testEnv().secretKey, 'base64');
    const tenant = await createTenant(db, { slug: 'acme', name: 'Acme Inc.' });
    const token = await createToken(db, { tenantSlug: 'acme', role: 'ADMIN', userEmail: 'Admin@Acme.test' });
    const mailbox = await db.mailbox.create({
      data: {
        tenant_id: tenant.id,
        address: 'support@example.test',
        aliases: ['help@example.test'],
        host: '127.0.0.1',
        port: testEnv().dovecot.imapPort,
        tls: 'none',
        username: 'support@example.test',
        secret_encrypted: encryptSecret('secret', key),
        cursor: '4000000000:4294967295',
      },
    });

    const readTenant = await db.tenant.findUniqueOrThrow({
      where: { slug: 'acme' },
      include: { statuses: { orderBy: { position: 'asc' } }, users: true, tokens: true, mailboxes: true },
    });
    expect(readTenant.name).toBe('Acme Inc.');
    expect(readTenant.statuses.map((s) => s.key)).toEqual(['new', 'open', 'pending', 'solved', 'closed']);
    expect(readTenant.users.find((u) => u.is_system)?.name).toBe('Mailroom');
    expect(readTenant.users.find((u) => !u.is_system)?.email).toBe('admin@acme.test');
    expect(readTenant.tokens).toHaveLength(1);
    expect(readTenant.tokens[0]?.token_hash).toBe(hashToken(token.token));
    expect(JSON.stringify(readTenant.tokens)).not.toContain(token.token);
    const readMailbox = readTenant.mailboxes[0];
    expect(readMailbox?.id).toBe(mailbox.id);
    expect(readMailbox?.cursor).toBe('4000000000:4294967295');
    expect(readMailbox?.secret_encrypted).not.toContain('secret');
    expect(decryptSecret(readMailbox?.secret_encrypted ?? '', key)).toBe('secret');
  });

  it('enforces the idempotency keys of ingest records', async () => {
    const tenant = await db.tenant.findUniqueOrThrow({ where: { slug: 'acme' }, include: { mailboxes: true } });
    const mailboxId = tenant.mailboxes[0]?.id ?? 0;
    const row = { tenant_id: tenant.id, mailbox_id: mailboxId, source_key: '7:1', raw_storage_key: 'k', raw_sha256: 'h', outcome: 'conversation' as const };
    await db.ingestRecord.create({ data: row });
    await expect(db.ingestRecord.create({ data: row })).rejects.toThrow(/Unique constraint/i);
  });

  it('creates and really drops a throw-away database', async () => {
    const extra = await createTestDatabase();
    expect(await databaseExists(extra.name)).toBe(true);
    await dropTestDatabase(extra.name);
    expect(await databaseExists(extra.name)).toBe(false);
    await expect(dropTestDatabase('mailroom')).rejects.toThrow(/refusing/);
  });
});
