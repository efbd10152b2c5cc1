// The health one sync pass writes (the states are src/mailboxes/health.ts's).
// Its outcome (synced, failed) is always written. What it is doing meanwhile
// is written only once somebody could see it:
//
// - `connecting` / `syncing` once the pass has run SHOW_AFTER_MS: most passes
//   (a poll, a handful of new mails) are over within it, and writing both
//   states for each of them was two of every small pass's UPDATEs, read by
//   nobody. A pass slower than that (a slow server, a backfill) shows them as
//   before, and so does, at once, a pass that reads the folder again after an
//   admin's change (a backfill): somebody may be following it (`mailbox edit
//   --since --wait` waits for the state to come back to idle).
// - `connect_error` while the source has waited on a silent server for
//   SILENT_NOTICE_MS (a black-holed connection), long before the source's own
//   silence timeout gives up and fails the sync: ops see something is wrong
//   within seconds, not a minute later. It is not a failure (the count and the
//   backoff move only when the sync fails); if the server answers again the
//   pass goes back to `syncing` with the last error as it was.
//
// Writes run one after the other, so a timer's write never lands after the outcome.
import type { Db } from '../db/prisma.js';
import { describeError } from '../errors.js';
import type { Mailbox } from '../generated/prisma/client.js';
import type { Logger } from '../logging/logger.js';
import { transition, type HealthEvent, type MailboxHealth } from '../mailboxes/health.js';
import type { SourceSilence } from '../sources/types.js';

/**
 * A pass still running after this shows what it is doing (connecting, syncing).
 * A few seconds: with many syncs sharing a worker (MAILROOM_SYNC_CONCURRENCY), a pass of a handful of mails
 * takes a few seconds of wall time on a busy machine.
 */
const SHOW_AFTER_MS = 5_000;
/**
 * A server silent this long while it owes an answer is shown as a problem.
 * A live server answers a command within a second or two, even a busy one
 * within a few; a quarter of the default silence timeout (60 s) leaves room for
 * that and still tells ops three quarters of a minute before the sync gives up.
 */
const SILENT_NOTICE_MS = 15_000;
/** How often the source's silence is looked at. */
const SILENCE_CHECK_MS = 1_000;

export interface PassHealthOptions {
  /** For tests: SHOW_AFTER_MS and SILENT_NOTICE_MS. */
  showAfterMs?: number;
  silentNoticeMs?: number;
}

export class PassHealth {
  private phase: 'connecting' | 'opened' = 'connecting';
  private shown = false;
  private silent = false;
  private ended = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private writes: Promise<unknown> = Promise.resolve();
  private readonly silentNoticeMs: number;

  constructor(
    private readonly db: Db,
    private readonly mailbox: Pick<Mailbox, 'id' | 'host' | 'last_error' | 'consecutive_failures'>,
    private readonly log: Logger,
    private readonly options: PassHealthOptions = {},
  ) {
    this.silentNoticeMs = options.silentNoticeMs ?? SILENT_NOTICE_MS;
  }

  /** The pass started (connecting); `now`: show it at once (written before this resolves). */
  async begin(now = false): Promise<void> {
    if (now) {
      this.shown = true;
      await this.write(transition(this.mailbox, { type: 'connecting' })).catch((err: unknown) => this.log.debug({ err: describeError(err) }, 'could not write the mailbox state'));
      return;
    }
    const show = setTimeout(() => this.show(), this.options.showAfterMs ?? SHOW_AFTER_MS);
    show.unref();
    this.timers.push(show);
  }

  /** The source is open: the pass is syncing. `silence` tells how long its server has owed an answer. */
  opened(silence?: () => SourceSilence): void {
    this.phase = 'opened';
    if (this.shown) this.progress({ type: 'opened' });
    if (!silence) return;
    const check = setInterval(() => this.checkSilence(silence()), Math.min(SILENCE_CHECK_MS, this.silentNoticeMs));
    check.unref();
    this.timers.push(check);
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

  private checkSilence(s: SourceSilence): void {
    if (this.ended) return;
    if (!this.silent && s.silentMs >= this.silentNoticeMs) {
      this.silent = true;
      this.shown = true;
      const message = `no answer from ${this.mailbox.host} for ${seconds(s.silentMs)} s; waiting up to ${seconds(s.giveUpMs)} s`;
      this.log.warn({ silentMs: s.silentMs, giveUpMs: s.giveUpMs }, `sync waiting: ${message}`);
      this.progress({ type: 'silent', message });
    } else if (this.silent && s.silentMs < this.silentNoticeMs) {
      this.silent = false;
      this.log.info('the server answers again; the sync goes on');
      this.progress({ type: 'answered', lastError: this.mailbox.last_error });
    }
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

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
