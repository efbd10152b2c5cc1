// One attachment job (PRODUCT.md "Attachments"): load the row (scoped to the
// job's tenant), read the bytes (a large file as streams unless it is an
// archive: streamed.ts), verify them against the row, sniff the real type,
// apply the policy, optionally scan, and finish the row as OK, WARNING or
// ERROR. The BullMQ plumbing lives in worker.ts; this takes plain values.
//
// Failures: a transient one (storage, database, scanner unreachable) is thrown
// for BullMQ to retry with backoff; a permanent one (bytes missing, checksum
// mismatch) marks the row ERROR and throws UnrecoverableError; the last
// attempt of a transient one marks ERROR "Processing failed after N attempts".
//
// Idempotent: only an UNAVAILABLE row is touched, and every write is
// conditional on it still being UNAVAILABLE, so a second job for the same row
// (a sweeper re-enqueue racing a slow worker) changes nothing.
import { UnrecoverableError } from 'bullmq';
import type { Db } from '../db/prisma.js';
import { describeError, isMailroomError, MailroomError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { AttachmentJobStatus, Metrics } from '../metrics/metrics.js';
import type { AttachmentJobData } from '../queues/queues.js';
import { blobKeyFor, type BlobStore } from '../storage/blob-store.js';
import type { Scanner } from './clamd.js';
import { judgeStreamed, STREAMED_JUDGE_BYTES } from './streamed.js';
import { checkSize, judge, type Judgement, type JudgeRequest, type PolicyLimits, type Verdict } from './policy.js';

export interface ProcessorDeps {
  readonly db: Db;
  readonly blobs: BlobStore;
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  readonly limits: PolicyLimits;
  readonly scanner?: Scanner | null | undefined;
  /** Attempts a row gets over all its jobs (the sweeper re-enqueues with a fresh BullMQ count). */
  readonly attemptBudget: number;
  /** Runs the policy off the event loop (the parse threads); absent: in this thread. */
  readonly judge?: AttachmentJudge | undefined;
}

/** Something that runs policy.judge elsewhere; `keep`: the caller still needs the bytes (else they may be handed over). */
export interface AttachmentJudge {
  judge(req: JudgeRequest, opts: { keep: boolean }): Promise<Judgement>;
}

/** This job's attempt (1-based) and how many BullMQ gives it. */
export interface AttemptInfo {
  readonly attempt: number;
  readonly maxAttempts: number;
}

export type ProcessResult =
  | { readonly status: 'OK' | 'WARNING' | 'ERROR'; readonly message: string | null; readonly detectedType: string | null }
  | { readonly status: 'skipped'; readonly reason: 'missing' | 'final' };

export async function processAttachment(deps: ProcessorDeps, job: AttachmentJobData, attempt: AttemptInfo): Promise<ProcessResult> {
  const { db } = deps;
  const log = deps.logger.child({ attachmentId: job.attachmentId, attempt: attempt.attempt });
  const row = await startAttempt(db, job);
  if (!row) {
    // Deleted with its conversation, or a job naming another tenant's row: nothing to do.
    if (!(await rowExists(db, job))) {
      log.info('attachment row not found; job dropped');
      return { status: 'skipped', reason: 'missing' };
    }
    return { status: 'skipped', reason: 'final' };
  }
  const attemptsSoFar = row.attempts;

  let verdict: Verdict;
  let detectedType: string | null = null;
  try {
    ({ verdict, detectedType } = await examine(deps, row));
  } catch (err) {
    const permanent = isMailroomError(err, 'ATTACHMENT_CORRUPT') || err instanceof UnrecoverableError || (isMailroomError(err) && !err.retryable);
    const last = attempt.attempt >= attempt.maxAttempts || attemptsSoFar >= deps.attemptBudget;
    if (!permanent && !last) {
      log.warn({ err: describeError(err) }, 'attachment processing failed; will retry');
      count(deps, 'retry');
      throw err;
    }
    const message = permanent ? permanentMessage(err) : `Processing failed after ${attemptsSoFar} attempts: ${describeError(err)}`;
    await finish(db, row, { status: 'ERROR', message }, null);
    count(deps, 'error');
    log.warn({ err: describeError(err) }, 'attachment marked ERROR');
    throw new UnrecoverableError(message);
  }
  await finish(db, row, verdict, detectedType);
  count(deps, verdict.status === 'OK' ? 'ok' : verdict.status === 'WARNING' ? 'warning' : 'error');
  log.debug({ status: verdict.status, detectedType }, 'attachment processed');
  return { status: verdict.status, message: verdict.message, detectedType };
}

interface Row {
  id: number;
  tenant_id: number;
  filename: string;
  content_type: string;
  size_bytes: bigint;
  sha256: string;
  storage_key: string;
  /** Including the attempt starting now. */
  attempts: number;
}

/**
 * The row (scoped to the job's tenant) with this attempt counted, in one
 * statement; null when there is no UNAVAILABLE row. Counted when the attempt
 * starts, not when it ends: a file that crashes the worker (and so never
 * finishes an attempt) still uses up its budget.
 */
async function startAttempt(db: Db, job: AttachmentJobData): Promise<Row | null> {
  const [row] = await db.$queryRaw<Row[]>`
    UPDATE attachments SET attempts = attempts + 1, last_updated = (${new Date().toISOString()}::timestamptz AT TIME ZONE 'UTC')
     WHERE id = ${job.attachmentId}::int AND tenant_id = ${job.tenantId}::int AND status = 'UNAVAILABLE'
    RETURNING id, tenant_id, filename, content_type, size_bytes, sha256, storage_key, attempts`;
  return row ?? null;
}

async function rowExists(db: Db, job: AttachmentJobData): Promise<boolean> {
  return (await db.attachment.count({ where: { id: job.attachmentId, tenant_id: job.tenantId } })) > 0;
}

async function examine(deps: ProcessorDeps, row: Row): Promise<{ verdict: Verdict; detectedType: string | null }> {
  const sizeBytes = Number(row.size_bytes);
  // Too large is decided from the row, before a byte is read.
  const tooLarge = checkSize(sizeBytes, deps.limits);
  if (tooLarge) return { verdict: tooLarge, detectedType: null };

  // The store checks the bytes against the hash in their key: the row's hash need only be that one.
  if (row.storage_key !== blobKeyFor(row.sha256)) throw new MailroomError('ATTACHMENT_CORRUPT', CHECKSUM_MISMATCH);
  // A large file is judged without holding it (streamed.ts), unless it may be an archive or the scanner needs its bytes.
  if (sizeBytes > STREAMED_JUDGE_BYTES && !deps.scanner) {
    const facts = { filename: row.filename, declaredType: row.content_type, sizeBytes };
    const streamed = await fromStore(() => judgeStreamed(async () => (await deps.blobs.open(row.storage_key)).stream, facts, deps.limits));
    if (streamed === 'SIZE_MISMATCH') throw new MailroomError('ATTACHMENT_CORRUPT', CHECKSUM_MISMATCH);
    if (streamed !== null) return streamed;
  }
  const bytes = await fromStore(() => deps.blobs.get(row.storage_key));
  if (bytes.length !== sizeBytes) throw new MailroomError('ATTACHMENT_CORRUPT', CHECKSUM_MISMATCH);

  const request = { filename: row.filename, declaredType: row.content_type, sizeBytes, bytes, limits: deps.limits };
  // The bytes go to the thread for good unless the scanner still needs them here.
  const { verdict, detectedType } = deps.judge ? await deps.judge.judge(request, { keep: deps.scanner != null }) : await judge(request);
  if (verdict.status === 'ERROR' || !deps.scanner) return { verdict, detectedType };

  const scan = await deps.scanner.scan(bytes);
  if (scan.infected) return { verdict: { status: 'ERROR', message: `The virus scanner found ${scan.signature}.` }, detectedType };
  return { verdict, detectedType };
}

/** A read of the store: its permanent failures (the bytes do not match their hash, or are gone) are ATTACHMENT_CORRUPT. */
async function fromStore<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (isMailroomError(err) && !err.retryable) {
      throw new MailroomError('ATTACHMENT_CORRUPT', /corrupt/i.test(err.message) ? CHECKSUM_MISMATCH : 'The stored bytes of this attachment are missing.', { cause: err });
    }
    throw err;
  }
}

const CHECKSUM_MISMATCH = 'Checksum mismatch: the stored bytes are not the bytes that were received.';

/** ATTACHMENT_CORRUPT says exactly what the row shows; any other permanent failure is quoted. */
function permanentMessage(err: unknown): string {
  if (isMailroomError(err, 'ATTACHMENT_CORRUPT')) return err.message;
  return `Processing failed: ${describeError(err)}`;
}

async function finish(db: Db, row: Row, verdict: Verdict, detectedType: string | null): Promise<void> {
  await db.attachment.updateMany({
    where: { id: row.id, tenant_id: row.tenant_id, status: 'UNAVAILABLE' },
    data: { status: verdict.status, status_message: verdict.message, detected_type: detectedType },
  });
}

function count(deps: ProcessorDeps, status: AttachmentJobStatus): void {
  deps.metrics?.countAttachmentJob(status);
}
