// syncMailbox against the run's real Dovecot, PostgreSQL and Redis: new mail
// by UID (not \Seen), exactly once, UIDVALIDITY changes, failures and
// backoff, IDLE, the per-mailbox lock and the post-action.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createLogger } from '../../src/logging/logger.js';
import { createBlobStore } from '../../src/storage/blob-store.js';
import { createQueues, closeQueues, createRedisConnection, enqueueAttachmentJobs, attachmentJobId } from '../../src/queues/queues.js';
import type { Queues } from '../../src/queues/queues.js';
import { syncMailbox } from '../../src/sync/sync-mailbox.js';
import { imapCursor, ingestMessage } from '../support/ingest.js';
import type { SyncDeps } from '../../src/sync/sync-mailbox.js';
import { createMailboxLocks, type MailboxLocks } from '../../src/sync/lock.js';
import { Watchers } from '../../src/sync/watchers.js';
import { AccessTokenCache } from '../../src/sources/oauth.js';
import { appendMessage, freePort, imapClient, resetUidValidity, startDovecot, stopDovecot, waitFor } from '../support/dovecot.js';
import { testEnv, testPolicy, testPrisma } from '../support/env.js';
import { createTestMailbox, secretKey, testMail } from '../support/mailboxes.js';

const db = testPrisma();
let redis: Redis;
let queues: Queues;
let deps: SyncDeps;
let locks: MailboxLocks;
const never = new AbortController().signal;
const once = (mailboxId: number) => syncMailbox(deps, mailboxId, { signal: never });

beforeAll(async () => {
  const env = testEnv();
  redis = createRedisConnection(env.redisUrl);
  queues = createQueues({ connection: redis, prefix: `${env.queuePrefix}-sync` });
  const logger = createLogger({ level: 'silent' });
  locks = createMailboxLocks({ databaseUrl: env.databaseUrl });
  deps = {
    db,
    locks,
    ingest: { db, blobs: createBlobStore(`file://${mkdtempSync(path.join(tmpdir(), 'mailroom-sync-'))}`), secretKey: secretKey(), publicUrl: 'http://mailroom.test', logger },
    source: { secretKeys: [secretKey()], policy: testPolicy(), logger, tokens: new AccessTokenCache(), maxRawBytes: 1024 * 1024 },
    logger,
    enqueueAttachments: async (rows) => {
      await enqueueAttachmentJobs(queues.attachments, rows);
    },
  };
});
afterAll(async () => {
  await locks.close();
  await closeQueues(queues);
  redis.disconnect();
  await db.$disconnect();
});

describe('syncMailbox', () => {
  it('ingests 50 appended mails exactly once, with directions, tickets, requesters and attachment jobs', async () => {
    const box = await createTestMailbox(db);
    const dovecot = testEnv().dovecot;
    for (let i = 0; i < 50; i++) {
      await appendMessage(dovecot, box.user, testMail(box.user, { from: `Person ${i} <p${i}@example.com>`, attachment: i % 10 === 0 }), 'INBOX', i === 3 ? ['\\Seen'] : []);
    }
    const first = await once(box.mailboxId);
    expect(first).toMatchObject({ status: 'ok', ingested: 50 });
    const convs = await db.conversation.findMany({ where: { mailbox_id: box.mailboxId }, include: { email_addresses: true, requester: true, attachments: true } });
    expect(convs).toHaveLength(50);
    expect(new Set(convs.map((c) => c.ticket_id)).size).toBe(50);
    for (const c of convs) {
      expect(c.email_addresses.map((e) => e.direction).sort()).toEqual(['FROM', 'TO']);
      expect(c.requester?.email).toMatch(/^p\d+@example\.com$/);
    }
    const attachments = convs.flatMap((c) => c.attachments);
    expect(attachments).toHaveLength(5);
    for (const a of attachments) {
      expect(a.status).toBe('UNAVAILABLE');
      expect(await queues.attachments.getJob(attachmentJobId(a.id))).toBeTruthy();
    }
    const mailbox = await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } });
    expect(mailbox).toMatchObject({ state: 'idle', consecutive_failures: 0, last_error: null });
    expect(mailbox.cursor).toMatch(/^\d+:50(:\d+)?$/);
    expect(mailbox.last_success_at).not.toBeNull();

    expect(await once(box.mailboxId)).toMatchObject({ status: 'ok', ingested: 0 });
    expect(await db.ingestRecord.count({ where: { mailbox_id: box.mailboxId } })).toBe(50);
  });

  it('ingests only mail that arrived after the mailbox was added, unless --since asks for a backfill', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    await appendMessage(dovecot, box.user, testMail(box.user, { subject: 'old' }), 'INBOX', [], );
    // APPEND with an INTERNALDATE before the mailbox existed: "old" mail.
    const c = imapClient(dovecot, box.user);
    await c.connect();
    await c.append('INBOX', testMail(box.user, { subject: 'very old' }), [], new Date('2020-01-01T00:00:00Z'));
    await c.append('INBOX', testMail(box.user, { subject: 'backfill' }), [], new Date('2026-01-05T00:00:00Z'));
    await c.logout();
    await once(box.mailboxId);
    const subjects = (await db.ticket.findMany({ where: { mailbox_id: box.mailboxId } })).map((t) => t.subject);
    expect(subjects).toEqual(['old']);

    await db.mailbox.update({ where: { id: box.mailboxId }, data: { since: new Date('2026-01-01T00:00:00Z'), cursor: null } });
    await once(box.mailboxId);
    const after = (await db.ticket.findMany({ where: { mailbox_id: box.mailboxId }, orderBy: { id: 'asc' } })).map((t) => t.subject);
    expect(after.sort()).toEqual(['backfill', 'old']);
  });

  it('re-reads the folder after a UIDVALIDITY change without duplicating anything', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    for (let i = 0; i < 5; i++) await appendMessage(dovecot, box.user, testMail(box.user));
    await once(box.mailboxId);
    const before = await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } });

    resetUidValidity(dovecot, box.user);
    for (let i = 0; i < 3; i++) await appendMessage(dovecot, box.user, testMail(box.user, { subject: `new ${i}` }));
    const result = await once(box.mailboxId);
    expect(result).toMatchObject({ status: 'ok' });
    const after = await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } });
    expect(after.cursor?.split(':')[0]).not.toBe(before.cursor?.split(':')[0]);
    expect(await db.conversation.count({ where: { mailbox_id: box.mailboxId } })).toBe(8);
    const outcomes = await db.ingestRecord.groupBy({ by: ['outcome'], where: { mailbox_id: box.mailboxId }, _count: true });
    expect(Object.fromEntries(outcomes.map((o) => [o.outcome, o._count]))).toEqual({ conversation: 8, duplicate: 5 });
  });

  it('records a malformed mail as failed between good ones and goes on', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    await appendMessage(dovecot, box.user, testMail(box.user));
    await appendMessage(dovecot, box.user, '\u0001\u0002 garbage that is no mail\r\n');
    await appendMessage(dovecot, box.user, testMail(box.user));
    await once(box.mailboxId);
    const records = await db.ingestRecord.findMany({ where: { mailbox_id: box.mailboxId }, orderBy: { id: 'asc' } });
    expect(records.map((r) => r.outcome)).toEqual(['conversation', 'failed', 'conversation']);
    expect(records[1]?.error_code).toBe('MAIL_UNREADABLE');
    expect(await deps.ingest.blobs.exists(records[1]!.raw_storage_key)).toBe(true);
  });

  it('makes the header of a message over the size limit a conversation with a warning, without downloading the message', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    await appendMessage(dovecot, box.user, testMail(box.user, { subject: 'A very large report', messageId: `big-${box.user}`, body: 'x'.repeat(2 * 1024 * 1024) }));
    await appendMessage(dovecot, box.user, testMail(box.user));
    await once(box.mailboxId);
    const records = await db.ingestRecord.findMany({ where: { mailbox_id: box.mailboxId }, orderBy: { id: 'asc' } });
    expect(records.map((r) => [r.outcome, r.error_code, r.header_only])).toEqual([
      ['conversation', null, true],
      ['conversation', null, false],
    ]);
    const big = records[0]!;
    expect(big).toMatchObject({ subject: 'A very large report', from: 'customer@example.com', message_id: `big-${box.user}`.toLowerCase() });
    expect(big.size_bytes).toBeLessThan(4096);
    expect(big.warnings.join('\n')).toMatch(/^the message is \d+ bytes, over the limit of 1048576 \(MAILROOM_MAX_MESSAGE_BYTES\); only its header was read$/m);
    const conv = await db.conversation.findUniqueOrThrow({ where: { id: big.conversation_id! }, include: { ticket: true } });
    expect(conv.ticket.subject).toBe('A very large report');
  });

  it('moves to auth_error on a wrong password, says why, and backs off instead of retrying', async () => {
    const box = await createTestMailbox(db, { password: 'wrong' });
    const result = await once(box.mailboxId);
    expect(result).toMatchObject({ status: 'failed', kind: 'auth' });
    const mailbox = await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } });
    expect(mailbox.state).toBe('auth_error');
    expect(mailbox.last_error).toMatch(/rejected the login/);
    expect(mailbox.last_error).not.toContain('wrong');
    expect(mailbox.next_attempt_at!.getTime() - Date.now()).toBeGreaterThan(60_000);
    expect(await once(box.mailboxId)).toMatchObject({ status: 'backoff' });
  });

  it('recovers by itself after the server was down', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    await stopDovecot(dovecot);
    try {
      const down = await once(box.mailboxId);
      expect(down).toMatchObject({ status: 'failed', kind: 'connect' });
      expect((await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } })).state).toBe('connect_error');
    } finally {
      await startDovecot(dovecot);
    }
    await appendMessage(dovecot, box.user, testMail(box.user));
    // Retries respect the backoff (2-4 s after one failure): poll like the scheduler does.
    await waitFor(async () => (await once(box.mailboxId)).status === 'ok', 30_000, 'the mailbox did not recover');
    const mailbox = await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } });
    expect(mailbox).toMatchObject({ state: 'idle', consecutive_failures: 0, last_error: null });
    expect(await db.conversation.count({ where: { mailbox_id: box.mailboxId } })).toBe(1);
  });

  it('reports unavailable, writing nothing, when the lock cannot be taken because the database is unreachable', async () => {
    const box = await createTestMailbox(db);
    const before = await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } });
    const dead = createMailboxLocks({ databaseUrl: `postgresql://postgres@127.0.0.1:${await freePort()}/nowhere`, connectTimeoutMs: 2_000 });
    try {
      const outcome = await syncMailbox({ ...deps, locks: dead }, box.mailboxId, { signal: never });
      expect(outcome).toMatchObject({ status: 'unavailable', message: expect.stringMatching(/mailbox lock could not be taken/) });
    } finally {
      await dead.close();
    }
    expect(await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } })).toEqual(before);
  });

  it('sees mail appended while a watch idles within 2 seconds, holding no sync, and lets only one sync run per mailbox', async () => {
    const env = testEnv();
    const box = await createTestMailbox(db);
    const prefix = `${env.queuePrefix}-watch`;
    let asked = 0;
    const lanes: string[] = [];
    // What the worker's queue does with a watch's request, in order: run one sync of the mailbox.
    let syncs: Promise<unknown> = Promise.resolve();
    const watchers = new Watchers({
      db,
      redis,
      prefix,
      workerId: 'sync-test',
      source: deps.source,
      logger: deps.logger,
      refreshMs: 60_000,
      // Earlier test files leave enabled mailboxes behind; every one of them may be watched.
      limit: 10_000,
      // Mailboxes of earlier tests are watched too; only this test's mailbox is synced here.
      requestSync: async (id, lane) => {
        if (id !== box.mailboxId) return;
        asked += 1;
        lanes.push(lane);
        syncs = syncs.then(() => once(id));
      },
    });
    try {
      await watchers.reconcile();
      expect(watchers.isWatching(box.mailboxId)).toBe(true);
      expect(await redis.get(`${prefix}:watch:${box.mailboxId}`)).toBe('sync-test');
      await waitFor(async () => asked >= 1, 10_000, 'the watch never asked for its first sync');
      // Connecting asks for a catch-up, which must not go ahead of news from other mailboxes.
      expect(lanes).toEqual(['routine']);
      await syncs;
      // Watching holds no mailbox lock: a sync runs beside it; while another process holds the lock, a sync is a no-op.
      const other = createMailboxLocks({ databaseUrl: env.databaseUrl });
      const lock = await other.tryLock(box.mailboxId);
      expect(lock).not.toBeNull();
      expect(await once(box.mailboxId)).toEqual({ status: 'busy' });
      await lock!.release();
      await other.close();
      // Give imapflow's auto-IDLE (200 ms after EXAMINE) time to start.
      await new Promise((r) => setTimeout(r, 400));
      await appendMessage(env.dovecot, box.user, testMail(box.user));
      const appended = Date.now();
      await waitFor(async () => (await db.conversation.count({ where: { mailbox_id: box.mailboxId } })) === 1, 2_000, 'the mail was not ingested within 2 s');
      expect(Date.now() - appended).toBeLessThan(2_000);
      expect(lanes).toContain('news');
    } finally {
      await watchers.stop();
    }
    await syncs;
    expect(watchers.size).toBe(0);
    expect(await redis.get(`${prefix}:watch:${box.mailboxId}`)).toBeNull();
  });

  it('leaves a connected watch\'s catch-up to a sync still queued (a worker\'s start), and asks when in doubt', async () => {
    const env = testEnv();
    const queued = await createTestMailbox(db);
    const doubtful = await createTestMailbox(db);
    const prefix = `${env.queuePrefix}-catchup`;
    const asked: string[] = [];
    const checked = new Set<number>();
    const watchers = new Watchers({
      db,
      redis,
      prefix,
      workerId: 'catchup-test',
      source: deps.source,
      logger: deps.logger,
      refreshMs: 60_000,
      limit: 10_000,
      requestSync: async (id, lane) => {
        if (id === queued.mailboxId) asked.push(`queued:${lane}`);
        if (id === doubtful.mailboxId) asked.push(`doubtful:${lane}`);
      },
      syncPending: async (id) => {
        checked.add(id);
        if (id === doubtful.mailboxId) throw new Error('Redis is away');
        return id === queued.mailboxId;
      },
    });
    try {
      await watchers.reconcile();
      await waitFor(async () => checked.has(queued.mailboxId) && asked.includes('doubtful:routine'), 10_000, 'the watches never connected');
      // Give imapflow's auto-IDLE (200 ms after EXAMINE) time to start, then news is asked for as ever.
      await new Promise((r) => setTimeout(r, 400));
      expect(asked).toEqual(['doubtful:routine']);
      await appendMessage(env.dovecot, queued.user, testMail(queued.user));
      await waitFor(async () => asked.includes('queued:news'), 5_000, 'the news was not asked for');
      expect(asked.filter((a) => a.startsWith('queued:'))).toEqual(['queued:news']);
    } finally {
      await watchers.stop();
    }
  });

  it('runs the post-action after the commit: \\Seen, or a move to a folder', async () => {
    const dovecot = testEnv().dovecot;
    const seen = await createTestMailbox(db, { post_action: 'seen' });
    await appendMessage(dovecot, seen.user, testMail(seen.user));
    await once(seen.mailboxId);
    const c = imapClient(dovecot, seen.user);
    await c.connect();
    await c.mailboxOpen('INBOX');
    const msg = await c.fetchOne('1', { flags: true });
    expect(msg && msg.flags?.has('\\Seen')).toBe(true);
    await c.logout();

    const moved = await createTestMailbox(db, { post_action: 'move', post_action_folder: 'Processed' });
    const c2 = imapClient(dovecot, moved.user);
    await c2.connect();
    await c2.mailboxCreate('Processed');
    await c2.logout();
    await appendMessage(dovecot, moved.user, testMail(moved.user));
    await once(moved.mailboxId);
    const c3 = imapClient(dovecot, moved.user);
    await c3.connect();
    const inbox = await c3.status('INBOX', { messages: true });
    const processed = await c3.status('Processed', { messages: true });
    expect(inbox && inbox.messages).toBe(0);
    expect(processed && processed.messages).toBe(1);
    await c3.logout();
    expect(await db.conversation.count({ where: { mailbox_id: moved.mailboxId } })).toBe(1);
  });

  it('catches up a post-action that a crash between the commit and the post-action left undone', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db, { post_action: 'seen' });
    const raw = testMail(box.user);
    const { uid, uidValidity } = await appendMessage(dovecot, box.user, raw);
    // What a sync that died right after the commit leaves behind: the record and the cursor, no \Seen.
    await db.mailbox.update({ where: { id: box.mailboxId }, data: { cursor: imapCursor(uidValidity, 0n) } });
    const mailbox = await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } });
    const committed = await ingestMessage(deps.ingest, mailbox, { uidValidity, uid: BigInt(uid), raw: Buffer.from(raw), internalDate: new Date() });
    expect((await db.ingestRecord.findUniqueOrThrow({ where: { id: committed.recordId } })).post_action_at).toBeNull();

    expect(await once(box.mailboxId)).toMatchObject({ status: 'ok', ingested: 0 });
    expect((await db.ingestRecord.findUniqueOrThrow({ where: { id: committed.recordId } })).post_action_at).not.toBeNull();
    const c = imapClient(dovecot, box.user);
    await c.connect();
    await c.mailboxOpen('INBOX');
    const msg = await c.fetchOne(String(uid), { flags: true }, { uid: true });
    expect(msg && msg.flags?.has('\\Seen')).toBe(true);
    await c.logout();
    expect(await db.conversation.count({ where: { mailbox_id: box.mailboxId } })).toBe(1);
  });
});
