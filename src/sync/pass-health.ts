// The health one sync pass writes (the states are src/mailboxes/health.ts's).
// Its outcome (synced, failed) is always written. What it is doing meanwhile
// is written only once somebody could see it:
//
// - `connecting` / `syncing` once the pass has run SHOW_AFTER_MS: most passes
//   (a poll, a handful of new mails) are over well within it, and writing
//   both states for each of them was two of every small pass's UPDATEs, read by
//   nobody. A pass slower than that (a slow server, a backfill) shows them as before.
//
// Writes run one after the other, so a timer's write never lands after the outcome.
import type { Db } from '../db/prisma.js';
import { describeError } from '../errors.js';
import type { Mailbox } from '../generated/prisma/client.js';
import type { Logger } from '../logging/logger.js';
import { transition, type HealthEvent, type MailboxHealth } from '../mailboxes/health.js';

/** A pass still running after this shows what it is doing (connecting, syncing). */
const SHOW_AFTER_MS = 1_000;

export interface PassHealthOptions {
  /** For tests: SHOW_AFTER_MS. */
  showAfterMs?: number;
}

export class PassHealth {
  private phase: 'connecting' | 'opened' = 'connecting';
  private shown = false;
  private ended = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly mailbox: Pick<Mailbox, 'id' | 'consecutive_failures'>,
    private readonly log: Logger,
    private readonly options: PassHealthOptions = {},
  ) {}

  /** The pass started (connecting). */
  begin(): void {
    const show = setTimeout(() => this.show(), this.options.showAfterMs ?? SHOW_AFTER_MS);
    show.unref();
    this.timers.push(show);
  }

  /** The source is open: the pass is syncing. */
  opened(): void {
    this.phase = 'opened';
    if (this.shown) this.progress({ type: 'opened' });
  }

  /** The pass ended with this outcome (the patch of a synced or failed event): written after anything in flight. */
  async finish(patch: Partial<MailboxHealth>): Promise<void> {
    this.stop();
    await this.write(patch);
  }

  /** Nothing more is written by this pass (it ended without an outcome of its own: disabled, stopped). */
  stop(): void {
    this.ended = true;
    for (const t of this.timers.splice(0)) clearTimeout(t);
  }

  private show(): void {
    if (this.ended || this.shown) return;
    this.shown = true;
    this.progress({ type: this.phase });
  }

  /** A write while the pass runs: best effort, it never fails the sync. */
  private progress(event: HealthEvent): void {
    this.write(transition(this.mailbox, event)).catch((err: unknown) => this.log.debug({ err: describeError(err) }, 'could not write the mailbox state'));
  }

  private write(data: Partial<MailboxHealth>): Promise<void> {
    // updateMany on an enabled row: a mailbox disabled or removed meanwhile is left alone.
    const write = this.writes.then(() => this.db.mailbox.updateMany({ where: { id: this.mailbox.id, enabled: true }, data }));
    this.writes = write.catch(() => undefined);
    return write.then(() => undefined);
  }
}
