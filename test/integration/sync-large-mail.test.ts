// Mail larger than a fetch batch (8 MiB), against the run's Dovecot: it is
// downloaded on its own into a temporary file without a name (mail/raw-file.ts)
// and stored and parsed from there, byte for byte; the file is freed when the
// sync is done with the mail or the session ends; a temporary directory that
// cannot be written makes the sync wait and retry, failing no mail.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundItem } from '../../src/ingest/types.js';
import { createLogger } from '../../src/logging/logger.js';
import { RawFile } from '../../src/mail/raw-file.js';
import { imapSource } from '../../src/sources/imap/index.js';
import { AccessTokenCache } from '../../src/sources/oauth.js';
import { createBlobStore } from '../../src/storage/blob-store.js';
import { createMailboxLocks, type MailboxLocks } from '../../src/sync/lock.js';
import { syncMailbox, type SyncDeps } from '../../src/sync/sync-mailbox.js';
import { appendMessage } from '../support/dovecot.js';
import { testEnv, testPolicy, testPrisma } from '../support/env.js';
import { createTestMailbox, secretKey, testMail } from '../support/mailboxes.js';

const db = testPrisma();
let locks: MailboxLocks;
let deps: SyncDeps;
const never = new AbortController().signal;

beforeAll(() => {
  const logger = createLogger({ level: 'silent' });
  locks = createMailboxLocks({ databaseUrl: testEnv().databaseUrl });
  deps = {
    db,
    locks,
    ingest: { db, blobs: createBlobStore(`file://${mkdtempSync(path.join(tmpdir(), 'mailroom-large-'))}`), secretKey: secretKey(), publicUrl: 'http://mailroom.test', logger },
    source: { secretKeys: [secretKey()], policy: testPolicy(), logger, tokens: new AccessTokenCache(), maxRawBytes: 1024 * 1024 },
    logger,
    enqueueAttachments: async () => undefined,
  };
});
afterAll(async () => {
  await locks.close();
  await db.$disconnect();
});

/** A test mail whose attachment is ~9 MB of random base64 lines: over the 8 MB fetch batch. */
function bigScanMail(user: string, subject: string): string {
  const line = `${randomBytes(57).toString('base64')}\r\n`;
  return testMail(user, { subject, attachment: true }).replace('JVBERi0xLjQK\r\n', line.repeat(Math.ceil((9 * 1024 * 1024) / line.length)));
}

/** This process's open descriptors on large mails' temporary files. */
function openRawFiles(): string[] {
  const links = readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '';
    }
  });
  return links.filter((l) => l.includes('mailroom-raw-'));
}

describe('a mail larger than a fetch batch', () => {
  it('downloads a mail larger than a fetch batch in pieces, byte for byte, and its large attachment by reference', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    // Over the 8 MB batch, so fetched on its own (session.ts fetchLarge).
    const raw = bigScanMail(box.user, 'A big scan');
    await appendMessage(dovecot, box.user, raw);
    const big: SyncDeps = { ...deps, source: { ...deps.source, maxRawBytes: 32 * 1024 * 1024 } };
    expect(await syncMailbox(big, box.mailboxId, { signal: never })).toMatchObject({ status: 'ok', ingested: 1 });
    const record = await db.ingestRecord.findFirstOrThrow({ where: { mailbox_id: box.mailboxId } });
    expect(record).toMatchObject({ outcome: 'conversation', header_only: false, size_bytes: Buffer.byteLength(raw), raw_sha256: createHash('sha256').update(raw).digest('hex') });
    const [attachment] = await db.attachment.findMany({ where: { conversation_id: record.conversation_id! } });
    expect((await deps.ingest.blobs.get(attachment!.storage_key)).length).toBe(Number(attachment!.size_bytes));
    // Its temporary file (mail/raw-file.ts; a mail over the batch is spooled) is closed once the sync is over.
    expect(openRawFiles()).toEqual([]);
  });

  it('keeps a large mail in a nameless temporary file until the driver releases it, or the session ends', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    for (const n of [1, 2]) await appendMessage(dovecot, box.user, bigScanMail(box.user, `Scan ${n}`));
    const mailbox = await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } });
    const session = await imapSource.open(mailbox, { ...deps.source, maxRawBytes: 32 * 1024 * 1024 });
    const items: InboundItem[] = [];
    try {
      for await (const e of session.pull(null, never)) if (e.type === 'item') items.push(e.item);
      expect(items.map((i) => i.raw instanceof RawFile)).toEqual([true, true]);
      expect(openRawFiles()).toHaveLength(2);
      expect(openRawFiles().every((l) => l.endsWith('(deleted)'))).toBe(true);
      await session.release?.(items[0]!);
      expect(openRawFiles()).toHaveLength(1);
    } finally {
      await session.close();
    }
    expect(openRawFiles()).toEqual([]);
  });

  it('waits and retries, failing no mail, when a large mail cannot be written to a temporary file', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    const raw = bigScanMail(box.user, 'A big scan');
    await appendMessage(dovecot, box.user, raw);
    const big: SyncDeps = { ...deps, source: { ...deps.source, maxRawBytes: 32 * 1024 * 1024 } };
    const tmp = process.env.TMPDIR;
    process.env.TMPDIR = path.join(tmpdir(), 'mailroom-no-such-dir');
    let result;
    try {
      result = await syncMailbox(big, box.mailboxId, { signal: never });
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
    }
    expect(result).toMatchObject({ status: 'failed', kind: 'connect' });
    expect(result.status === 'failed' && result.message).toMatch(/^Storing mail of .* failed: Cannot create a temporary file for a large message in .*mailroom-no-such-dir/);
    expect(await db.ingestRecord.count({ where: { mailbox_id: box.mailboxId } })).toBe(0);
    expect(openRawFiles()).toEqual([]);
    await db.mailbox.update({ where: { id: box.mailboxId }, data: { next_attempt_at: null } });
    expect(await syncMailbox(big, box.mailboxId, { signal: never })).toMatchObject({ status: 'ok', ingested: 1 });
    expect(await db.ingestRecord.findFirstOrThrow({ where: { mailbox_id: box.mailboxId } })).toMatchObject({ outcome: 'conversation', size_bytes: Buffer.byteLength(raw) });
  });
});
