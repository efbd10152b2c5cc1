// The worker half of `mailroom worker` / `mailroom start`: a BullMQ worker on
// the sync queue running syncMailbox under MAILROOM_SYNC_CONCURRENCY, the
// watchers (one IDLE connection per mailbox, asking for syncs: they hold no
// sync slot), a reconciler keeping one poll schedule per enabled mailbox (a
// poll tick a live watch covers is left out: redundant-poll.ts), and
// a listener for mailbox changes so that disabling, removing, enabling or
// re-pointing a mailbox takes effect at once. Any number of these processes
// share the mailboxes; the per-mailbox lock makes extra sync jobs no-ops and
// watch leases spread the watches.
//
// Shutdown: stop() ends the watches, lets the message in hand finish and
// commit, closes the BullMQ worker (waiting for active jobs) and the queues.

import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AttachmentJudge } from '../attachments/processor.js';
import { startAttachmentWorker } from '../attachments/worker.js';
import { describeError } from '../errors.js';
import type { Config } from '../config/config.js';
import type { Db } from '../db/prisma.js';
import type { IngestContext } from '../ingest/types.js';
import type { SourceContext } from '../sources/types.js';
import type { BlobStore } from '../storage/blob.js';
import type { MailboxLocks } from './lock.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { JOB_NAMES, QUEUE_NAMES, ROUTINE_SYNC_PRIORITY, isRedisConnectionError, mailboxSchedulerId, parseMailboxSyncJob, requestMailboxSync, requestMailboxSyncUnique, retryMailboxSyncSoon, scheduleMailboxPoll, uniqueSyncPending, unscheduleMailboxPoll } from '../queues/queues.js';
import type { AttachmentJobData, MailboxSyncJobData, Queues } from '../queues/queues.js';
import { listenForMailboxChanges } from './changes.js';
import { followUpOf } from './follow-up.js';
import { syncMailbox } from './sync-mailbox.js';
import type { SyncDeps, SyncOutcome } from './sync-mailbox.js';
import { readOpenFilesLimit, watchBudget } from './watch-budget.js';
import { pollIsRedundant } from './redundant-poll.js';
import { Watchers, watchLeaseKey } from './watchers.js';

export interface WorkerHandle {
  readonly queues: Queues;
  readonly watchers: Watchers | null;
  /** Runs the reconciler once now (tests, and after admin changes in-process). */
  reconcile(): Promise<void>;
  stop(): Promise<void>;
}

const RECONCILE_MS = 15_000;

/** What the worker is handed by the process that runs it (src/main/services.ts assembles it). */
export interface WorkerServices {
  readonly config: Config;
  readonly db: Db;
  /** Shared for commands; the BullMQ workers block on duplicates of it. */
  readonly redis: Redis;
  readonly logger: Logger;
  readonly blobs: BlobStore;
  readonly queues: Queues;
  readonly ingest: IngestContext;
  readonly source: SourceContext;
  /** Every sync's mailbox lock, on one PostgreSQL connection of this process (connected on first use). */
  readonly locks: MailboxLocks;
  /** The attachment policy off the event loop; absent: attachment jobs judge in this thread. */
  readonly attachmentJudge?: AttachmentJudge;
  enqueueAttachments(rows: AttachmentJobData[]): Promise<void>;
}

export async function startWorker(services: WorkerServices, deps: { metrics?: Metrics } = {}): Promise<WorkerHandle> {
  const { config, db, redis: connection, queues } = services;
  const log = services.logger.child({ component: 'worker' });
  const shutdown = new AbortController();
  /**
   * Sync jobs running in this process per mailbox (one holds the lock, others are about to
   * find it busy), to end them at once when the mailbox is disabled or removed.
   */
  const running = new Map<number, Set<AbortController>>();
  const syncDeps: SyncDeps = {
    db,
    locks: services.locks,
    ingest: { ...services.ingest, logger: log },
    source: { ...services.source, logger: log },
    logger: log,
    metrics: deps.metrics,
    enqueueAttachments: (rows) => services.enqueueAttachments(rows),
  };

  // The BullMQ worker blocks on its connection, so it gets its own; BullMQ does not close a
  // connection it was handed, so stop() does.
  const workerConnection = connection.duplicate();
  const worker = startSyncWorker({ services, syncDeps, connection: workerConnection, running, outages: new Map(), shutdown: shutdown.signal, log });

  // Attachment jobs run in the same process, on their own queue and connection.
  const attachments = await startAttachmentWorker({ config, db, connection, logger: services.logger, metrics: deps.metrics, blobs: services.blobs, judge: services.attachmentJudge });

  // Names this start's sync of every mailbox (requestMailboxSyncUnique below), which a watch's catch-up waits for.
  const startTag = `${process.pid}-${Date.now()}`;
  const watchers = config.idleSeconds > 0 ? createWatchers(services, log, (id) => uniqueSyncPending(queues.sync, id, startTag)) : null;

  let reconciling: Promise<void> | null = null;
  /** What reconcile does besides the poll schedules: the watches and the sweeper's schedule. */
  const reconcileOthers = () => Promise.all([watchers?.reconcile(), attachments.ensureSchedule()]);
  const reconcile = () => {
    // Every repeatable job: Redis may have lost the schedules (a restart without persistence).
    reconciling ??= Promise.all([reconcileSchedules(services, log), reconcileOthers()])
      .then(() => undefined)
      .finally(() => {
        reconciling = null;
      });
    return reconciling;
  };

  // A mailbox changed (CLI, API, SQL): end its running sync, watch and schedule if it is off, else
  // (re)start all three now. Only this mailbox: the periodic reconcile covers everything else.
  const onChange = (mailboxId: number) => {
    void (async () => {
      const m = await db.mailbox.findUnique({ where: { id: mailboxId }, select: { enabled: true, poll_seconds: true } });
      if (!m?.enabled) for (const c of running.get(mailboxId) ?? []) c.abort();
      await watchers?.refresh(mailboxId);
      if (m?.enabled) {
        await scheduleMailboxPoll(queues.sync, mailboxId, m.poll_seconds, { firstTickLater: true });
        await requestMailboxSync(queues.sync, mailboxId);
      } else {
        await unscheduleMailboxPoll(queues.sync, mailboxId);
      }
    })().catch((err: unknown) => log.warn({ mailboxId, err: describeError(err) }, 'could not apply a mailbox change'));
  };
  const changes = listenForMailboxChanges(config.databaseUrl, onChange, log);
  await changes.ready;

  // The schedules first, their first ticks an interval away: every enabled mailbox is asked for next,
  // before the watches start (each watch's catch-up is this sync while it waits: Watchers.catchUp),
  // then the rest of a reconcile.
  await reconcileSchedules(services, log, { firstTickLater: true });
  // Start every enabled mailbox now rather than at its first poll tick (or after a dead worker's job stalls out).
  for (const m of await db.mailbox.findMany({ where: { enabled: true }, select: { id: true } })) {
    await requestMailboxSyncUnique(queues.sync, m.id, startTag).catch((err: unknown) => log.warn({ err: describeError(err) }, 'could not request a sync'));
  }
  await reconcileOthers();
  const timer = setInterval(() => {
    reconcile().catch((err: unknown) => log.warn({ err: describeError(err) }, 'reconciling poll schedules and watches failed'));
  }, RECONCILE_MS);
  timer.unref();
  // Writes a killed worker left half done (never under a blob's name: see file-store.ts) are cleared, off the start path.
  void services.blobs
    .removeLeftovers?.(60 * 60_000)
    .then((n) => (n > 0 ? log.info({ removed: n }, 'removed temporary files of interrupted blob writes') : undefined))
    .catch((err: unknown) => log.warn({ err: describeError(err) }, 'could not clean temporary blob files'));
  log.info({ concurrency: config.syncConcurrency, idleSeconds: config.idleSeconds, watchLimit: watchers?.limit ?? 0 }, 'worker started');

  return {
    queues,
    watchers,
    reconcile,
    async stop() {
      clearInterval(timer);
      // No new sync job from here on (a job taken now would only be cut short), then the running ones stop.
      await worker.pause(true).catch((err: unknown) => log.warn({ err: describeError(err) }, 'could not pause the sync worker'));
      shutdown.abort();
      await changes.stop();
      await watchers?.stop();
      await worker.close();
      await attachments.stop();
      await reconciling?.catch(() => undefined);
      await workerConnection.quit().catch(() => workerConnection.disconnect());
      log.info('worker stopped');
    },
  };
}

/** The BullMQ worker running syncMailbox for each sync job, under MAILROOM_SYNC_CONCURRENCY. */
function startSyncWorker(w: {
  services: WorkerServices;
  syncDeps: SyncDeps;
  connection: Redis;
  running: Map<number, Set<AbortController>>;
  outages: Map<number, number>;
  shutdown: AbortSignal;
  log: Logger;
}): Worker<MailboxSyncJobData> {
  const { config, queues } = w.services;
  const worker = new Worker<MailboxSyncJobData>(
    QUEUE_NAMES.sync,
    async (job: Job<MailboxSyncJobData>) => {
      const { mailboxId } = parseMailboxSyncJob(job.data);
      if (job.name === JOB_NAMES.poll && (await pollCovered(w.services, mailboxId))) return { status: 'watched' };
      const mine = new AbortController();
      const mailboxJobs = w.running.get(mailboxId) ?? new Set<AbortController>();
      w.running.set(mailboxId, mailboxJobs.add(mine));
      try {
        // An outage comes back as `unavailable` (retried on a backoff); anything thrown is a bug: the job fails, logged as an error.
        const outcome = await syncMailbox(w.syncDeps, mailboxId, { signal: AbortSignal.any([w.shutdown, mine.signal]) });
        await followUp(queues, job, outcome, w.shutdown, w.log, w.outages);
        return outcome;
      } finally {
        mailboxJobs.delete(mine);
        if (mailboxJobs.size === 0 && w.running.get(mailboxId) === mailboxJobs) w.running.delete(mailboxId);
      }
    },
    { connection: w.connection, prefix: config.queuePrefix, concurrency: config.syncConcurrency, autorun: true },
  );
  worker.on('failed', (job, err) => w.log.error({ jobId: job?.id, err: describeError(err) }, 'sync job failed'));
  // Redis being down is logged once per attempt by the shared connection; anything else here is news.
  worker.on('error', (err) => (isRedisConnectionError(err) ? undefined : w.log.warn({ err: describeError(err) }, 'sync worker problem')));
  return worker;
}

/** Whether a watch covers this poll tick (redundant-poll.ts); any doubt (Redis or PostgreSQL erring) polls. */
async function pollCovered(services: WorkerServices, mailboxId: number): Promise<boolean> {
  const { config, db, redis } = services;
  if (config.idleSeconds <= 0) return false;
  try {
    const [watched, m] = await Promise.all([
      redis.exists(watchLeaseKey(config.queuePrefix, mailboxId)),
      db.mailbox.findUnique({ where: { id: mailboxId }, select: { last_success_at: true } }),
    ]);
    return pollIsRedundant({ watched: watched === 1, lastSuccessAt: m?.last_success_at ?? null, now: Date.now(), refreshMs: config.idleSeconds * 1000 });
  } catch {
    return false;
  }
}

/** One watch per mailbox this process holds a lease for; news becomes a (deduplicated) sync job. */
function createWatchers(services: WorkerServices, log: Logger, syncPending: (mailboxId: number) => Promise<boolean>): Watchers {
  const { config, queues } = services;
  // Each watch holds a socket: what the watches take, the syncs cannot have (watch-budget.ts).
  const budget = watchBudget({ watchLimit: config.watchLimit, openFilesLimit: readOpenFilesLimit(), syncConcurrency: config.syncConcurrency, attachmentConcurrency: config.attachmentConcurrency });
  if (budget.cappedByOpenFiles !== null) {
    log.warn(
      { watchLimit: config.watchLimit, openFilesLimit: budget.cappedByOpenFiles, watches: budget.limit },
      'the open-files limit leaves room for fewer watches than MAILROOM_WATCH_LIMIT: the other mailboxes are polled (raise `ulimit -n` / LimitNOFILE)',
    );
  }
  return new Watchers({
    db: services.db,
    redis: services.redis,
    prefix: config.queuePrefix,
    workerId: `${process.pid}-${randomUUID()}`,
    source: { ...services.source, logger: log },
    logger: log.child({ component: 'watch' }),
    refreshMs: config.idleSeconds * 1000,
    limit: budget.limit,
    requestSync: async (id, lane) => {
      await requestMailboxSync(queues.sync, id, lane);
    },
    syncPending,
  });
}

/** Runs what followUpOf (follow-up.ts) asks for after a sync job; `outages` counts unavailable outcomes in a row per mailbox. */
async function followUp(queues: Queues, job: Job<MailboxSyncJobData>, outcome: SyncOutcome, stopped: AbortSignal, log: Logger, outages: Map<number, number>): Promise<void> {
  const mailboxId = job.data.mailboxId;
  if (stopped.aborted) {
    // Cut short by this worker's shutdown (it takes no new jobs by then): the rest is asked for again, for
    // another worker or this one's next start. It may have been the sync a watch's catch-up waited for.
    if (outcome.status === 'interrupted') {
      await requestMailboxSync(queues.sync, mailboxId, 'routine').catch((err: unknown) => log.warn({ err: describeError(err), mailboxId }, 'could not ask for the rest of a sync cut short'));
    }
    return;
  }
  const inARow = outcome.status === 'unavailable' ? (outages.get(mailboxId) ?? 0) + 1 : 0;
  if (inARow > 0) outages.set(mailboxId, inARow);
  else outages.delete(mailboxId);
  const next = followUpOf(outcome, job.name === JOB_NAMES.sync, inARow);
  if (outcome.status === 'unavailable' && next.kind === 'retry') log.warn({ mailboxId, retryInMs: next.delayMs, err: outcome.message }, 'mailbox sync could not start; retrying');
  try {
    if (next.kind === 'now') await requestMailboxSync(queues.sync, mailboxId);
    else if (next.kind === 'retry') await retryMailboxSyncSoon(queues.sync, mailboxId, next.delayMs);
  } catch (err) {
    log.warn({ err: describeError(err), mailboxId }, 'could not request the follow-up sync');
  }
}

/**
 * One poll schedule per enabled mailbox at its interval; none for disabled or
 * removed ones. A schedule put (back) ticks at once (after a Redis restart
 * lost them all, nothing else asks), or with `firstTickLater` an interval
 * from now (see scheduleMailboxPoll).
 */
async function reconcileSchedules({ db, queues }: Pick<WorkerServices, 'db' | 'queues'>, log: Logger, opts: { firstTickLater?: boolean } = {}): Promise<void> {
  const enabled = await db.mailbox.findMany({ where: { enabled: true }, select: { id: true, poll_seconds: true } });
  const wanted = new Map(enabled.map((m) => [mailboxSchedulerId(m.id), m]));
  const existing = await queues.sync.getJobSchedulers(0, -1);
  const have = new Map(existing.map((s) => [s.key, s]));
  for (const [key, m] of wanted) {
    const current = have.get(key);
    // Redis hands numbers back as strings: compare as numbers. A schedule without the routine priority predates it.
    if (current !== undefined && Number(current.every) === m.poll_seconds * 1000 && Number(current.template?.opts?.priority ?? 0) === ROUTINE_SYNC_PRIORITY) continue;
    await scheduleMailboxPoll(queues.sync, m.id, m.poll_seconds, opts);
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
