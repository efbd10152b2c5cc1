import { describe, expect, it } from 'vitest';
import { WATCH_GRACE_MS, pollIsRedundant } from '../../../src/sync/redundant-poll.js';

const now = Date.parse('2026-12-06T12:00:00Z');
const refreshMs = 300_000;
const ago = (ms: number) => new Date(now - ms);

describe('pollIsRedundant', () => {
  it('leaves out the poll of a watched mailbox whose catch-ups succeed', () => {
    expect(pollIsRedundant({ watched: true, lastSuccessAt: ago(10_000), now, refreshMs })).toBe(true);
    expect(pollIsRedundant({ watched: true, lastSuccessAt: ago(refreshMs + WATCH_GRACE_MS - 1), now, refreshMs })).toBe(true);
  });

  it('polls again once the watch has missed a refresh and the grace after it', () => {
    expect(pollIsRedundant({ watched: true, lastSuccessAt: ago(refreshMs + WATCH_GRACE_MS), now, refreshMs })).toBe(false);
  });

  it('polls a mailbox nobody watches, one never synced, or with watching off', () => {
    expect(pollIsRedundant({ watched: false, lastSuccessAt: ago(1_000), now, refreshMs })).toBe(false);
    expect(pollIsRedundant({ watched: true, lastSuccessAt: null, now, refreshMs })).toBe(false);
    expect(pollIsRedundant({ watched: true, lastSuccessAt: ago(1_000), now, refreshMs: 0 })).toBe(false);
  });

  it('does not trust a last success in the future (a clock step)', () => {
    expect(pollIsRedundant({ watched: true, lastSuccessAt: new Date(now + 60_000), now, refreshMs })).toBe(false);
  });
});
