// BullMQ queues: Redis holds the work (PRODUCT.md "Pipeline"). Mailbox polls
// and attachment jobs are BullMQ jobs so N stateless replicas share them. Every
// key lives under the configured prefix (`{mailroom}` by default: the braces
// are a Redis Cluster hash tag, so one queue's keys share a slot and its Lua
// scripts can run there). Connections are handed in, never opened at import.
//
// Idempotency is in the job ids, not in the callers: an attachment job's id is
// derived from its row, a mailbox poll's scheduler id from its mailbox, and an
// on-demand sync is deduplicated per mailbox, so a retry or a burst enqueues
// nothing twice.
import { Queue, type DefaultJobOptions, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { MailroomError } from '../errors.js';
import type { IngestedAttachment } from '../ingest/types.js';

export const QUEUE_NAMES = Object.freeze({ sync: 'mailbox-sync', attachments: 'attachments' } as const);

export const JOB_NAMES = Object.freeze({
  attachment: 'process-attachment',
  /** A run of a mailbox's job scheduler. */
  poll: 'poll',
  /** A one-off sync someone asked for (new mailbox, admin "sync now", IDLE notice). */
  sync: 'sync',
} as const);

const id = z.number().int().positive();

/**
 * Ids only. Jobs are shown on the shared dashboard (/admin/queues) and kept in
 * Redis for days, so they carry nothing of a customer's file: not its name,
 * not its blob key, which is the sha256 of its content (a hash anyone can
 * check a guessed file against). The worker reads the key from the row.
 * Enqueueing refuses any other field; reading an older job that still has
 * one ignores it.
 */
export const attachmentJobSchema = z.object({ attachmentId: id, tenantId: id });
export type AttachmentJobData = z.infer<typeof attachmentJobSchema>;
const newAttachmentJobSchema = z.strictObject(attachmentJobSchema.shape);

export const mailboxSyncJobSchema = z.object({ mailboxId: id });
export type MailboxSyncJobData = z.infer<typeof mailboxSyncJobSchema>;

// Job names stay `string`: bullmq types a scheduler id as the job-name type,
// so narrowing names would make `mailbox-<id>` scheduler ids ill-typed.
export type AttachmentQueue = Queue<AttachmentJobData>;
export type SyncQueue = Queue<MailboxSyncJobData>;

export interface Queues {
  readonly sync: SyncQueue;
  readonly attachments: AttachmentQueue;
}

const HOUR_S = 3600;

/**
 * Attachment processing is worth retrying (storage or DB hiccups); after the
 * last attempt the worker marks the row ERROR ("retries exhausted"). Finished
 * jobs are kept for a while for ops and then trimmed so Redis does not grow.
 */
export const ATTACHMENT_JOB_OPTIONS: DefaultJobOptions = Object.freeze({
  attempts: 5,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 24 * HOUR_S, count: 10_000 },
  removeOnFail: { age: 14 * 24 * HOUR_S, count: 10_000 },
});

/**
 * One attempt: a failed sync is recorded on the mailbox and retried on the
 * mailbox's own backoff (src/sync/backoff.ts); BullMQ retries on top would
 * hammer a server that is down or rejecting the credentials.
 */
export const SYNC_JOB_OPTIONS: DefaultJobOptions = Object.freeze({
  attempts: 1,
  removeOnComplete: { age: HOUR_S, count: 1_000 },
  removeOnFail: { age: 7 * 24 * HOUR_S, count: 1_000 },
});

/** A connection as BullMQ needs it: workers block, so commands must not give up after N retries. */
export function createRedisConnection(redisUrl: string, options: RedisOptions = {}): Redis {
  return new Redis(redisUrl, { ...options, maxRetriesPerRequest: null });
}

/** Queue objects sharing `connection`; closing them leaves the connection to its owner. */
export function createQueues({ connection, prefix }: { connection: Redis; prefix: string }): Queues {
  return {
    sync: quiet(new Queue(QUEUE_NAMES.sync, { connection, prefix, defaultJobOptions: SYNC_JOB_OPTIONS })),
    attachments: quiet(new Queue(QUEUE_NAMES.attachments, { connection, prefix, defaultJobOptions: ATTACHMENT_JOB_OPTIONS })),
  };
}

/**
 * A Queue re-emits every error of its connection; with no listener, BullMQ
 * prints each one as a raw multi-line stack trace beside the JSON log. The
 * connection's owner already logs one structured line per failed attempt.
 */
/** Redis being unreachable (refused, reset, timed out, closed): logged once per attempt by the connection's owner. */
export function isRedisConnectionError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EPIPE'].includes(code)) return true;
  return err instanceof Error && /Connection is closed|connect ETIMEDOUT/.test(err.message);
}

export function quiet<Q extends Queue>(queue: Q): Q {
  queue.on('error', () => undefined);
  return queue;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all([queues.sync.close(), queues.attachments.close()]);
}

export const attachmentJobId = (attachmentId: number): string => `attachment-${attachmentId}`;

/** Where the attachment sweeper notes each run (milliseconds since the epoch), under the queue prefix. */
const sweepHeartbeatKey = (prefix: string): string => `${prefix}:${QUEUE_NAMES.attachments}:last-sweep`;

export async function recordSweep(redis: Redis, prefix: string, at = Date.now()): Promise<void> {
  await redis.set(sweepHeartbeatKey(prefix), String(at));
}

/** When the sweeper last ran (any replica), or null when it never has: /metrics alerts on its age. */
export async function lastSweep(redis: Redis, prefix: string): Promise<Date | null> {
  const value = await redis.get(sweepHeartbeatKey(prefix));
  const ms = Number(value);
  return value !== null && Number.isFinite(ms) ? new Date(ms) : null;
}
export const mailboxSchedulerId = (mailboxId: number): string => `mailbox-${mailboxId}`;
export const mailboxSyncDeduplicationId = (mailboxId: number): string => `sync-${mailboxId}`;

/** Validates a payload read back from Redis (workers) or built by a caller. */
export function parseAttachmentJob(data: unknown): AttachmentJobData {
  return parsePayload(attachmentJobSchema, data, 'attachment');
}

export function parseMailboxSyncJob(data: unknown): MailboxSyncJobData {
  return parsePayload(mailboxSyncJobSchema, data, 'mailbox sync');
}

/** The jobs for the attachment rows an ingest wrote. */
export function attachmentJobsFor(attachments: readonly IngestedAttachment[]): AttachmentJobData[] {
  return attachments.map((a) => ({ attachmentId: a.id, tenantId: a.tenantId }));
}

/**
 * One job per attachment row. While a job with the same id is still in Redis
 * (waiting, active, or kept after finishing) enqueueing the row again adds
 * nothing, so the ingest transaction's retry cannot double the work.
 */
export async function enqueueAttachmentJobs(
  queue: AttachmentQueue,
  rows: readonly AttachmentJobData[],
): Promise<Job<AttachmentJobData>[]> {
  if (rows.length === 0) return [];
  const jobs = rows.map((row) => {
    const data = parsePayload(newAttachmentJobSchema, row, 'attachment');
    return { name: JOB_NAMES.attachment, data, opts: { jobId: attachmentJobId(data.attachmentId) } };
  });
  return queue.addBulk(jobs);
}

/**
 * Routine syncs — the poll schedule, the catch-up when a worker starts or a
 * watch (re)connects — carry this BullMQ priority; syncs for news (a watch's
 * notice, an admin's change, a retry) carry none, and BullMQ takes every job
 * without a priority before any prioritized one. So a mail IDLE announced
 * never waits behind a thousand polls that came due at once (1,000 watched
 * mailboxes polled every minute: a p99 of 4.7 s before, bench part `idle`).
 */
export const ROUTINE_SYNC_PRIORITY = 10;

/** What a requested sync is for: `news` goes ahead of everything `routine`. */
export type SyncLane = 'news' | 'routine';

/**
 * Creates or updates the mailbox's poll schedule; calling it again never adds
 * a second schedule. A new (or re-timed) schedule ticks at once, unless
 * `firstTickLater`: then one interval from now, for a caller that asks for a
 * sync itself (a worker starting, a mailbox added or changed) — otherwise each
 * such mailbox was synced twice, its second IMAP session finding nothing new.
 */
export async function scheduleMailboxPoll(queue: SyncQueue, mailboxId: number, everySeconds: number, opts: { firstTickLater?: boolean } = {}): Promise<void> {
  const data = parseMailboxSyncJob({ mailboxId });
  if (!Number.isFinite(everySeconds) || everySeconds < 1) {
    throw new MailroomError('VALIDATION', 'The poll interval must be at least 1 second.');
  }
  const every = Math.round(everySeconds * 1000);
  await queue.upsertJobScheduler(mailboxSchedulerId(mailboxId), { every, ...(opts.firstTickLater ? { startDate: Date.now() + every } : {}) }, { name: JOB_NAMES.poll, data, opts: { priority: ROUTINE_SYNC_PRIORITY } });
}

/**
 * Stops polling the mailbox. True when a schedule was removed; removing an
 * absent one is not an error (disable twice). A poll already running goes on,
 * so the sync job must still check that its mailbox is enabled.
 */
export async function unscheduleMailboxPoll(queue: SyncQueue, mailboxId: number): Promise<boolean> {
  const schedulerId = mailboxSchedulerId(mailboxId);
  const scheduler = await queue.getJobScheduler(schedulerId);
  const removed = await queue.removeJobScheduler(schedulerId);
  // BullMQ deletes the scheduler's next job only while it is delayed; the first
  // run of an `every` schedule is due at once and sits in `waiting`. Its id is
  // `repeat:<scheduler id>:<next millis>` (removeJobScheduler-3.lua); remove()
  // leaves it alone if a worker already holds it.
  if (scheduler?.next !== undefined) await queue.remove(`repeat:${schedulerId}:${scheduler.next}`);
  return removed;
}

/**
 * Asks for a sync now. A burst of requests makes at most one waiting job per
 * lane; a request while that mailbox's sync is running is kept
 * (`keepLastIfActive`) and becomes one job when the running one finishes, so
 * mail that arrived during a sync is not left for the next poll. The lanes
 * fold separately: news must not join a routine job waiting at the back.
 * Returns the new job, or the waiting or running one the request was folded into.
 */
export async function requestMailboxSync(queue: SyncQueue, mailboxId: number, lane: SyncLane = 'news'): Promise<Job<MailboxSyncJobData>> {
  const data = parseMailboxSyncJob({ mailboxId });
  const id = lane === 'news' ? mailboxSyncDeduplicationId(mailboxId) : `${mailboxSyncDeduplicationId(mailboxId)}-routine`;
  return queue.add(JOB_NAMES.sync, data, {
    deduplication: { id, keepLastIfActive: true },
    ...(lane === 'routine' ? { priority: ROUTINE_SYNC_PRIORITY } : {}),
  });
}

/**
 * A sync again after `delayMs`: when a requested sync found the mailbox locked
 * by another run (a second later), or after a failure (when its backoff ends,
 * rather than at the next poll tick). At most one such retry is pending per
 * mailbox per half delay, so a long backfill elsewhere costs a couple of cheap
 * jobs a second.
 */
export async function retryMailboxSyncSoon(queue: SyncQueue, mailboxId: number, delayMs = 1_000): Promise<void> {
  const data = parseMailboxSyncJob({ mailboxId });
  // The window ends well before the delay: the retry's own follow-up (another failure) must not fold into it.
  await queue.add(JOB_NAMES.sync, data, { delay: delayMs, deduplication: { id: `${mailboxSyncDeduplicationId(mailboxId)}-retry`, ttl: Math.max(1, Math.floor(delayMs / 2)) } });
}

/**
 * A sync job that is not folded into any other: a worker starting up after a
 * crash must not wait for the dead worker's stalled job (whose deduplication id
 * it would otherwise join). Extra jobs are cheap; the mailbox lock makes them no-ops.
 */
export async function requestMailboxSyncUnique(queue: SyncQueue, mailboxId: number, tag: string): Promise<Job<MailboxSyncJobData>> {
  const data = parseMailboxSyncJob({ mailboxId });
  // Routine: a restart's catch-up of every mailbox must not hold up news from the watches.
  return queue.add(JOB_NAMES.sync, data, { jobId: uniqueSyncJobId(mailboxId, tag), priority: ROUTINE_SYNC_PRIORITY });
}

function uniqueSyncJobId(mailboxId: number, tag: string): string {
  return `sync-${mailboxId}-${tag}`;
}

/** Whether the job of requestMailboxSyncUnique(mailboxId, tag) is still queued, not started. */
export async function uniqueSyncPending(queue: SyncQueue, mailboxId: number, tag: string): Promise<boolean> {
  const state = await (await queue.getJob(uniqueSyncJobId(mailboxId, tag)))?.getState();
  return state === 'waiting' || state === 'prioritized' || state === 'delayed';
}

function parsePayload<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'data', message: i.message }));
    throw new MailroomError('VALIDATION', `Invalid ${what} job payload: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}.`, {
      fields,
      cause: parsed.error,
    });
  }
  return parsed.data;
}
