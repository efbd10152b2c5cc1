// Prometheus metrics for ops (PRODUCT.md users: "watch queues, mailbox health
// and metrics"). createMetrics() builds a fresh registry each call instead of
// using prom-client's global one, so the worker and API entry points own theirs
// and every test starts from zero without name clashes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MailboxState, type Classification, type IngestOutcome } from '../generated/prisma/enums.js';
import type { Queues } from '../queues/queues.js';
import { withTimeout } from '../util/timeout.js';

/** An ingest record without a classification (e.g. a mail that failed to parse) is labelled `none`. */
export type IngestClassificationLabel = Classification | 'none';
/** The attachment row's final status, or `retry` for a failed attempt that BullMQ will repeat. */
export type AttachmentJobStatus = 'ok' | 'warning' | 'error' | 'retry';
export type SyncResult = 'ok' | 'connect_error' | 'auth_error' | 'error';

/** BullMQ job states reported per queue (getJobCounts names). */
export const QUEUE_JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;
export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];

export interface Metrics {
  readonly registry: Registry;
  readonly ingestTotal: Counter<'outcome' | 'classification'>;
  readonly ingestDuration: Histogram;
  readonly syncDuration: Histogram<'result'>;
  readonly mailboxState: Gauge<'state'>;
  readonly attachmentJobsTotal: Counter<'status'>;
  readonly queueJobs: Gauge<'queue' | 'state'>;
  /** When the attachment sweeper last ran, any replica (read from Redis at scrape time): alert when it is old. */
  readonly sweepLastRun: Gauge;
  /** Typed shorthand for ingestTotal.inc. */
  countIngest(outcome: IngestOutcome, classification: IngestClassificationLabel): void;
  observeSync(result: SyncResult, seconds: number): void;
  countAttachmentJob(status: AttachmentJobStatus): void;
  /** Sets the gauge from a count per state; states missing from `counts` are 0, not stale. */
  setMailboxStates(counts: Partial<Record<MailboxState, number>>): void;
  /**
   * Sets the jobs per state of every queue, read at scrape time; `null` (Redis
   * unreachable) drops the series rather than keep depths that are no longer true.
   */
  setQueueJobs(depths: Record<string, Partial<Record<QueueJobState, number>>> | null): void;
}

const MAILBOX_STATES = Object.values(MailboxState);

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const ingestTotal = new Counter({
    name: 'mailroom_ingest_total',
    help: 'Messages ingested, by ingest record outcome and classification.',
    labelNames: ['outcome', 'classification'] as const,
    registers: [registry],
  });
  const ingestDuration = new Histogram({
    name: 'mailroom_ingest_duration_seconds',
    help: 'Time to ingest one message: parse, map, thread and the database transaction.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const syncDuration = new Histogram({
    name: 'mailroom_sync_duration_seconds',
    help: 'Time of one mailbox sync run, by result.',
    labelNames: ['result'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const mailboxState = new Gauge({
    name: 'mailroom_mailbox_state',
    help: 'Number of mailboxes in each state.',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const attachmentJobsTotal = new Counter({
    name: 'mailroom_attachment_jobs_total',
    help: 'Attachment jobs processed, by resulting status.',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const queueJobs = new Gauge({
    name: 'mailroom_queue_jobs',
    help: 'Jobs in each BullMQ queue, by state (read from Redis at scrape time).',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
  });

  const sweepLastRun = new Gauge({
    name: 'mailroom_attachment_sweep_last_run_timestamp_seconds',
    help: 'When the attachment sweeper last ran (Unix seconds, any replica); alert when time() minus this exceeds a few MAILROOM_ATTACHMENT_SWEEP_SECONDS.',
    registers: [registry],
  });

  return {
    registry,
    sweepLastRun,
    ingestTotal,
    ingestDuration,
    syncDuration,
    mailboxState,
    attachmentJobsTotal,
    queueJobs,
    countIngest: (outcome, classification) => ingestTotal.inc({ outcome, classification }),
    observeSync: (result, seconds) => syncDuration.observe({ result }, seconds),
    countAttachmentJob: (status) => attachmentJobsTotal.inc({ status }),
    setMailboxStates: (counts) => {
      for (const state of MAILBOX_STATES) mailboxState.set({ state }, counts[state] ?? 0);
    },
    setQueueJobs: (depths) => {
      queueJobs.reset();
      for (const [queue, counts] of Object.entries(depths ?? {})) {
        for (const state of QUEUE_JOB_STATES) queueJobs.set({ queue, state }, counts[state] ?? 0);
      }
    },
  };
}

export type QueueDepths = Record<keyof Queues, Record<QueueJobState, number>>;

/**
 * Jobs per state of every queue, keyed by the Queues field (`sync`,
 * `attachments`), for /metrics and `mailroom status`. Rejects after
 * `timeoutMs`: a connection that retries forever (BullMQ's) would otherwise
 * hang a scrape or a terminal while Redis is down.
 */
export async function readQueueDepths(queues: Queues, timeoutMs = 3000): Promise<QueueDepths> {
  const read = async (queue: Queues[keyof Queues]) => {
    const counts = await queue.getJobCounts(...QUEUE_JOB_STATES);
    return Object.fromEntries(QUEUE_JOB_STATES.map((s) => [s, counts[s] ?? 0])) as Record<QueueJobState, number>;
  };
  const [sync, attachments] = await withTimeout(
    Promise.all([read(queues.sync), read(queues.attachments)]),
    timeoutMs,
    () => new Error(`Redis did not answer within ${timeoutMs / 1000} s`),
  );
  return { sync, attachments };
}
