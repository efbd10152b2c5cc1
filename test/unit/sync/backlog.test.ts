// The sync's backlog bookkeeping: written to the row now and then (not per item),
// only for a pass that runs long enough to be read (or is a big backfill from its
// start), logged every 10 s with rate and time left, cleared when a shown pass
// ends, and never failing the sync when the write does.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../../src/db/prisma.js';
import type { Logger } from '../../../src/logging/logger.js';
import { Backlog } from '../../../src/sync/backlog.js';

function setup(options: { failWrites?: boolean; clock?: () => number; showAtOnce?: boolean; leftOnRow?: boolean } = {}) {
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
  const backlog = new Backlog(db, 7, log, options.clock ?? (() => now), options.showAtOnce, options.leftOnRow);
  return { backlog, writes, logs, advance: (ms: number) => (now += ms) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Backlog', () => {
  it('shows a big backfill from its start, then writes every 2 s and at the end of the items, and clears it when the pass ends', async () => {
    const { backlog, writes, advance } = setup();
    await backlog.start(1000);
    expect(writes).toEqual([{ backlog: 1000, backlog_done: 0, backlog_started_at: new Date(1_000_000) }]);
    for (let i = 0; i < 1000; i++) {
      advance(10); // 100 items a second
      await backlog.step();
    }
    // 10 s of work: a write every 2 s (5), the last one at zero left.
    expect(writes.slice(1)).toEqual([200, 400, 600, 800, 1000].map((done) => ({ backlog: 1000 - done, backlog_done: done })));
    await backlog.end();
    expect(writes.at(-1)).toEqual({ backlog: null, backlog_done: 0, backlog_started_at: null });
  });

  it('writes nothing for a short pass: it is over before anybody could read it', async () => {
    const { backlog, writes, advance } = setup();
    await backlog.start(5);
    for (let i = 0; i < 5; i++) {
      advance(100);
      await backlog.step();
    }
    await backlog.end();
    expect(writes).toEqual([]);
  });

  it('writes nothing for a small pass that a busy worker makes take seconds, if it is nearly done after 2 s', async () => {
    const { backlog, writes, advance } = setup();
    await backlog.start(10);
    for (let i = 0; i < 10; i++) {
      advance(500); // 20 syncs sharing the worker: 2 mails a second each
      await backlog.step();
    }
    await backlog.end();
    expect(writes).toEqual([]);
  });

  it('shows a pass that has run 2 s and has 10 s or more left at its rate, and clears it at the end', async () => {
    const { backlog, writes, advance } = setup();
    await backlog.start(40);
    for (let i = 0; i < 40; i++) {
      advance(500);
      await backlog.step();
    }
    // Shown at the 4th item (2 s, 18 s left), then every 2 s and at zero left.
    expect(writes[0]).toEqual({ backlog: 36, backlog_done: 4, backlog_started_at: new Date(1_000_000) });
    expect(writes.slice(1)).toEqual([8, 12, 16, 20, 24, 28, 32, 36, 40].map((done) => ({ backlog: 40 - done, backlog_done: done })));
    await backlog.end();
    expect(writes.at(-1)).toEqual({ backlog: null, backlog_done: 0, backlog_started_at: null });
  });

  it('shows a pass stuck on its first item after 10 s, and never after the pass ended', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const stuck = setup({ clock: Date.now });
    await stuck.backlog.start(3);
    await vi.advanceTimersByTimeAsync(9_900);
    expect(stuck.writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(stuck.writes).toEqual([{ backlog: 3, backlog_done: 0, backlog_started_at: new Date(1_000_000) }]);
    await stuck.backlog.end();
    expect(stuck.writes.at(-1)).toEqual({ backlog: null, backlog_done: 0, backlog_started_at: null });

    const quick = setup({ clock: Date.now });
    await quick.backlog.start(3);
    await quick.backlog.end();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(quick.writes).toEqual([]);
  });

  it('shows the backlog of a pass somebody may be following (a backfill) from its start, however small', async () => {
    const { backlog, writes } = setup({ showAtOnce: true });
    await backlog.start(3);
    expect(writes).toEqual([{ backlog: 3, backlog_done: 0, backlog_started_at: new Date(1_000_000) }]);
    await backlog.end();
    expect(writes.at(-1)).toEqual({ backlog: null, backlog_done: 0, backlog_started_at: null });
  });

  it("clears a backlog an earlier pass left on the row (its worker died), even at the end of a short or empty pass", async () => {
    const short = setup({ leftOnRow: true });
    await short.backlog.start(3);
    for (let i = 0; i < 3; i++) await short.backlog.step();
    await short.backlog.end();
    expect(short.writes).toEqual([{ backlog: null, backlog_done: 0, backlog_started_at: null }]);
    const empty = setup({ leftOnRow: true });
    await empty.backlog.end();
    expect(empty.writes).toEqual([{ backlog: null, backlog_done: 0, backlog_started_at: null }]);
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
    await failing.backlog.start(300);
    await failing.backlog.step();
    await failing.backlog.end();
  });
});
