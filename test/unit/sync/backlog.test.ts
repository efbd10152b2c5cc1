// The sync's backlog bookkeeping: written to the row now and then (not per item),
// logged every 10 s with rate and time left, cleared when the pass ends, and never
// failing the sync when the write does.
import { describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/prisma.js';
import type { Logger } from '../../../src/logging/logger.js';
import { Backlog } from '../../../src/sync/backlog.js';

function setup(options: { failWrites?: boolean } = {}) {
  let now = 1_000_000;
  const writes: Record<string, unknown>[] = [];
  const logs: { obj: Record<string, unknown>; msg: string }[] = [];
  const db = {
    mailbox: {
      updateMany: async ({ data }: { data: Record<string, unknown> }) => {
        if (options.failWrites) throw new Error('connection lost');
        writes.push(data);
        return { count: 1 };
      },
    },
  } as unknown as Db;
  const log = { info: (obj: Record<string, unknown>, msg: string) => logs.push({ obj, msg }), debug: () => undefined } as unknown as Logger;
  const backlog = new Backlog(db, 7, log, () => now);
  return { backlog, writes, logs, advance: (ms: number) => (now += ms) };
}

describe('Backlog', () => {
  it('writes the start, then every 2 s and at the end of the items, and clears it when the pass ends', async () => {
    const { backlog, writes, advance } = setup();
    await backlog.start(100);
    expect(writes).toEqual([{ backlog: 100, backlog_done: 0, backlog_started_at: new Date(1_000_000) }]);
    for (let i = 0; i < 100; i++) {
      advance(100); // 10 items a second
      await backlog.step();
    }
    // 10 s of work: a write every 2 s (5), the last one at zero left.
    expect(writes.slice(1)).toEqual([20, 40, 60, 80, 100].map((done) => ({ backlog: 100 - done, backlog_done: done })));
    await backlog.end();
    expect(writes.at(-1)).toEqual({ backlog: null, backlog_done: 0, backlog_started_at: null });
  });

  it('logs progress every 10 s with rate and time left', async () => {
    const { backlog, logs, advance } = setup();
    await backlog.start(1000);
    for (let i = 0; i < 250; i++) {
      advance(100);
      await backlog.step();
    }
    expect(logs).toHaveLength(2);
    expect(logs[0]).toEqual({ obj: { done: 100, remaining: 900, total: 1000, rate_per_second: 10, eta_seconds: 90 }, msg: 'sync progress: 100/1000, 1m 30s left' });
    expect(logs[1]?.obj).toMatchObject({ done: 200, remaining: 800 });
  });

  it('does nothing without a backlog, and a failed write never fails the sync', async () => {
    const quiet = setup();
    await quiet.backlog.step();
    await quiet.backlog.end();
    expect(quiet.writes).toEqual([]);
    const failing = setup({ failWrites: true });
    await failing.backlog.start(3);
    await failing.backlog.step();
    await failing.backlog.end();
  });
});
