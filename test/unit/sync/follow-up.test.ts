import { describe, expect, it } from 'vitest';
import { followUpOf, outageDelayMs } from '../../../src/sync/follow-up.js';

describe('followUpOf', () => {
  it('retries a sync that could not reach the database, 2 s doubling to a minute', () => {
    const unavailable = { status: 'unavailable' as const, message: 'connect ECONNREFUSED' };
    const top = () => 1; // the jitter's upper end: the ceiling itself
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => followUpOf(unavailable, false, n, top))).toEqual(
      [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000].map((delayMs) => ({ kind: 'retry', delayMs })),
    );
    // Requested or a poll tick alike: waiting for the next tick is what the drill caught (57 s after a 2 s restart).
    expect(followUpOf(unavailable, true, 1, top)).toEqual({ kind: 'retry', delayMs: 2_000 });
    expect(outageDelayMs(0, top)).toBe(2_000);
  });

  it('spreads the outage retries of many mailboxes over [ceiling/2, ceiling]', () => {
    expect(outageDelayMs(3, () => 0)).toBe(4_000);
    expect(outageDelayMs(3, () => 0.5)).toBe(6_000);
    const draws = Array.from({ length: 200 }, () => outageDelayMs(6));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(30_000);
    expect(Math.max(...draws)).toBeLessThanOrEqual(60_000);
    expect(new Set(draws).size).toBeGreaterThan(1);
  });

  it('retries a failed sync when its backoff ends, at least a second later', () => {
    expect(followUpOf({ status: 'failed', kind: 'connect', message: 'x', retryInMs: 4_000 }, false, 0)).toEqual({ kind: 'retry', delayMs: 4_000 });
    expect(followUpOf({ status: 'backoff', retryInMs: 10 }, false, 0)).toEqual({ kind: 'retry', delayMs: 1_000 });
  });

  it('asks again for a requested sync that found the mailbox busy, not for a poll tick', () => {
    expect(followUpOf({ status: 'busy' }, true, 0)).toEqual({ kind: 'retry', delayMs: 1_000 });
    expect(followUpOf({ status: 'busy' }, false, 0)).toEqual({ kind: 'none' });
  });

  it('runs an interrupted sync again at once and leaves finished ones alone', () => {
    expect(followUpOf({ status: 'interrupted', ingested: 3 }, false, 0)).toEqual({ kind: 'now' });
    expect(followUpOf({ status: 'ok', ingested: 3 }, true, 0)).toEqual({ kind: 'none' });
    expect(followUpOf({ status: 'disabled' }, true, 0)).toEqual({ kind: 'none' });
  });
});
