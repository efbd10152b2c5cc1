// The attachment half of `mailroom worker`: a BullMQ worker on the attachments
// queue running processAttachment (concurrency MAILROOM_ATTACHMENT_CONCURRENCY),
// and the sweeper as a job scheduler on the same queue (a distinct job name,
// every MAILROOM_ATTACHMENT_SWEEP_SECONDS). A scheduler rather than a timer:
// with N worker replicas one sweep runs per interval, not N, and it survives
// any one replica.
import { Queue, UnrecoverableError, Worker, type DefaultJobOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Db } from '../db/prisma.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { ATTACHMENT_JOB_OPTIONS, QUEUE_NAMES, isRedisConnectionError, parseAttachmentJob, quiet, recordSweep, type AttachmentJobData, type AttachmentQueue } from '../queues/queues.js';
import { redactBlobKeys } from '../storage/blob-key.js';
import type { BlobStore } from '../storage/blob-store.js';
import { clamdScanner, type Scanner } from './clamd.js';
import { policyLimits } from './policy.js';
import { processAttachment, type AttachmentJudge, type ProcessResult, type ProcessorDeps } from './processor.js';

import { sweepAttachments, type SweepResult } from './sweeper.js';

export const SWEEP_JOB_NAME = 'sweep-attachments';
export const SWEEP_SCHEDULER_ID = 'attachments-sweeper';

type SweepJobData = Record<string, never>;
/** What a finished attachment job keeps in Redis. */
type JobResult = Pick<Extract<ProcessResult, { status: 'OK' | 'WARNING' | 'ERROR' }>, 'status'> | Extract<ProcessResult, { status: 'skipped' }>;

export interface AttachmentWorkerDeps {
  readonly config: Config;
  readonly db: Db;
  /** Shared for queue commands; the worker's blocking connection is a duplicate of it. */
  readonly connection: Redis;
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  readonly blobs: BlobStore;
  /** Overrides ATTACHMENT_JOB_OPTIONS for jobs this worker (the sweeper) enqueues; `attempts` is also the row's budget. */
  readonly jobOptions?: Partial<DefaultJobOptions>;
  /** Defaults to clamd at MAILROOM_CLAMD_URL when set, else no scan. */
  readonly scanner?: Scanner | null;
  /** Runs the policy off the event loop (the worker's parse threads); absent: in this thread. */
  readonly judge?: AttachmentJudge | undefined;
}

export interface AttachmentWorkerHandle {
  /** The attachments queue (enqueue with enqueueAttachmentJobs). */
  readonly queue: AttachmentQueue;
  /**
   * Puts the sweeper's schedule back if Redis lost it (a restart without
   * persistence): the worker calls it on every reconcile. Idempotent.
   */
  ensureSchedule(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAttachmentWorker(deps: AttachmentWorkerDeps): Promise<AttachmentWorkerHandle> {
  const { config, db, connection } = deps;
  const log = deps.logger.child({ component: 'attachments' });
  const prefix = config.queuePrefix;
  const jobOptions: DefaultJobOptions = { ...ATTACHMENT_JOB_OPTIONS, ...deps.jobOptions };
  const attemptBudget = jobOptions.attempts ?? 1;
  const queue: AttachmentQueue = quiet(new Queue(QUEUE_NAMES.attachments, { connection, prefix, defaultJobOptions: jobOptions }));
  // The same queue, typed for the sweep jobs (bullmq types one data shape per Queue object).
  const sweepQueue = quiet(new Queue<SweepJobData>(QUEUE_NAMES.attachments, { connection, prefix }));

  const processorDeps: ProcessorDeps = {
    db,
    blobs: deps.blobs,
    logger: log,
    metrics: deps.metrics,
    limits: policyLimits(config.maxAttachmentBytes),
    scanner: deps.scanner !== undefined ? deps.scanner : config.clamdUrl ? clamdScanner(config.clamdUrl) : null,
    attemptBudget,
    judge: deps.judge,
  };
  const sweep = async () => {
    const result = await sweepAttachments({ db, queue, logger: log, staleSeconds: config.attachmentStaleSeconds, attemptBudget });
    await recordSweep(connection, prefix).catch((err: unknown) => log.warn({ err: describeError(err) }, 'could not record the sweep'));
    return result;
  };

  // BullMQ does not close a connection it was handed, so stop() closes this one.
  const workerConnection = connection.duplicate();
  const worker = new Worker<AttachmentJobData | SweepJobData, JobResult | SweepResult>(
    QUEUE_NAMES.attachments,
    async (job: Job<AttachmentJobData | SweepJobData>) => {
      if (job.name === SWEEP_JOB_NAME) return sweep();
      let data: AttachmentJobData;
      try {
        data = parseAttachmentJob(job.data);
      } catch (err) {
        throw new UnrecoverableError(describeError(err));
      }
      // attemptsMade counts the failed attempts before this one.
      let result: ProcessResult;
      try {
        result = await processAttachment(processorDeps, data, { attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 });
      } catch (err) {
        throw forSharedQueue(err);
      }
      // The queue (and /admin/queues) is shared by every tenant: keep the verdict, not its message, which can name files.
      return result.status === 'skipped' ? result : { status: result.status };
    },
    // A job in flight in a worker that died is taken up again once its lock lapses and a stalled
    // check sees it: 20 s + at most 10 s (BullMQ's defaults, 30 s + 30 s, left its attachment
    // UNAVAILABLE for a minute). The lock is renewed every 10 s while the job runs.
    { connection: workerConnection, prefix, concurrency: config.attachmentConcurrency, autorun: true, lockDuration: 20_000, stalledInterval: 10_000 },
  );
  worker.on('failed', (job, err) => log.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: describeError(err) }, 'attachment job failed'));
  worker.on('error', (err) => (isRedisConnectionError(err) ? undefined : log.warn({ err: describeError(err) }, 'attachment worker problem')));

  // Upserting is idempotent: every replica does it, one schedule results. A finished sweep
  // removes only itself: a `count` would trim every completed job of the shared queue.
  const ensureSchedule = async () => {
    await sweepQueue.upsertJobScheduler(
      SWEEP_SCHEDULER_ID,
      { every: config.attachmentSweepSeconds * 1000 },
      { name: SWEEP_JOB_NAME, data: {}, opts: { attempts: 1, removeOnComplete: true, removeOnFail: ATTACHMENT_JOB_OPTIONS.removeOnFail } },
    );
  };
  try {
    await ensureSchedule();
  } catch (err) {
    await worker.close();
    await Promise.all([queue.close(), sweepQueue.close()]);
    await workerConnection.quit().catch(() => workerConnection.disconnect());
    throw err;
  }
  log.info({ concurrency: config.attachmentConcurrency, sweepSeconds: config.attachmentSweepSeconds, scan: processorDeps.scanner !== null }, 'attachment worker started');

  return {
    queue,
    ensureSchedule,
    async stop() {
      await worker.close();
      await Promise.all([queue.close(), sweepQueue.close()]);
      await workerConnection.quit().catch(() => workerConnection.disconnect());
      log.info('attachment worker stopped');
    },
  };
}

/**
 * A job's failure reason and stack are kept in Redis and shown on the shared
 * dashboard: the storage layer's messages name blob keys, which are the sha256
 * of a customer's file. The error BullMQ records says the same without them
 * (the log line of the processor keeps the original); "retry or not" is kept.
 */
function forSharedQueue(err: unknown): Error {
  const message = redactBlobKeys(describeError(err));
  const out = err instanceof UnrecoverableError ? new UnrecoverableError(message) : new Error(message);
  out.stack = `${out.name}: ${message}`;
  return out;
}
