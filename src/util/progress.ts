// Progress of long work (a backfill, a batch reprocess): how many done, how
// fast, how long still. The maths is pure (progressOf, formatProgress); the
// ProgressReporter around it only decides when to write: on a terminal one
// line redrawn in place, elsewhere (logs, pipes) a plain line now and then, so
// a log of a 100,000-mail run stays short. The clock and the writer are passed
// in, for tests.
import { escapeControlsInLayout } from './controls.js';

export interface Progress {
  done: number;
  total: number;
  remaining: number;
  /** 0–100, whole. */
  percent: number;
  /** Items per second since the start; null until there is something to measure. */
  ratePerSecond: number | null;
  /** Seconds left at that rate; null while the rate is unknown. */
  etaSeconds: number | null;
}

/** `startedAt` and `now` in milliseconds. */
export function progressOf(p: { done: number; total: number; startedAt: number; now: number }): Progress {
  const total = Math.max(0, p.total);
  const done = Math.min(Math.max(0, p.done), total);
  const remaining = total - done;
  const seconds = (p.now - p.startedAt) / 1000;
  // Under a second, or nothing done yet: a rate would be noise (or infinite).
  const ratePerSecond = done > 0 && seconds >= 1 ? done / seconds : null;
  const etaSeconds = remaining === 0 ? 0 : ratePerSecond === null ? null : Math.ceil(remaining / ratePerSecond);
  return { done, total, remaining, percent: total === 0 ? 100 : Math.floor((done / total) * 100), ratePerSecond, etaSeconds };
}

/** `42s`, `3m 05s`, `2h 07m`, `3d 04h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d ${pad(Math.floor((s % 86_400) / 3600))}h`;
}

export function formatRate(ratePerSecond: number | null, unit = 'msg'): string {
  if (ratePerSecond === null) return `– ${unit}/s`;
  return `${ratePerSecond >= 10 ? Math.round(ratePerSecond) : ratePerSecond.toFixed(1)} ${unit}/s`;
}

/** `1,200/5,000 (24%), 35 msg/s, 1m 49s left`. */
export function formatProgress(p: Progress, unit = 'msg'): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const eta = p.etaSeconds === null ? 'time left unknown' : `${formatDuration(p.etaSeconds)} left`;
  return `${n(p.done)}/${n(p.total)} (${p.percent}%), ${formatRate(p.ratePerSecond, unit)}, ${eta}`;
}

export interface ReporterOptions {
  total: number;
  /** Put before the numbers: `reprocessing mailbox 7:`. */
  label: string;
  /** A terminal: one line redrawn in place. Otherwise a line every `everyMs`. */
  tty: boolean;
  /** Writes text as it is (no newline added). */
  write: (text: string) => void;
  now?: () => number;
  /** When the work began (ms), if before the reporter was made (a sync already at work). */
  startedAt?: number;
  everyMs?: number;
  /** On a terminal, redraw at most this often. */
  redrawMs?: number;
}

export class ProgressReporter {
  private done = 0;
  private total: number;
  private readonly startedAt: number;
  private lastAt: number;
  private drawn = false;
  private readonly now: () => number;

  constructor(private readonly o: ReporterOptions) {
    this.now = o.now ?? Date.now;
    this.total = o.total;
    this.startedAt = o.startedAt ?? this.now();
    this.lastAt = o.tty ? Number.NEGATIVE_INFINITY : this.startedAt;
  }

  get progress(): Progress {
    return progressOf({ done: this.done, total: this.total, startedAt: this.startedAt, now: this.now() });
  }

  /** `n` more items are done. */
  tick(n = 1): void {
    this.update(this.done + n, this.total);
  }

  /** Where the work stands now, as counted elsewhere (a sync's backlog read from the database). */
  update(done: number, total: number): void {
    this.done = done;
    this.total = total;
    const now = this.now();
    const every = this.o.tty ? (this.o.redrawMs ?? 100) : (this.o.everyMs ?? 10_000);
    if (now - this.lastAt < every) return;
    this.lastAt = now;
    this.draw();
  }

  /**
   * A line of its own (a failure, say), without garbling the progress line. The
   * line may carry what a server or a stored record said, and `write` reaches
   * the terminal raw (the redraw needs its own control codes): it is escaped here.
   */
  note(line: string): void {
    if (this.o.tty && this.drawn) this.o.write('\r\x1b[K');
    this.o.write(`${escapeControlsInLayout(line)}\n`);
    if (this.o.tty && this.drawn) this.draw();
  }

  /** The final state, on a line of its own. */
  finish(): void {
    this.draw();
    if (this.o.tty) this.o.write('\n');
  }

  private draw(): void {
    const text = `${this.o.label} ${formatProgress(this.progress)}`;
    if (this.o.tty) {
      this.o.write(`\r\x1b[K${text}`);
      this.drawn = true;
    } else {
      this.o.write(`${text}\n`);
    }
  }
}
