// "No attachment stays UNAVAILABLE forever" (PRODUCT.md "Attachments"). Jobs
// are enqueued after the ingest transaction commits, so a crash in between
// leaves rows without a job; a job can also be lost with Redis, or fail while
// the database was down and could not be told. The sweeper finds rows still
// UNAVAILABLE after `staleSeconds` whose job is not alive, and re-enqueues
// them, or marks them ERROR once their attempt budget is used up.
import type { Db } from '../db/prisma.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { attachmentJobId, enqueueAttachmentJobs, type AttachmentQueue } from '../queues/queues.js';

export interface SweepDeps {
  readonly db: Db;
  readonly queue: AttachmentQueue;
  readonly logger: Logger;
  readonly staleSeconds: number;
  readonly attemptBudget: number;
  /** Rows looked at per run; the rest wait for the next run. */
  readonly batchSize?: number;
  readonly now?: () => Date;
}

export interface SweepResult {
  readonly requeued: number;
  readonly failed: number;
  /** Rows whose job is still waiting, delayed or running. */
  readonly live: number;
}

const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

export async function sweepAttachments(deps: SweepDeps): Promise<SweepResult> {
  const { db, queue, logger } = deps;
  const cutoff = new Date((deps.now?.() ?? new Date()).getTime() - deps.staleSeconds * 1000);
  const rows = await db.attachment.findMany({
    where: { status: 'UNAVAILABLE', last_updated: { lte: cutoff } },
    select: { id: true, tenant_id: true, attempts: true },
    orderBy: { last_updated: 'asc' },
    take: deps.batchSize ?? 500,
  });
  let requeued = 0;
  let failed = 0;
  let live = 0;
  for (const row of rows) {
    const job = await queue.getJob(attachmentJobId(row.id));
    if (job) {
      if (LIVE_STATES.has(await job.getState())) {
        live++;
        continue;
      }
      // A finished job still in Redis would swallow the re-add (same job id): remove it first.
      try {
        await job.remove();
      } catch (err) {
        // Locked: a worker picked it up meanwhile, so it is alive after all.
        logger.debug({ attachmentId: row.id, err: describeError(err) }, 'sweeper left a job that is in use');
        live++;
        continue;
      }
    }
    if (row.attempts >= deps.attemptBudget) {
      await markError(db, row.id, `Processing failed after ${row.attempts} attempts: the last attempt did not finish.`);
      failed++;
      continue;
    }
    // A row whose storage key is not a blob key is the processor's to judge (ERROR: bytes missing).
    await enqueueAttachmentJobs(queue, [{ attachmentId: row.id, tenantId: row.tenant_id }]);
    requeued++;
  }
  if (requeued + failed > 0) logger.info({ requeued, failed, live }, 'attachment sweep re-enqueued stragglers');
  return { requeued, failed, live };
}

async function markError(db: Db, id: number, message: string): Promise<void> {
  await db.attachment.updateMany({ where: { id, status: 'UNAVAILABLE' }, data: { status: 'ERROR', status_message: message } });
}
