// planFetch: UID order, backfill start, header-only for oversize, batches
// bounded by bytes and count; uidSet: compact UID sets for one command.
import { describe, expect, it } from 'vitest';
import { planFetch, uidSet, type ListedMessage } from '../../../src/sources/imap/fetch-plan.js';

const from = new Date('2026-01-01T00:00:00Z');
const at = new Date('2026-02-01T00:00:00Z');
const msg = (uid: number, size = 1000, receivedAt: Date | null = at): ListedMessage => ({ uid: BigInt(uid), size, receivedAt });
const limits = { maxRawBytes: 10_000, batchBytes: 3_000, batchCount: 3 };
const shape = (steps: ReturnType<typeof planFetch>) => steps.map((s) => (s.kind === 'batch' ? `batch(${s.messages.map((m) => m.uid).join(',')})` : `${s.kind}(${s.message.uid})`));

describe('planFetch', () => {
  it('batches small mails by count and bytes, in UID order', () => {
    expect(shape(planFetch([msg(5), msg(1), msg(2), msg(3), msg(4)], from, limits))).toEqual(['batch(1,2,3)', 'batch(4,5)']);
    expect(shape(planFetch([msg(1, 2000), msg(2, 2000), msg(3, 500)], from, limits))).toEqual(['batch(1)', 'batch(2,3)']);
  });

  it('sends a mail larger than a batch alone, and an oversize one as its header', () => {
    expect(shape(planFetch([msg(1), msg(2, 5000), msg(3), msg(4, 20_000), msg(5)], from, limits))).toEqual(['batch(1)', 'batch(2)', 'batch(3)', 'header(4)', 'batch(5)']);
  });

  it('passes over mail received before the backfill start, keeping the order', () => {
    const old = new Date('2025-12-31T23:59:59Z');
    expect(shape(planFetch([msg(1), msg(2, 1000, old), msg(3), msg(4, 1000, null)], from, limits))).toEqual(['batch(1)', 'pass(2)', 'batch(3,4)']);
  });

  it('plans nothing for nothing', () => {
    expect(planFetch([], from, limits)).toEqual([]);
  });
});

describe('uidSet', () => {
  it('writes ranges for consecutive UIDs', () => {
    expect(uidSet([1n, 2n, 3n, 7n, 9n, 10n])).toBe('1:3,7,9:10');
    expect(uidSet([42n])).toBe('42');
    expect(uidSet([10n, 2n, 1n])).toBe('1:2,10');
  });
});
