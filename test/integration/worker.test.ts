// `mailroom worker` as real child processes: killed mid-backlog and
// restarted, two of them sharing mailboxes, graceful SIGTERM, and
// `mailroom reprocess`. Exactly once is checked in the database.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { imapCursor, ingestMessage } from '../support/ingest.js';
import { createBlobStore } from '../../src/storage/blob-store.js';
import { createLogger } from '../../src/logging/logger.js';
import { removeMailbox, setMailboxEnabled } from '../../src/mailboxes/service.js';
import { JOB_NAMES, closeQueues, createQueues, createRedisConnection } from '../../src/queues/queues.js';
import { CLI, runCli } from '../support/cli.js';
import { appendMessage, appendMessages, freePort, startDovecot, stopDovecot, waitFor } from '../support/dovecot.js';
import { childEnv, testEnv, testPrisma } from '../support/env.js';
import { createTestMailbox, secretKey, testMail } from '../support/mailboxes.js';

// Resolved from the project, not from the worker's temporary working directory.
const TSX_LOADER = import.meta.resolve('tsx');
const db = testPrisma();
const storage = `file://${mkdtempSync(path.join(tmpdir(), 'mailroom-worker-blobs-'))}`;
const running: ChildProcess[] = [];

interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

function startWorker(extra: Record<string, string>): WorkerProcess {
  const cwd = mkdtempSync(path.join(tmpdir(), 'mailroom-worker-'));
  // One process (node with tsx's loader), not the tsx wrapper: a SIGKILL must hit the worker itself.
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, 'worker'], { cwd, env: childEnv({ LOG_LEVEL: 'info', MAILROOM_STORAGE_URL: storage, ...extra }), stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  const lines: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => lines.push(d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // What the worker said, when a test fails: the only view into a child process.
  onTestFailed(() => console.log(`worker ${child.pid} output (last 40 lines):\n${lines.slice(-40).join('\n')}`));
  return { child, lines, exited };
}

const ingestedBy = (w: WorkerProcess) => w.lines.filter((l) => l.includes('"msg":"message ingested"')).length;
const started = (w: WorkerProcess) => w.lines.some((l) => l.includes('"msg":"mailroom started"'));

beforeAll(async () => {
  // Mailboxes of earlier test files would be synced by these workers too: switch them off.
  await db.mailbox.updateMany({ data: { enabled: false } });
});
afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await db.$disconnect();
});

describe('mailroom worker', () => {
  it('ingests a 200-mail backlog exactly once across a SIGKILL and a restart, and stops cleanly on SIGTERM', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    await appendMessages(dovecot, box.user, Array.from({ length: 200 }, (_, i) => testMail(box.user, { attachment: i % 50 === 0 })));
    const prefix = `${testEnv().queuePrefix}-${randomBytes(3).toString('hex')}`;
    const env = { MAILROOM_QUEUE_PREFIX: prefix, MAILROOM_IDLE_SECONDS: '2' };
    const count = () => db.ingestRecord.count({ where: { mailbox_id: box.mailboxId } });

    const first = startWorker(env);
    await waitFor(async () => (await count()) >= 20, 30_000, 'the first worker ingested nothing');
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await count();
    expect(atKill).toBeLessThan(200);

    const metricsPort = await freePort();
    const second = startWorker({ ...env, MAILROOM_WORKER_METRICS_PORT: String(metricsPort) });
    await waitFor(async () => (await count()) >= 200, 90_000, `only ${await count()} of 200 after the restart`);
    await new Promise((r) => setTimeout(r, 1_000));
    // A worker-only process serves its own counters when asked to.
    const scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const ingested = Number(/^mailroom_ingest_total\{outcome="conversation",classification="human"\} (\d+)$/m.exec(scraped)?.[1]);
    expect(ingested).toBe(200 - atKill);
    expect(scraped).toMatch(/^mailroom_queue_jobs\{queue="mailbox-sync",state="active"\} \d+$/m);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/api/x/v1/tickets`)).status).toBe(404);
    const records = await db.ingestRecord.groupBy({ by: ['outcome'], where: { mailbox_id: box.mailboxId }, _count: true });
    expect(records).toEqual([{ outcome: 'conversation', _count: 200 }]);
    expect(await db.conversation.count({ where: { mailbox_id: box.mailboxId } })).toBe(200);
    expect(await db.attachment.count({ where: { conversation: { mailbox_id: box.mailboxId } } })).toBe(4);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.lines.join('\n')).toContain('worker stopped');
  }, 180_000);

  it('heals attachments committed by a worker that died before enqueueing them: the restarted worker sweeps them to a final status', async () => {
    const box = await createTestMailbox(db);
    const mailbox = await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } });
    // The state a crash between the ingest commit and the enqueue leaves: rows UNAVAILABLE, no jobs in Redis.
    const ctx = { db, blobs: createBlobStore(storage), secretKey: secretKey(), publicUrl: 'http://mailroom.test', logger: createLogger({ level: 'silent' }) };
    const ids: number[] = [];
    for (let uid = 1n; uid <= 3n; uid++) {
      const raw = Buffer.from(testMail(box.user, { attachment: true }));
      const result = await ingestMessage(ctx, { id: mailbox.id, tenant_id: mailbox.tenant_id, address: mailbox.address, aliases: [] }, { uidValidity: 1n, uid, raw, internalDate: new Date() });
      ids.push(...result.attachments.map((a) => a.id));
    }
    expect(ids).toHaveLength(3);
    const unavailable = () => db.attachment.count({ where: { id: { in: ids }, status: 'UNAVAILABLE' } });
    expect(await unavailable()).toBe(3);

    const prefix = `${testEnv().queuePrefix}-${randomBytes(3).toString('hex')}`;
    const worker = startWorker({ MAILROOM_QUEUE_PREFIX: prefix, MAILROOM_ATTACHMENT_SWEEP_SECONDS: '1', MAILROOM_ATTACHMENT_STALE_SECONDS: '0' });
    await waitFor(async () => (await unavailable()) === 0, 60_000, 'attachments still UNAVAILABLE after the restart');
    const rows = await db.attachment.findMany({ where: { id: { in: ids } } });
    expect(rows.map((r) => r.status)).toEqual(['OK', 'OK', 'OK']);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 120_000);

  it('shares mailboxes between two worker processes: every mail once, both do work', async () => {
    const dovecot = testEnv().dovecot;
    const first = await createTestMailbox(db);
    const boxes = [first, await createTestMailbox(db, { tenantId: first.tenantId, tenantSlug: first.tenantSlug }), await createTestMailbox(db, { tenantId: first.tenantId, tenantSlug: first.tenantSlug })];
    const prefix = `${testEnv().queuePrefix}-${randomBytes(3).toString('hex')}`;
    // One sync at a time per process, short IDLE windows: the mailboxes rotate between the two.
    const env = { MAILROOM_QUEUE_PREFIX: prefix, MAILROOM_IDLE_SECONDS: '1', MAILROOM_SYNC_CONCURRENCY: '1' };
    const a = startWorker(env);
    const b = startWorker(env);
    await waitFor(() => started(a) && started(b), 60_000, 'the workers did not start');

    for (let round = 0; round < 10; round++) {
      for (const box of boxes) await appendMessage(dovecot, box.user, testMail(box.user));
      await new Promise((r) => setTimeout(r, 300));
    }
    const ids = boxes.map((x) => x.mailboxId);
    await waitFor(async () => (await db.conversation.count({ where: { mailbox_id: { in: ids } } })) === 30, 90_000, 'not every mail was ingested');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await db.ingestRecord.count({ where: { mailbox_id: { in: ids } } })).toBe(30);
    expect(await db.conversation.count({ where: { mailbox_id: { in: ids } } })).toBe(30);
    expect(ingestedBy(a)).toBeGreaterThan(0);
    expect(ingestedBy(b)).toBeGreaterThan(0);
    expect(ingestedBy(a) + ingestedBy(b)).toBe(30);
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  }, 180_000);
});

describe('polling a watched mailbox', () => {
  it('leaves out the poll ticks a live watch covers, and polls again once its catch-ups stop succeeding', async () => {
    const dovecot = testEnv().dovecot;
    // A poll every second, an IDLE refresh every 30 s: without the watch's cover, every tick would log in.
    const box = await createTestMailbox(db, { poll_seconds: 1 });
    const prefix = `${testEnv().queuePrefix}-${randomBytes(3).toString('hex')}`;
    const connection = createRedisConnection(testEnv().redisUrl);
    const queues = createQueues({ connection, prefix });
    const polls = async () => (await queues.sync.getCompleted(0, 500)).filter((j) => j.name === JOB_NAMES.poll && j.data.mailboxId === box.mailboxId);
    const watchedPolls = async () => (await polls()).filter((j) => (j.returnvalue as { status?: string } | null)?.status === 'watched').length;
    const w = startWorker({ MAILROOM_QUEUE_PREFIX: prefix, MAILROOM_IDLE_SECONDS: '30' });
    try {
      await waitFor(async () => (await watchedPolls()) >= 3, 60_000, 'no poll tick was left out for the watched mailbox');
      // From here on every tick is left out (before it, ticks ran until the watch's first catch-up succeeded).
      const loggedIn = async () => (await polls()).filter((j) => (j.returnvalue as { status?: string } | null)?.status !== 'watched').length;
      const before = await loggedIn();
      const watched = await watchedPolls();
      await waitFor(async () => (await watchedPolls()) >= watched + 3, 30_000, 'the poll ticks stopped');
      expect(await loggedIn()).toBe(before);

      // Mail still arrives through the watch.
      await appendMessage(dovecot, box.user, testMail(box.user));
      await waitFor(async () => (await db.conversation.count({ where: { mailbox_id: box.mailboxId } })) === 1, 30_000, 'the watched mailbox did not ingest its mail');

      // The watch's catch-ups stop succeeding (as if it hung with its lease): the ticks log in again.
      const stale = Date.now();
      const makeStale = () => db.mailbox.update({ where: { id: box.mailboxId }, data: { last_success_at: new Date(stale - 10 * 60_000) } });
      await makeStale();
      await waitFor(
        async () => {
          if ((await polls()).some((j) => (j.returnvalue as { status?: string } | null)?.status === 'ok' && (j.finishedOn ?? 0) > stale)) return true;
          // The watch's sync of the mail above may still have been finishing, and wrote its success over ours.
          const m = await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } });
          if ((m.last_success_at?.getTime() ?? 0) > stale - 60_000) await makeStale();
          return false;
        },
        30_000,
        'the polls did not resume for a mailbox whose watch stopped succeeding',
      );
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    } finally {
      await closeQueues(queues);
      connection.disconnect();
    }
  }, 120_000);
});

describe('mailbox disable, enable and remove under a running worker', () => {
  it('asks again for the rest of a backlog its SIGTERM cut short, which the next worker finishes', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    await appendMessages(dovecot, box.user, Array.from({ length: 300 }, () => testMail(box.user)));
    const prefix = `${testEnv().queuePrefix}-${randomBytes(3).toString('hex')}`;
    const connection = createRedisConnection(testEnv().redisUrl);
    const queues = createQueues({ connection, prefix });
    const count = () => db.ingestRecord.count({ where: { mailbox_id: box.mailboxId } });
    try {
      // Polling only: no watch whose catch-up would ask for a sync on its own.
      const first = startWorker({ MAILROOM_QUEUE_PREFIX: prefix, MAILROOM_IDLE_SECONDS: '0' });
      await waitFor(async () => (await count()) >= 10, 60_000, 'the backlog sync never started');
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(await count()).toBeLessThan(300);
      // Not left for the next poll tick a minute away: a sync job waits.
      const waiting = await queues.sync.getJobs(['waiting', 'prioritized']);
      expect(waiting.filter((j) => j.name === JOB_NAMES.sync && j.data.mailboxId === box.mailboxId)).toHaveLength(1);
      const second = startWorker({ MAILROOM_QUEUE_PREFIX: prefix });
      await waitFor(async () => (await count()) >= 300, 90_000, `only ${await count()} of 300 after the restart`);
      expect(await db.conversation.count({ where: { mailbox_id: box.mailboxId } })).toBe(300);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await closeQueues(queues);
      await connection.quit();
    }
  }, 180_000);

  it('stops a running backlog sync at once when the mailbox is disabled', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    await appendMessages(dovecot, box.user, Array.from({ length: 300 }, () => testMail(box.user)));
    const prefix = `${testEnv().queuePrefix}-${randomBytes(3).toString('hex')}`;
    const count = () => db.ingestRecord.count({ where: { mailbox_id: box.mailboxId } });
    const w = startWorker({ MAILROOM_QUEUE_PREFIX: prefix });
    await waitFor(async () => (await count()) >= 10, 60_000, 'the backlog sync never started');
    await setMailboxEnabled(db, box.mailboxId, false);
    // The message in hand is finished; then the sync ends and lets go of the mailbox's lock.
    const syncing = async () =>
      (await db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = ${0x4d525359} AND objid = ${box.mailboxId}`)[0]!.n > 0n;
    await waitFor(async () => !(await syncing()), 10_000, 'the sync did not stop after disable');
    const last = await count();
    expect(last).toBeLessThan(300);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await count()).toBe(last);
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } })).state).toBe('disabled');
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  }, 120_000);

  it('ends a live IDLE watch at once on disable, picks the mail up on enable, and ends it on remove without an error', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db);
    const prefix = `${testEnv().queuePrefix}-${randomBytes(3).toString('hex')}`;
    const lease = `${prefix}:watch:${box.mailboxId}`;
    const redis = createRedisConnection(testEnv().redisUrl);
    const conversations = () => db.conversation.count({ where: { mailbox_id: box.mailboxId } });
    try {
      const w = startWorker({ MAILROOM_QUEUE_PREFIX: prefix });
      await waitFor(async () => (await redis.get(lease)) !== null, 30_000, 'the worker never watched the mailbox');
      await appendMessage(dovecot, box.user, testMail(box.user, { subject: 'before disable' }));
      await waitFor(async () => (await conversations()) === 1, 10_000, 'the first mail was not ingested');

      await setMailboxEnabled(db, box.mailboxId, false);
      await waitFor(async () => (await redis.get(lease)) === null, 5_000, 'disable did not end the IDLE watch');
      await appendMessage(dovecot, box.user, testMail(box.user, { subject: 'while disabled' }));
      // Proving an absence needs a bounded wait: a live watch would have ingested it in well under a second.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await conversations()).toBe(1);
      expect((await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } })).state).toBe('disabled');

      await setMailboxEnabled(db, box.mailboxId, true);
      await waitFor(async () => (await conversations()) === 2, 10_000, 'the mail appended while disabled was not ingested after enable');
      await waitFor(async () => (await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } })).state === 'idle', 5_000, 'the state did not come back after enable');
      await waitFor(async () => (await redis.get(lease)) !== null, 5_000, 'enable did not start the watch again');

      await removeMailbox(db, box.mailboxId);
      await waitFor(async () => (await redis.get(lease)) === null, 5_000, 'remove did not end the IDLE watch');
      await new Promise((r) => setTimeout(r, 1_000));
      const mine = w.lines.filter((l) => l.includes(`"mailboxId":${box.mailboxId}`));
      expect(mine.filter((l) => /sync failed|watch failed|P2025|ended unexpectedly/.test(l))).toEqual([]);
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    } finally {
      redis.disconnect();
    }
  }, 90_000);
});

describe('mailroom worker recovering from a failed sync', () => {
  it('retries on the backoff (seconds), not at the next poll tick a minute later', async () => {
    const dovecot = testEnv().dovecot;
    const box = await createTestMailbox(db, { poll_seconds: 60 });
    const prefix = `${testEnv().queuePrefix}-${randomBytes(3).toString('hex')}`;
    // Polling only: no watch that would reconnect and ask for a sync on its own.
    const w = startWorker({ MAILROOM_QUEUE_PREFIX: prefix, MAILROOM_IDLE_SECONDS: '0' });
    const state = async () => (await db.mailbox.findUniqueOrThrow({ where: { id: box.mailboxId } })).state;
    await waitFor(async () => (await state()) === 'idle', 30_000, 'the first sync did not finish');
    await stopDovecot(dovecot);
    let restarted = false;
    try {
      // A sync asked for now (as after an admin's change) fails; what follows must be the backoff's retries.
      // (The next poll tick is a minute after the start: the start's own sync does not tick it at once.)
      await db.$executeRaw`SELECT pg_notify('mailroom_mailbox_changed', ${String(box.mailboxId)})`;
      await waitFor(async () => (await state()) === 'connect_error', 30_000, 'the sync never failed');
      await startDovecot(dovecot);
      restarted = true;
      await appendMessage(dovecot, box.user, testMail(box.user));
      const back = Date.now();
      await waitFor(async () => (await db.conversation.count({ where: { mailbox_id: box.mailboxId } })) === 1, 30_000, 'the mailbox did not recover before the next poll');
      expect(Date.now() - back).toBeLessThan(30_000);
      // The mail is committed before the sync that stored it finishes and records its success.
      await waitFor(async () => (await state()) === 'idle', 10_000, 'the mailbox did not return to idle');
    } finally {
      if (!restarted) await startDovecot(dovecot);
    }
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  }, 150_000);
});

describe('mailroom worker with Redis down', () => {
  // At start, an unreachable Redis ends the worker with one sentence (src/main/preflight.ts; also
  // test/integration/first-run.test.ts); Redis dying while it runs is retried with one structured
  // log line per reconnect attempt, which `npm run drill` (the redis fault) shows.
  it('exits 1 at start with one sentence naming REDIS_URL, never a raw stack trace', async () => {
    const w = startWorker({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(await w.exited).toBe(1);
    const raw = w.lines.flatMap((chunk) => chunk.split('\n')).filter((l) => l.trim() !== '' && !l.startsWith('{'));
    expect(raw).toHaveLength(1);
    expect(raw[0]).toMatch(/^mailroom: Cannot reach Redis at REDIS_URL=redis:\/\/127\.0\.0\.1:\d+: connection refused/);
  }, 60_000);
});

describe('mailroom reprocess', () => {
  it('re-runs one failed message, and all failed messages of a mailbox with progress', async () => {
    const box = await createTestMailbox(db);
    await db.mailbox.update({ where: { id: box.mailboxId }, data: { enabled: false, cursor: imapCursor(1n, 0n) } });
    const ctx = {
      db,
      blobs: createBlobStore(storage),
      secretKey: secretKey(),
      publicUrl: 'http://mailroom.test',
      logger: createLogger({ level: 'silent' }),
      // A limit too small for any mail: every ingest fails, as after a bad deploy.
      parseLimits: { maxRawBytes: 10 },
    };
    const mailbox = { id: box.mailboxId, tenant_id: box.tenantId, address: box.user, aliases: [] };
    const ids: number[] = [];
    for (let uid = 1n; uid <= 3n; uid++) {
      const r = await ingestMessage(ctx, mailbox, { uidValidity: 1n, uid, raw: Buffer.from(testMail(box.user)), internalDate: new Date() });
      expect(r.outcome).toBe('failed');
      ids.push(r.recordId);
    }
    const env = childEnv({ MAILROOM_STORAGE_URL: storage });

    const one = await runCli(['reprocess', '--message', String(ids[0])], { env });
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`Message ${ids[0]}: failed → conversation \\d+ on ticket \\d+\\.`));

    const batch = await runCli(['reprocess', '--mailbox', String(box.mailboxId), '--outcome', 'failed'], { env });
    expect(batch.code).toBe(0);
    // Not a terminal: no line per message, the progress (count, rate, time left) at the end.
    expect(batch.stderr).toMatch(/^reprocessing mailbox \d+: 2\/2 \(100%\), .* msg\/s, 0s left$/m);
    expect(batch.stderr).not.toMatch(/\[1\/2\]/);
    expect(batch.stdout).toMatch(/Reprocessed 2 of 2 failed message\(s\)/);
    expect(await db.conversation.count({ where: { mailbox_id: box.mailboxId } })).toBe(3);

    const again = await runCli(['reprocess', '--message', String(ids[0])], { env });
    expect(again.stdout).toMatch(/already a conversation/);
    expect(await db.conversation.count({ where: { mailbox_id: box.mailboxId } })).toBe(3);

    const usage = await runCli(['reprocess'], { env });
    expect(usage.code).toBe(2);
    const missing = await runCli(['reprocess', '--message', '999999999'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No ingest record with id 999999999/);
  }, 60_000);
});
