import { describe, expect, it } from 'vitest';
import { BACKOFF_POLICIES, delayCeilingMs, nextDelayMs, type FailureKind } from '../../../src/mailboxes/backoff.js';

const KINDS: FailureKind[] = ['connect', 'folder', 'auth'];
const low = () => 0;
const high = () => 0.999999;

describe('nextDelayMs', () => {
  it('does not wait when nothing has failed', () => {
    for (const kind of KINDS) {
      expect(nextDelayMs(0, kind, high)).toBe(0);
      expect(nextDelayMs(-3, kind, high)).toBe(0);
      expect(nextDelayMs(Number.NaN, kind, high)).toBe(0);
    }
  });

  it('starts at the base: 2 s for connect errors, 5 min for auth errors', () => {
    expect(delayCeilingMs(1, 'connect')).toBe(2_000);
    expect(delayCeilingMs(1, 'auth')).toBe(300_000);
    expect(nextDelayMs(1, 'connect', high)).toBe(2_000);
    expect(nextDelayMs(1, 'connect', low)).toBe(1_000);
    expect(nextDelayMs(1, 'auth', low)).toBe(150_000);
  });

  it('doubles the ceiling per failure up to the cap: 5 min for connect, 1 h for auth', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => delayCeilingMs(n, 'connect'))).toEqual([
      2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => delayCeilingMs(n, 'auth'))).toEqual([300_000, 600_000, 1_200_000, 2_400_000, 3_600_000]);
    expect(delayCeilingMs(10_000, 'connect')).toBe(300_000);
    expect(delayCeilingMs(Number.POSITIVE_INFINITY, 'auth')).toBe(3_600_000);
  });

  it('keeps every delay within [ceiling/2, ceiling] and never above the cap', () => {
    for (const kind of KINDS) {
      const { capMs } = BACKOFF_POLICIES[kind];
      let previousCeiling = 0;
      for (let n = 1; n <= 60; n++) {
        const ceiling = delayCeilingMs(n, kind);
        expect(ceiling).toBeGreaterThanOrEqual(previousCeiling);
        expect(ceiling).toBeLessThanOrEqual(capMs);
        previousCeiling = ceiling;
        for (const r of [0, 0.1, 0.5, 0.9, 0.999999]) {
          const delay = nextDelayMs(n, kind, () => r);
          expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
          expect(delay).toBeLessThanOrEqual(ceiling);
        }
      }
    }
  });

  it('never hammers an auth failure faster than a connect failure', () => {
    for (let n = 1; n <= 20; n++) {
      expect(nextDelayMs(n, 'auth', low)).toBeGreaterThanOrEqual(nextDelayMs(n, 'connect', high));
    }
  });

  it('spreads delays with the injected randomness and clamps bad values', () => {
    expect(nextDelayMs(3, 'connect', () => 0.5)).toBe(6_000);
    expect(nextDelayMs(3, 'connect', () => 0.25)).toBe(5_000);
    expect(nextDelayMs(3, 'connect', () => -1)).toBe(4_000);
    expect(nextDelayMs(3, 'connect', () => 7)).toBe(8_000);
    expect(nextDelayMs(3, 'connect', () => Number.NaN)).toBe(6_000);
    const seen = new Set(Array.from({ length: 50 }, () => nextDelayMs(8, 'connect')));
    expect(seen.size).toBeGreaterThan(1);
  });
});
