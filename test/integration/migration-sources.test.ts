// The mail-source migration on a database that already holds IMAP-era rows:
// a throw-away database is migrated up to the migration before it, filled in
// the old shape (UIDs and cursor columns), then migrated by `mailroom
// migrate`'s runner. Nothing is lost: UIDs become source keys, the cursor
// columns become the IMAP cursor text, the header-only warning a flag; and the
// mailbox change trigger notifies.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR, migrate, readMigrations } from '../../src/db/migrate.js';
import { MAILBOX_CHANGED_CHANNEL } from '../../src/sync/changes.js';
import { createTestDatabase, dropTestDatabase } from '../support/database.js';

const SOURCES_MIGRATION = '20261204000000_mail_sources';
const HEADER_ONLY = 'raw message not downloaded (over the size limit): only its header is stored';

let db: { name: string; url: string };
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  const before = mkdtempSync(path.join(tmpdir(), 'mailroom-migrations-'));
  for (const m of await readMigrations()) if (m.name < SOURCES_MIGRATION) cpSync(path.join(DEFAULT_MIGRATIONS_DIR, m.name), path.join(before, m.name), { recursive: true });
  await migrate(db.url, { dir: before });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(`
    INSERT INTO tenants (id, slug, name, last_updated) VALUES (1, 'acme', 'Acme', now());
    INSERT INTO users (id, tenant_id, email, name, is_system, last_updated) VALUES (1, 1, 'mailroom@acme', 'Mailroom', true, now());
    INSERT INTO statuses (id, tenant_id, key, label, bg_color, text_color) VALUES (1, 1, 'new', 'New', '#fff', '#000');
    INSERT INTO mailboxes (id, tenant_id, address, host, port, username, secret_encrypted, last_updated, uid_validity, last_uid, highest_modseq)
      VALUES (1, 1, 'support@acme.test', 'imap.acme.test', 993, 'support', 'x', now(), 4000000000, 4294967295, 9007199254740993),
             (2, 1, 'sales@acme.test', 'imap.acme.test', 993, 'sales', 'x', now(), 17, NULL, NULL),
             (3, 1, 'new@acme.test', 'imap.acme.test', 993, 'new', 'x', now(), NULL, NULL, NULL);
    INSERT INTO tickets (id, tenant_id, number, subject, status_id, last_updated) VALUES (1, 1, 1, 'Printer', 1, now());
    INSERT INTO conversations (id, tenant_id, ticket_id, type, created_by_id, last_updated_by_id, last_updated, mailbox_id, imap_uid, imap_uid_validity, dedupe_key)
      VALUES (1, 1, 1, 'REPLY_INBOUND', 1, 1, now(), 1, 41, 4000000000, 'k1'), (2, 1, 1, 'NOTE_PRIVATE', 1, 1, now(), NULL, NULL, NULL, NULL);
    INSERT INTO ingest_records (id, tenant_id, mailbox_id, uid_validity, uid, raw_storage_key, raw_sha256, outcome, conversation_id, warnings, last_updated)
      VALUES (1, 1, 1, 4000000000, 41, 'sha256/aa', 'aa', 'conversation', 1, '{}', now()),
             (2, 1, 1, 4000000000, 42, 'sha256/bb', 'bb', 'failed', NULL, ARRAY['${HEADER_ONLY}'], now());
  `);
  const result = await migrate(db.url);
  // This one first, then whatever later migrations exist.
  expect(result.applied).toEqual((await readMigrations()).map((m) => m.name).filter((name) => name >= SOURCES_MIGRATION));
  expect(result.applied[0]).toBe(SOURCES_MIGRATION);
});

afterAll(async () => {
  await client?.end();
  if (db) await dropTestDatabase(db.name);
});

describe(`migration ${SOURCES_MIGRATION}`, () => {
  it('turns UIDs into source keys and the cursor columns into the IMAP cursor', async () => {
    const records = await client.query('SELECT id, source_key, header_only FROM ingest_records ORDER BY id');
    expect(records.rows).toEqual([
      { id: 1, source_key: '4000000000:41', header_only: false },
      { id: 2, source_key: '4000000000:42', header_only: true },
    ]);
    const mailboxes = await client.query('SELECT id, source, cursor FROM mailboxes ORDER BY id');
    expect(mailboxes.rows).toEqual([
      { id: 1, source: 'imap', cursor: '4000000000:4294967295:9007199254740993' },
      { id: 2, source: 'imap', cursor: '17:0' },
      { id: 3, source: 'imap', cursor: null },
    ]);
    const conversations = await client.query('SELECT id, source_key FROM conversations ORDER BY id');
    expect(conversations.rows).toEqual([
      { id: 1, source_key: '4000000000:41' },
      { id: 2, source_key: null },
    ]);
  });

  it('keeps an ingest record unique per (mailbox, source key)', async () => {
    await expect(
      client.query(`INSERT INTO ingest_records (tenant_id, mailbox_id, source_key, raw_storage_key, raw_sha256, outcome, last_updated) VALUES (1, 1, '4000000000:41', 'k', 'h', 'conversation', now())`),
    ).rejects.toThrow(/unique/i);
  });

  it('notifies workers when a mailbox is disabled or removed, not when its health or cursor moves', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const seen: string[] = [];
    listener.on('notification', (n) => {
      if (n.channel === MAILBOX_CHANGED_CHANNEL) seen.push(n.payload ?? '');
    });
    try {
      await listener.query(`LISTEN ${MAILBOX_CHANGED_CHANNEL}`);
      await client.query(`UPDATE mailboxes SET state = 'idle', cursor = '1:1', consecutive_failures = 0 WHERE id = 2`);
      // Writing a setting's same value is no change either.
      await client.query('UPDATE mailboxes SET enabled = enabled, host = host WHERE id = 2');
      await client.query('UPDATE mailboxes SET enabled = false WHERE id = 2');
      await client.query('DELETE FROM mailboxes WHERE id = 3');
      // A notification after both: once it arrived, so had the two before it, in order.
      await client.query(`SELECT pg_notify('${MAILBOX_CHANGED_CHANNEL}', 'end')`);
      const deadline = Date.now() + 5_000;
      while (!seen.includes('end') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual(['2', '3', 'end']);
    } finally {
      await listener.end();
    }
  });
});
