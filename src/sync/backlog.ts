// The backlog of one sync pass: how many items the source said it has left,
// how many are done, and how fast. Written to the mailbox row now and then
// (for `mailroom status` and the API's `backlog`) and logged every 10 s while
// a long pass runs (a backfill of years of mail), so both a person at a
// terminal and a log reader see count, rate and time left. Progress writes
// are best effort: they never fail a sync.
import type { Db } from '../db/prisma.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { formatDuration, progressOf } from '../util/progress.js';

const WRITE_EVERY_MS = 2_000;
const LOG_EVERY_MS = 10_000;

export class Backlog {
  private total = 0;
  private done = 0;
  private startedAt = 0;
  private lastWrite = 0;
  private lastLog = 0;
  private active = false;

  constructor(
    private readonly db: Db,
    private readonly mailboxId: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The source has `items` left in this pass. */
  async start(items: number): Promise<void> {
    this.total = this.done + items;
    if (!this.active) {
      this.startedAt = this.now();
      this.lastLog = this.startedAt;
    }
    this.active = true;
    this.lastWrite = this.now();
    await this.write({ backlog: items, backlog_done: this.done, backlog_started_at: new Date(this.startedAt) });
  }

  /** One item is done (stored, or recognised as stored). */
  async step(): Promise<void> {
    if (!this.active) return;
    this.done = Math.min(this.done + 1, this.total);
    const now = this.now();
    const p = progressOf({ done: this.done, total: this.total, startedAt: this.startedAt, now });
    if (now - this.lastLog >= LOG_EVERY_MS) {
      this.lastLog = now;
      this.log.info(
        { done: p.done, remaining: p.remaining, total: p.total, rate_per_second: p.ratePerSecond === null ? null : Number(p.ratePerSecond.toFixed(1)), eta_seconds: p.etaSeconds },
        `sync progress: ${p.done}/${p.total}, ${p.etaSeconds === null ? 'time left unknown' : `${formatDuration(p.etaSeconds)} left`}`,
      );
    }
    if (now - this.lastWrite >= WRITE_EVERY_MS || p.remaining === 0) {
      this.lastWrite = now;
      await this.write({ backlog: p.remaining, backlog_done: p.done });
    }
  }

  /** The pass ended (done, failed or stopped): nothing is being worked any more. */
  async end(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    await this.write({ backlog: null, backlog_done: 0, backlog_started_at: null });
  }

  private async write(data: { backlog: number | null; backlog_done: number; backlog_started_at?: Date | null }): Promise<void> {
    try {
      await this.db.mailbox.updateMany({ where: { id: this.mailboxId }, data });
    } catch (err) {
      this.log.debug({ err: describeError(err) }, 'could not write the sync backlog');
    }
  }
}
