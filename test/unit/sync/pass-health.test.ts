// What one sync pass writes of its health: its outcome always; connecting and
// syncing only once it has run long enough to be seen; a server silent while it
// owes an answer as connect_error (not a failure), and back to syncing when it
// answers; nothing after the outcome.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../../src/db/prisma.js';
import type { Logger } from '../../../src/logging/logger.js';
import { transition } from '../../../src/mailboxes/health.js';
import { PassHealth } from '../../../src/sync/pass-health.js';

const mailbox = { id: 7, host: 'imap.example.com', last_error: 'an older failure', consecutive_failures: 2 };
const quiet = { warn: () => undefined, info: () => undefined, debug: () => undefined } as unknown as Logger;

function setup() {
  const writes: Record<string, unknown>[] = [];
  const db = {
    mailbox: {
      updateMany: async ({ data }: { data: Record<string, unknown> }) => {
        writes.push(data);
        return { count: 1 };
      },
    },
  } as unknown as Db;
  return { health: new PassHealth(db, mailbox, quiet), writes };
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-12-06T10:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PassHealth', () => {
  it('writes only the outcome of a short pass', async () => {
    const { health, writes } = setup();
    health.begin();
    await vi.advanceTimersByTimeAsync(300);
    health.opened(() => ({ silentMs: 0, giveUpMs: 60_000 }));
    await vi.advanceTimersByTimeAsync(300);
    const synced = transition(mailbox, { type: 'synced', at: new Date() });
    await health.finish(synced);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(writes).toEqual([synced]);
  });

  it('shows connecting, then syncing, for a pass that runs longer than 5 s', async () => {
    const slowConnect = setup();
    slowConnect.health.begin();
    await vi.advanceTimersByTimeAsync(4_900);
    expect(slowConnect.writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(slowConnect.writes).toEqual([{ state: 'connecting' }]);
    slowConnect.health.opened();
    await vi.advanceTimersByTimeAsync(0);
    expect(slowConnect.writes).toEqual([{ state: 'connecting' }, { state: 'syncing' }]);

    const longSync = setup();
    longSync.health.begin();
    longSync.health.opened();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(longSync.writes).toEqual([{ state: 'syncing' }]);
  });

  it('shows a pass somebody may be following (a backfill) at once, before it connects', async () => {
    const { health, writes } = setup();
    await health.begin(true);
    expect(writes).toEqual([{ state: 'connecting' }]);
    health.opened();
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toEqual([{ state: 'connecting' }, { state: 'syncing' }]);
  });

  it('shows a server silent for 15 s as connect_error without counting a failure, and syncing again when it answers', async () => {
    const { health, writes } = setup();
    let silentMs = 0;
    health.begin();
    health.opened(() => ({ silentMs, giveUpMs: 60_000 }));
    for (let s = 1; s <= 16; s++) {
      silentMs = s * 1_000;
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(writes).toEqual([{ state: 'syncing' }, { state: 'connect_error', last_error: 'no answer from imap.example.com for 15 s; waiting up to 60 s' }]);
    silentMs = 0;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(writes.at(-1)).toEqual({ state: 'syncing', last_error: 'an older failure' });
    expect(writes.every((w) => !('consecutive_failures' in w) && !('next_attempt_at' in w))).toBe(true);
  });

  it('lets the outcome of a pass that gave up on a silent server count one failure, and writes nothing after it', async () => {
    const { health, writes } = setup();
    health.begin();
    health.opened(() => ({ silentMs: 20_000, giveUpMs: 60_000 }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(writes.at(-1)).toMatchObject({ state: 'connect_error' });
    const failed = transition(mailbox, { type: 'failed', kind: 'connect', message: 'no answer for 60 s', at: new Date(), random: () => 1 });
    await health.finish(failed);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(writes.at(-1)).toBe(failed);
    expect(failed).toMatchObject({ state: 'connect_error', consecutive_failures: 3 });
  });

  it('writes nothing once stopped without an outcome (disabled meanwhile)', async () => {
    const { health, writes } = setup();
    health.begin();
    health.opened(() => ({ silentMs: 20_000, giveUpMs: 60_000 }));
    health.stop();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(writes).toEqual([]);
  });
});
