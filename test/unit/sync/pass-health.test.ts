// What one sync pass writes of its health: its outcome always; connecting and
// syncing only once it has run long enough to be seen; nothing after the outcome.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../../src/db/prisma.js';
import type { Logger } from '../../../src/logging/logger.js';
import { transition } from '../../../src/mailboxes/health.js';
import { PassHealth } from '../../../src/sync/pass-health.js';

const mailbox = { id: 7, consecutive_failures: 2 };
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
    health.opened();
    await vi.advanceTimersByTimeAsync(300);
    const synced = transition(mailbox, { type: 'synced', at: new Date() });
    await health.finish(synced);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(writes).toEqual([synced]);
  });

  it('shows connecting, then syncing, for a pass that runs longer than a second', async () => {
    const slowConnect = setup();
    slowConnect.health.begin();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(slowConnect.writes).toEqual([{ state: 'connecting' }]);
    slowConnect.health.opened();
    await vi.advanceTimersByTimeAsync(0);
    expect(slowConnect.writes).toEqual([{ state: 'connecting' }, { state: 'syncing' }]);

    const longSync = setup();
    longSync.health.begin();
    longSync.health.opened();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(longSync.writes).toEqual([{ state: 'syncing' }]);
  });

  it('writes nothing once stopped without an outcome (disabled meanwhile)', async () => {
    const { health, writes } = setup();
    health.begin();
    health.opened();
    health.stop();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(writes).toEqual([]);
  });
});
