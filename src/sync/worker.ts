// The worker half of `mailroom worker` / `mailroom start`: a BullMQ worker on
// the sync queue running syncMailbox, and a reconciler that keeps one poll
// schedule per enabled mailbox (mailboxes are added, disabled or removed by
// the CLI or the API, which need not talk to Redis). Any number of these
// processes share the mailboxes; the per-mailbox lock makes extra jobs no-ops.
//
// Shutdown: stop() aborts IDLE waits, lets the message in hand finish and
// commit, closes the BullMQ worker (waiting for active jobs) and the queues.

import { Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { startAttachmentWorker } from '../attachments/worker.js';
import type { Config } from '../config/config.js';
import type { Db } from '../db/prisma.js';
import { describeError } from '../errors.js';
import type { IngestContext } from '../ingest/ingest.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { QUEUE_NAMES, createQueues, closeQueues, enqueueAttachmentJobs, mailboxSchedulerId, parseMailboxSyncJob, requestMailboxSync, requestMailboxSyncUnique, scheduleMailboxPoll, unscheduleMailboxPoll } from '../queues/queues.js';
import type { MailboxSyncJobData, Queues } from '../queues/queues.js';
import { createBlobStore } from '../storage/blob-store.js';
import { syncMailbox } from './sync-mailbox.js';
import type { SyncDeps, SyncOutcome } from './sync-mailbox.js';

export interface WorkerHandle {
  readonly queues: Queues;
  /** Runs the reconciler once now (tests, and after admin changes in-process). */
  reconcile(): Promise<void>;
  stop(): Promise<void>;
}

const RECONCILE_MS = 15_000;

export async function startWorker(deps: { config: Config; db: Db; connection: Redis; logger: Logger; metrics?: Metrics }): Promise<WorkerHandle> {
  const { config, db, connection, logger } = deps;
  const log = logger.child({ component: 'worker' });
  const queues = createQueues({ connection, prefix: config.queuePrefix });
  const shutdown = new AbortController();
  const blobs = createBlobStore(config.storageUrl);
  const ingest: IngestContext = {
    db,
    blobs,
    secretKey: config.secretKey,
    publicUrl: config.publicUrl,
    logger: log,
    parseLimits: { maxRawBytes: config.maxMessageBytes },
  };
  const syncDeps: SyncDeps = {
    db,
    databaseUrl: config.databaseUrl,
    ingest,
    secretKeys: [config.secretKey],
    logger: log,
    metrics: deps.metrics,
    maxRawBytes: config.maxMessageBytes,
    enqueueAttachments: async (rows) => {
      await enqueueAttachmentJobs(queues.attachments, rows);
    },
  };

  // The BullMQ worker blocks on its connection, so it gets its own; BullMQ does not close a
  // connection it was handed, so stop() does.
  const workerConnection = connection.duplicate();
  const worker = new Worker<MailboxSyncJobData>(
    QUEUE_NAMES.sync,
    async (job: Job<MailboxSyncJobData>) => {
      const { mailboxId } = parseMailboxSyncJob(job.data);
      const outcome = await syncMailbox(syncDeps, mailboxId, { idleMs: config.idleSeconds * 1000, signal: shutdown.signal });
      await followUp(queues, mailboxId, outcome, shutdown.signal, log);
      return outcome;
    },
    { connection: workerConnection, prefix: config.queuePrefix, concurrency: config.syncConcurrency, autorun: true },
  );
  worker.on('failed', (job, err) => log.error({ jobId: job?.id, err: describeError(err) }, 'sync job failed'));
  worker.on('error', (err) => log.warn({ err: describeError(err) }, 'sync worker problem'));

  // Attachment jobs run in the same process, on their own queue and connection.
  const attachments = await startAttachmentWorker({ config, db, connection, logger, metrics: deps.metrics, blobs });

  let reconciling: Promise<void> | null = null;
  const reconcile = () => {
    reconciling ??= reconcileSchedules(db, queues, log).finally(() => {
      reconciling = null;
    });
    return reconciling;
  };
  await reconcile();
  // Start every enabled mailbox now rather than at its first poll tick (or after a dead worker's job stalls out).
  const startTag = `${process.pid}-${Date.now()}`;
  for (const m of await db.mailbox.findMany({ where: { enabled: true }, select: { id: true } })) {
    await requestMailboxSyncUnique(queues.sync, m.id, startTag).catch((err: unknown) => log.warn({ err: describeError(err) }, 'could not request a sync'));
  }
  const timer = setInterval(() => {
    reconcile().catch((err: unknown) => log.warn({ err: describeError(err) }, 'reconciling poll schedules failed'));
  }, RECONCILE_MS);
  timer.unref();
  log.info({ concurrency: config.syncConcurrency, idleSeconds: config.idleSeconds }, 'worker started');

  return {
    queues,
    reconcile,
    async stop() {
      clearInterval(timer);
      shutdown.abort();
      await worker.close();
      await attachments.stop();
      await reconciling?.catch(() => undefined);
      await closeQueues(queues);
      await workerConnection.quit().catch(() => workerConnection.disconnect());
      log.info('worker stopped');
    },
  };
}

/** After an IDLE window the mailbox goes straight back to the queue, so some worker is always listening. */
async function followUp(queues: Queues, mailboxId: number, outcome: SyncOutcome, stopped: AbortSignal, log: Logger): Promise<void> {
  if (stopped.aborted) return;
  if (outcome.status === 'ok' && outcome.idled) {
    await requestMailboxSync(queues.sync, mailboxId).catch((err: unknown) => log.warn({ err: describeError(err), mailboxId }, 'could not request the follow-up sync'));
  }
}

/** One poll schedule per enabled mailbox at its interval; none for disabled or removed ones. */
async function reconcileSchedules(db: Db, queues: Queues, log: Logger): Promise<void> {
  const enabled = await db.mailbox.findMany({ where: { enabled: true }, select: { id: true, poll_seconds: true } });
  const wanted = new Map(enabled.map((m) => [mailboxSchedulerId(m.id), m]));
  const existing = await queues.sync.getJobSchedulers(0, -1);
  const have = new Map(existing.map((s) => [s.key, s]));
  for (const [key, m] of wanted) {
    const current = have.get(key);
    // Redis hands numbers back as strings: compare as numbers.
    if (current !== undefined && Number(current.every) === m.poll_seconds * 1000) continue;
    await scheduleMailboxPoll(queues.sync, m.id, m.poll_seconds);
    log.debug({ mailboxId: m.id, pollSeconds: m.poll_seconds }, 'poll scheduled');
  }
  for (const s of existing) {
    if (wanted.has(s.key)) continue;
    const mailboxId = Number(/^mailbox-(\d+)$/.exec(s.key)?.[1]);
    if (Number.isSafeInteger(mailboxId)) {
      await unscheduleMailboxPoll(queues.sync, mailboxId);
      log.debug({ mailboxId }, 'poll unscheduled');
    }
  }
}
