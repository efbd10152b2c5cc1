// The backlog of one sync pass: how many items the source said it has left,
// how many are done, and how fast. Written to the mailbox row now and then
// (for `mailroom status` and the API's `backlog`) and logged every 10 s while
// a long pass runs (a backfill of years of mail), so both a person at a
// terminal and a log reader see count, rate and time left. Progress writes
// are best effort: they never fail a sync.
//
// A short pass writes nothing: most passes carry a handful of new mails and
// are over in seconds (longer when many syncs share the worker), before
// anybody could read their backlog, and with many mailboxes those writes were
// a good part of a pass's database work. The backlog is shown at once when it
// is large enough (SHOW_AT_ONCE_ITEMS) to be a backfill worth following from
// its first item, as is the backlog of a pass that reads the folder again
// after an admin's change (a backfill: somebody may be following it); else
// once the pass has run SHOW_AFTER_MS and, at its own rate so far, still has
// SHOW_MIN_LEFT_SECONDS of work left, or once it has spent that long on its
// first item (a big mail, a slow server). It is cleared at the end only if it
// was shown.
import type { Db } from '../db/prisma.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { formatDuration, progressOf } from '../util/progress.js';

const WRITE_EVERY_MS = 2_000;
const LOG_EVERY_MS = 10_000;
/** A pass is looked at for showing after this (then at every item)... */
const SHOW_AFTER_MS = 2_000;
/** ...and shown if it has this much work left at its rate so far, or has spent this long on its first item. */
const SHOW_MIN_LEFT_SECONDS = 10;
/** A pass this large is shown from its start: it runs for a while at any rate. */
const SHOW_AT_ONCE_ITEMS = 100;

type BacklogColumns = { backlog: number | null; backlog_done: number; backlog_started_at?: Date | null };

export class Backlog {
  private total = 0;
  private done = 0;
  private startedAt = 0;
  private lastWrite = 0;
  private lastLog = 0;
  private active = false;
  /** Written to the row in this pass (so the end must clear it). */
  private shown = false;
  private showTimer: NodeJS.Timeout | null = null;
  /** Writes run one after the other: the timer's must not land after the end's. */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly mailboxId: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    /** Show it from the start, whatever its size. */
    private readonly showAtOnce = false,
    /** The row still shows the backlog of an earlier pass (its worker died in it): this pass's end clears it. */
    private readonly leftOnRow = false,
  ) {}

  /** The source has `items` left in this pass. */
  async start(items: number): Promise<void> {
    this.total = this.done + items;
    if (!this.active) {
      this.startedAt = this.now();
      this.lastLog = this.startedAt;
    }
    this.active = true;
    if (this.shown || this.showAtOnce || items >= SHOW_AT_ONCE_ITEMS) return this.show();
    if (this.showTimer === null) {
      this.showTimer = setTimeout(() => void this.showIfLong(), SHOW_MIN_LEFT_SECONDS * 1000);
      this.showTimer.unref();
    }
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
    if (!this.shown) {
      await this.showIfLong();
    } else if (now - this.lastWrite >= WRITE_EVERY_MS || p.remaining === 0) {
      this.lastWrite = now;
      await this.write({ backlog: p.remaining, backlog_done: p.done });
    }
  }

  /** The pass ended (done, failed or stopped): nothing is being worked any more. */
  async end(): Promise<void> {
    if (!this.active && !this.leftOnRow) return;
    this.active = false;
    this.stopTimer();
    if (this.shown || this.leftOnRow) await this.write({ backlog: null, backlog_done: 0, backlog_started_at: null });
    else await this.writes;
  }

  /** Shows the backlog if the pass has run a while and has a while to go. */
  private async showIfLong(): Promise<void> {
    const now = this.now();
    if (!this.active || now - this.startedAt < SHOW_AFTER_MS) return;
    const p = progressOf({ done: this.done, total: this.total, startedAt: this.startedAt, now });
    const long = this.done === 0 ? now - this.startedAt >= SHOW_MIN_LEFT_SECONDS * 1000 : (p.etaSeconds ?? 0) >= SHOW_MIN_LEFT_SECONDS;
    if (long) await this.show();
  }

  /** The whole backlog, from here on kept up to date. */
  private async show(): Promise<void> {
    this.stopTimer();
    if (!this.active) return;
    this.shown = true;
    this.lastWrite = this.now();
    await this.write({ backlog: this.total - this.done, backlog_done: this.done, backlog_started_at: new Date(this.startedAt) });
  }

  private stopTimer(): void {
    if (this.showTimer !== null) clearTimeout(this.showTimer);
    this.showTimer = null;
  }

  private write(data: BacklogColumns): Promise<void> {
    const write = this.writes.then(async () => {
      try {
        await this.db.mailbox.updateMany({ where: { id: this.mailboxId }, data });
      } catch (err) {
        this.log.debug({ err: describeError(err) }, 'could not write the sync backlog');
      }
    });
    this.writes = write;
    return write;
  }
}
