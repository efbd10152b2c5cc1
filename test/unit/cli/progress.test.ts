// The progress maths (count, rate, time left) and when the reporter writes.
import { describe, expect, it } from 'vitest';
import { formatDuration, formatProgress, progressOf, ProgressReporter } from '../../../src/util/progress.js';

describe('progressOf', () => {
  it('gives rate and time left from what is done so far', () => {
    expect(progressOf({ done: 300, total: 1500, startedAt: 0, now: 60_000 })).toEqual({ done: 300, total: 1500, remaining: 1200, percent: 20, ratePerSecond: 5, etaSeconds: 240 });
  });

  it('knows no rate before a second has passed or anything is done', () => {
    expect(progressOf({ done: 10, total: 100, startedAt: 0, now: 500 })).toMatchObject({ ratePerSecond: null, etaSeconds: null, remaining: 90 });
    expect(progressOf({ done: 0, total: 100, startedAt: 0, now: 60_000 })).toMatchObject({ ratePerSecond: null, etaSeconds: null, percent: 0 });
  });

  it('is done at 100% with nothing left, and clamps counts past the total', () => {
    expect(progressOf({ done: 7, total: 5, startedAt: 0, now: 2_000 })).toMatchObject({ done: 5, remaining: 0, percent: 100, etaSeconds: 0 });
    expect(progressOf({ done: 0, total: 0, startedAt: 0, now: 0 })).toMatchObject({ percent: 100, remaining: 0, etaSeconds: 0 });
  });

  it('rounds the time left up, so "0s left" means done', () => {
    expect(progressOf({ done: 3, total: 4, startedAt: 0, now: 2_000 }).etaSeconds).toBe(1);
  });
});

describe('formatting', () => {
  it.each([
    [0, '0s'],
    [42, '42s'],
    [185, '3m 05s'],
    [7620, '2h 07m'],
    [273_600, '3d 04h'],
  ])('formatDuration(%d) = %s', (s, text) => expect(formatDuration(s)).toBe(text));

  it('prints count, percent, rate and time left', () => {
    expect(formatProgress(progressOf({ done: 1200, total: 5000, startedAt: 0, now: 34_000 }))).toBe('1,200/5,000 (24%), 35 msg/s, 1m 48s left');
    expect(formatProgress(progressOf({ done: 0, total: 5, startedAt: 0, now: 0 }))).toBe('0/5 (0%), – msg/s, time left unknown');
  });
});

describe('ProgressReporter', () => {
  const run = (tty: boolean) => {
    let now = 0;
    const out: string[] = [];
    const r = new ProgressReporter({ total: 100, label: 'work:', tty, write: (t) => out.push(t), now: () => now, everyMs: 10_000, redrawMs: 100 });
    return { r, out, at: (ms: number) => (now = ms) };
  };

  it('writes a plain line every 10 s in a log, and the final state at the end', () => {
    const { r, out, at } = run(false);
    for (let i = 1; i <= 50; i++) {
      at(i * 400); // 50 items over 20 s
      r.tick();
    }
    expect(out).toEqual(['work: 25/100 (25%), 2.5 msg/s, 30s left\n', 'work: 50/100 (50%), 2.5 msg/s, 20s left\n']);
    r.note('message 9: failed');
    r.finish();
    expect(out.slice(2)).toEqual(['message 9: failed\n', 'work: 50/100 (50%), 2.5 msg/s, 20s left\n']);
  });

  it('redraws one line on a terminal, keeps notes above it, and ends it with a newline', () => {
    const { r, out, at } = run(true);
    at(1_000);
    r.tick();
    at(1_050);
    r.tick(); // within the redraw interval: not drawn
    expect(out).toEqual(['\r\x1b[Kwork: 1/100 (1%), 1.0 msg/s, 1m 39s left']);
    r.note('message 9: failed');
    expect(out.slice(1)).toEqual(['\r\x1b[K', 'message 9: failed\n', '\r\x1b[Kwork: 2/100 (2%), 1.9 msg/s, 52s left']);
    // A note carries what a server or a record said: its control codes are escaped, the redraw's are not.
    r.note('message 10: \u001b[2Jstorage said no');
    expect(out.slice(-2, -1)).toEqual(['message 10: \\u001b[2Jstorage said no\n']);
    r.finish();
    expect(out.slice(-2)).toEqual(['\r\x1b[Kwork: 2/100 (2%), 1.9 msg/s, 52s left', '\n']);
    expect(out.join('')).not.toMatch(/\n.*\n.*\n.*\n/); // no line per item
  });
});
