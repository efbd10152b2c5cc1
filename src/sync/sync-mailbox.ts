// One sync of one mailbox, for any mail source (src/sources/types.ts): take
// the mailbox's lock, open the source, catch up acknowledgements a crash left
// undone, then ingest every item past the cursor — in one transaction with
// its cursor move, together with the items read ahead that are parsed already
// (ingestBatch) — and only after the commit enqueue their attachment jobs and
// acknowledge them to the source (the post-action). Health moves through the
// state machine (mailboxes/health.ts); what a pass writes of it, and when, is
// pass-health.ts's.
// A sync never waits for news: watching is the watchers' job (watchers.ts).

import type { Db } from '../db/prisma.js';
import { describeError, isMailroomError } from '../errors.js';
import { isTransientDbError } from '../db/errors.js';
import type { Mailbox } from '../generated/prisma/client.js';
import { moveCursor } from '../ingest/cursor.js';
import { ingestBatch, ingestItem, prepareItem, type PreparedItem } from '../ingest/ingest.js';
import type { IngestContext, IngestMailbox, IngestResult } from '../ingest/types.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { attachmentJobsFor, type AttachmentJobData } from '../queues/queues.js';
import { sourceFor } from '../sources/registry.js';
import type { InboundItem, MailSource, SourceContext, SourceEvent, SourceSession } from '../sources/types.js';
import { Backlog } from './backlog.js';
import { lookahead, SharedWeight } from './lookahead.js';
import type { FailureKind } from '../mailboxes/backoff.js';
import type { HeldLock, MailboxLocks } from './lock.js';
import { transition, waitBeforeAttempt } from '../mailboxes/health.js';
import { isResetCursor } from '../mailboxes/reset-cursor.js';
import { PassHealth, type PassHealthOptions } from './pass-health.js';

export interface SyncDeps {
  db: Db;
  /** The worker process's mailbox locks (one connection for all of its syncs). */
  locks: MailboxLocks;
  ingest: IngestContext;
  source: SourceContext;
  logger: Logger;
  metrics?: Metrics;
  enqueueAttachments: (rows: AttachmentJobData[]) => Promise<void>;
  /** The source of a mailbox kind; default: the registry. */
  sources?: (kind: string) => MailSource;
  /** For tests: when a pass shows its state, and a silent server. */
  health?: PassHealthOptions;
}

export interface SyncOptions {
  /** Shutdown, or the mailbox was disabled or removed: the item in hand is finished first. */
  signal: AbortSignal;
}

export type SyncOutcome =
  | { status: 'busy' }
  | { status: 'disabled' }
  | { status: 'backoff'; retryInMs: number }
  | { status: 'ok'; ingested: number }
  /** Stopped early without a fault (shutdown, or the cursor was moved by an admin's change): sync again. */
  | { status: 'interrupted'; ingested: number }
  | { status: 'failed'; kind: FailureKind; message: string; retryInMs: number }
  /**
   * The database (or the lock's connection to it) was unreachable before the
   * sync could start or record anything: not the mailbox's fault, and no health
   * can be written. The caller retries on its own backoff.
   */
  | { status: 'unavailable'; message: string };

/**
 * Items pulled and prepared (raw stored, parsed and mapped, a human's
 * attachments stored) ahead of the one being committed; those that join its
 * transaction leave the window as they join, so the next ones are prepared
 * while it commits. Enough to keep the parse threads busy (8 measured no
 * faster than 4 in alternating bench runs); bounded by LOOKAHEAD_MAX_BYTES of
 * raw mail, the transaction's items included. A large mail held in a temporary
 * file (RawFile) counts its full size too: the bound then keeps the
 * temporary files of a sync to about one such mail.
 */
const LOOKAHEAD = 4;
/** Raw bytes held ahead at most (one big mail is still read, on its own). */
const LOOKAHEAD_MAX_BYTES = 16 * 1024 * 1024;
/**
 * Raw bytes held ahead by all the syncs of this process together (up to
 * MAILROOM_SYNC_CONCURRENCY at once, each with its own window): past 32 MiB
 * a sync holding 2 MiB or more ahead reads only the item it handles next, so
 * syncs of large mail no longer each hold their own 16 MiB, and a sync of
 * small mail keeps its read-ahead (and its batches) beside them.
 */
const AHEAD_OF_ALL_SYNCS = new SharedWeight(32 * 1024 * 1024, 2 * 1024 * 1024);
const PREPARE_AHEAD_MAX_BYTES = 4 * 1024 * 1024;
/** Items at most in one transaction (ingestBatch): what the lookahead holds. */
const MAX_BATCH = LOOKAHEAD + 1;
/** Acks in flight before the sync waits for them (bounds memory on a long backlog). */
const MAX_PENDING_ACKS = 500;
/** Done acks marked on their records in one UPDATE. */
const MARK_EVERY = 100;

/** An item read ahead that a batch takes: stored, parsed and a human's attachments stored already (PreparedItem.plain). */
const readyItem = (next: { event: SourceEvent; started: PreparedItem | undefined }) => next.event.type === 'item' && next.started?.plain === true;

export async function syncMailbox(deps: SyncDeps, mailboxId: number, opts: SyncOptions): Promise<SyncOutcome> {
  let lock: HeldLock | null;
  try {
    lock = await deps.locks.tryLock(mailboxId);
  } catch (err) {
    return unavailable(err, 'the mailbox lock could not be taken');
  }
  if (lock === null) return { status: 'busy' };
  const stop = AbortSignal.any([opts.signal, lock.lost]);
  try {
    let mailbox: Mailbox | null;
    try {
      mailbox = await deps.db.mailbox.findUnique({ where: { id: mailboxId } });
    } catch (err) {
      return unavailable(err, 'the mailbox could not be read');
    }
    if (!mailbox || !mailbox.enabled) return { status: 'disabled' };
    const wait = waitBeforeAttempt(mailbox, new Date());
    if (wait > 0) return { status: 'backoff', retryInMs: wait };
    return await new SyncRun(deps, mailbox, stop).run();
  } finally {
    await lock.release();
  }
}

/** The database away (restart, failover) is an outage to wait out; anything else is a bug and is thrown. */
function unavailable(err: unknown, what: string): SyncOutcome {
  if (!isTransientDbError(err)) throw err;
  return { status: 'unavailable', message: `${what}: ${describeError(err)}` };
}

class SyncRun {
  private readonly log: Logger;
  private readonly source: MailSource;
  /** Items left in this pass, for status and progress lines. */
  private readonly backlog: Backlog;
  private readonly state: PassHealth;
  private readonly started = performance.now();
  private ingested = 0;
  /** Acks handed to the source and not yet settled; records whose ack is done, not yet marked. */
  private readonly pendingAcks: Promise<void>[] = [];
  private readonly acked: number[] = [];
  /** The cursor as this run last read or wrote it: every move starts from it. */
  private cursor: string | null;

  constructor(
    private readonly deps: SyncDeps,
    private readonly mailbox: Mailbox,
    private readonly stop: AbortSignal,
  ) {
    this.log = deps.logger.child({ mailboxId: mailbox.id });
    this.backlog = new Backlog(deps.db, mailbox.id, this.log, Date.now, this.afresh, mailbox.backlog !== null);
    this.state = new PassHealth(deps.db, mailbox, this.log, deps.health);
    this.source = (deps.sources ?? sourceFor)(mailbox.source);
    this.cursor = mailbox.cursor;
  }

  /**
   * The pass reads the folder again after an admin's change (a backfill, another folder or server):
   * somebody may be following it (`mailbox edit --since --wait`). A new mailbox's first pass is not
   * (its row says `connecting` until that pass ends anyway).
   */
  private get afresh(): boolean {
    return isResetCursor(this.mailbox.cursor);
  }

  async run(): Promise<SyncOutcome> {
    await this.state.begin(this.afresh);
    let session: SourceSession;
    try {
      session = await this.source.open(this.mailbox, this.deps.source);
    } catch (err) {
      return this.failed(err, 'source');
    }
    let phase: 'source' | 'ingest' = 'source';
    try {
      this.state.opened(session.silence?.bind(session));
      if (session.acks) await this.catchUpAcks(session);
      // A big mail is prepared on its turn, not ahead: the window must not hold several of them parsed.
      const prepare = (e: SourceEvent) => (e.type === 'item' && e.item.raw.length <= PREPARE_AHEAD_MAX_BYTES ? prepareItem(this.deps.ingest, this.ingestMailbox, e.item) : undefined);
      const budget = { weight: (e: SourceEvent) => (e.type === 'item' ? e.item.raw.length : 0), maxWeight: LOOKAHEAD_MAX_BYTES, shared: AHEAD_OF_ALL_SYNCS };
      for await (const { event, started, more } of lookahead(session.pull(this.cursor, this.stop), LOOKAHEAD, prepare, budget)) {
        // Disabled, removed or shutting down: the items read ahead are left for the next sync (the cursor moves only with a commit).
        if (this.stop.aborted) break;
        if (event.type === 'backlog') {
          await this.backlog.start(event.items);
        } else if (event.type === 'cursor') {
          phase = 'ingest';
          await moveCursor(this.deps.db, this.mailbox.id, { from: this.cursor, to: event.cursor });
          this.cursor = event.cursor;
        } else {
          phase = 'ingest';
          const batch = [{ item: event.item, prepared: started }];
          // Items read ahead that are prepared (readyItem) join this one's transaction (ingestBatch); one not ready yet waits for the next.
          for (let next; batch.length < MAX_BATCH && started && event.item.oversize === undefined && (next = more(readyItem)); ) {
            if (next.event.type === 'item') batch.push({ item: next.event.item, prepared: next.started });
          }
          const results = await this.ingestAll(batch);
          phase = 'source';
          for (const [i, result] of results.entries()) {
            await this.afterCommit(session, batch[i]!.item, result);
            await session.release?.(batch[i]!.item);
            await this.backlog.step();
          }
        }
        if (this.pendingAcks.length >= MAX_PENDING_ACKS) await this.settleAcks(session);
        else if (this.acked.length >= MARK_EVERY) await this.markAcked();
        phase = 'source';
      }
      await this.settleAcks(session);
      if (this.stop.aborted) return await this.interrupted();
      await this.synced();
      this.deps.metrics?.observeSync('ok', this.seconds());
      return { status: 'ok', ingested: this.ingested };
    } catch (err) {
      return await this.failed(err, phase);
    } finally {
      this.state.stop();
      await this.backlog.end();
      await session.close();
    }
  }

  private get ingestMailbox(): IngestMailbox {
    const m = this.mailbox;
    return { id: m.id, tenant_id: m.tenant_id, address: m.address, aliases: m.aliases };
  }

  /** The items in one transaction when there are several and they can be (ingestBatch), else one by one. */
  private async ingestAll(batch: readonly { item: InboundItem; prepared: PreparedItem | undefined }[]): Promise<IngestResult[]> {
    const first = batch[0];
    // A first item a batch would not take (it did not parse, it is automatic mail with attachments) goes alone, the rest together.
    if (batch.length > 1 && first && !first.prepared?.plain) {
      await first.prepared?.settled;
      if (!first.prepared?.plain) return [await this.ingest(first.item, first.prepared), ...(this.stop.aborted ? [] : await this.ingestAll(batch.slice(1)))];
    }
    if (batch.length > 1 && first?.prepared) {
      const started = performance.now();
      let from = this.cursor;
      const items = batch.map(({ item, prepared }) => ({ item, prepared: prepared!, cursor: { from, to: (from = item.cursor) } }));
      const results = await ingestBatch(this.deps.ingest, this.ingestMailbox, items);
      if (results) {
        this.cursor = from;
        const each = (performance.now() - started) / 1000 / results.length;
        for (const result of results) this.counted(result, each);
        return results;
      }
    }
    const results: IngestResult[] = [];
    for (const { item, prepared } of batch) {
      // Stopping: the items not yet stored are left for the next sync, as the ones read ahead are.
      if (results.length > 0 && this.stop.aborted) break;
      results.push(await this.ingest(item, prepared));
    }
    return results;
  }

  private async ingest(item: InboundItem, prepared: PreparedItem | undefined): Promise<IngestResult> {
    const started = performance.now();
    const result = await ingestItem(this.deps.ingest, this.ingestMailbox, item, { cursor: { from: this.cursor, to: item.cursor } }, prepared);
    this.cursor = item.cursor;
    this.counted(result, (performance.now() - started) / 1000);
    return result;
  }

  /** Metrics of an ingested item; in a batch, each item counts its share of the batch's time. */
  private counted(result: IngestResult, seconds: number): void {
    this.deps.metrics?.ingestDuration.observe(seconds);
    if (!result.alreadyRecorded) {
      this.ingested += 1;
      this.deps.metrics?.countIngest(result.outcome, result.classification ?? 'none');
    }
  }

  /** Attachment jobs and the ack, once the item's transaction has committed. */
  private async afterCommit(session: SourceSession, item: InboundItem, result: IngestResult): Promise<void> {
    if (result.attachments.length > 0) {
      try {
        await this.deps.enqueueAttachments(attachmentJobsFor(result.attachments));
      } catch (err) {
        // The rows stay UNAVAILABLE; the attachment sweeper re-queues them.
        this.log.error({ err: describeError(err), recordId: result.recordId }, 'could not enqueue attachment jobs');
      }
    }
    if (session.acks) this.deferAck(session, result.recordId, item.sourceKey, result.outcome);
  }

  /**
   * Acknowledged (the source may batch it: the next items do not wait), then
   * marked on the record in bulk: a crash in between is caught up by the next sync.
   */
  private deferAck(session: SourceSession, recordId: number, sourceKey: string, outcome: IngestResult['outcome']): void {
    const settled = session.ack({ sourceKey, outcome }).then((done) => {
      if (done !== 'kept') this.acked.push(recordId);
    });
    settled.catch(() => undefined); // awaited in settleAcks; a failure surfaces there
    this.pendingAcks.push(settled);
  }

  /** Runs the deferred acks, marks them, and fails the sync if the source could not run one. */
  private async settleAcks(session: SourceSession): Promise<void> {
    if (this.pendingAcks.length === 0) return this.markAcked();
    await session.flush();
    const results = await Promise.allSettled(this.pendingAcks.splice(0));
    await this.markAcked();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async markAcked(): Promise<void> {
    const ids = this.acked.splice(0);
    if (ids.length > 0) await this.deps.db.ingestRecord.updateMany({ where: { id: { in: ids } }, data: { post_action_at: new Date() } });
  }

  /** Acks of items committed by a sync that died before acknowledging them. */
  private async catchUpAcks(session: SourceSession): Promise<void> {
    const pending = await this.deps.db.ingestRecord.findMany({
      where: { mailbox_id: this.mailbox.id, post_action_at: null, outcome: { not: 'failed' } },
      select: { id: true, source_key: true, outcome: true },
      orderBy: { id: 'asc' },
      take: 500,
    });
    for (const r of pending) {
      if (this.stop.aborted) break;
      this.deferAck(session, r.id, r.source_key, r.outcome);
    }
    await this.settleAcks(session);
  }

  private async synced(): Promise<void> {
    await this.state.finish(transition(this.mailbox, { type: 'synced', at: new Date() }));
  }

  private seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  private async interrupted(): Promise<SyncOutcome> {
    const now = await this.deps.db.mailbox.findUnique({ where: { id: this.mailbox.id }, select: { enabled: true } });
    if (!now?.enabled) return { status: 'disabled' };
    await this.synced();
    return { status: 'interrupted', ingested: this.ingested };
  }

  private async failed(err: unknown, phase: 'source' | 'ingest'): Promise<SyncOutcome> {
    // What was acknowledged before the failure is marked; acks still queued stay due (caught up next time).
    await this.markAcked().catch(() => undefined);
    // Disabled or removed while running: that is why it stopped, not a fault of the mailbox.
    const now = await this.deps.db.mailbox.findUnique({ where: { id: this.mailbox.id }, select: { enabled: true } }).catch(() => undefined);
    if (now === null || now?.enabled === false) {
      this.state.stop();
      return { status: 'disabled' };
    }
    // Someone else moved the cursor (an admin re-pointed the mailbox): the item rolled back whole; start over.
    if (isMailroomError(err, 'CURSOR_MOVED')) {
      this.log.info({ err: err.message }, 'cursor moved meanwhile; the sync stops and runs again');
      this.state.stop();
      return { status: 'interrupted', ingested: this.ingested };
    }
    // A storage failure while reading (a large mail's temporary file) is no more the server's fault than one while storing.
    const { kind, message } =
      phase === 'source' && !isMailroomError(err, 'STORAGE_FAILED')
        ? this.source.classify(this.mailbox, err)
        : { kind: 'connect' as const, message: `Storing mail of ${this.mailbox.address} failed: ${describeError(err)}` };
    // A rejected access token may be revoked before its expiry: the next attempt refreshes it.
    if (kind === 'auth' && this.mailbox.auth === 'oauth2') this.deps.source.tokens.invalidate(this.mailbox.id);
    const patch = transition(this.mailbox, { type: 'failed', kind, message, at: new Date() });
    await this.state.finish(patch).catch(() => undefined);
    const retryInMs = Math.max(0, (patch.next_attempt_at?.getTime() ?? Date.now()) - Date.now());
    this.deps.metrics?.observeSync(kind === 'auth' ? 'auth_error' : 'connect_error', this.seconds());
    this.log.warn({ kind, failures: patch.consecutive_failures, retryInMs, err: message }, 'mailbox sync failed');
    return { status: 'failed', kind, message, retryInMs };
  }
}
