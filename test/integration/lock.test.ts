// The mailbox lock manager (src/sync/lock.ts) against the run's real
// PostgreSQL: two managers stand for two worker processes; one connection per
// manager holds every lock of its process; a lost connection fires `lost` on
// every held lock and the next request connects again.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createMailboxLocks, type MailboxLocks } from '../../src/sync/lock.js';
import { freePort, waitFor } from '../support/dovecot.js';
import { testEnv } from '../support/env.js';

const admin = new pg.Pool({ connectionString: testEnv().databaseUrl, max: 2 });
const opened: MailboxLocks[] = [];
/** Mailbox ids of their own per test: advisory locks are per database, and other test files run syncs. */
let nextId = 900_000_000 + Math.floor(Math.random() * 1_000_000);
const ids = (n: number) => Array.from({ length: n }, () => nextId++);

function manager(): { locks: MailboxLocks; name: string } {
  const name = `mailroom-lock-test-${randomBytes(4).toString('hex')}`;
  const locks = createMailboxLocks({ databaseUrl: testEnv().databaseUrl, applicationName: name });
  opened.push(locks);
  return { locks, name };
}

async function backends(name: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [name]);
  return rows.map((r) => r.pid);
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((l) => l.close()));
});
afterAll(async () => {
  await admin.end();
});

describe('mailbox locks', () => {
  it('keeps a mailbox to one holder across processes until it is released', async () => {
    const [id] = ids(1);
    const a = manager().locks;
    const b = manager().locks;
    const held = await a.tryLock(id!);
    expect(held).not.toBeNull();
    expect(await b.tryLock(id!)).toBeNull();
    await held!.release();
    const taken = await b.tryLock(id!);
    expect(taken).not.toBeNull();
    expect(await a.tryLock(id!)).toBeNull();
    await taken!.release();
  });

  it('refuses a second holder in the same process, though PostgreSQL would grant it to the session', async () => {
    const [id, other] = ids(2);
    const a = manager().locks;
    const first = await a.tryLock(id!);
    expect(first).not.toBeNull();
    expect(await a.tryLock(id!)).toBeNull();
    const second = await a.tryLock(other!);
    expect(second).not.toBeNull();
    await first!.release();
    await first!.release(); // twice is harmless
    // Released: free again, in this process and in others; the other lock stays held.
    const again = await a.tryLock(id!);
    expect(again).not.toBeNull();
    await again!.release();
    const b = manager().locks;
    const elsewhere = await b.tryLock(id!);
    expect(elsewhere).not.toBeNull();
    expect(await b.tryLock(other!)).toBeNull();
    await elsewhere!.release();
    await second!.release();
  });

  it('holds every lock of the process on one connection', async () => {
    const some = ids(20);
    const { locks, name } = manager();
    const held = await Promise.all(some.map((id) => locks.tryLock(id)));
    expect(held.every((h) => h !== null)).toBe(true);
    expect(await backends(name)).toHaveLength(1);
    await Promise.all(held.map((h) => h!.release()));
    expect(await backends(name)).toHaveLength(1);
  });

  it('fires lost on every held lock when its connection is killed, and connects again for the next one', async () => {
    const [x, y, z] = ids(3);
    const { locks, name } = manager();
    const held = [await locks.tryLock(x!), await locks.tryLock(y!)];
    expect(held.every((h) => h !== null)).toBe(true);
    const [pid] = await backends(name);
    expect(pid).toBeDefined();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await waitFor(() => held.every((h) => h!.lost.aborted), 10_000, 'lost did not fire on every held lock');
    // The server freed them with the session: another process takes them at once.
    const other = manager().locks;
    const taken = await other.tryLock(x!);
    expect(taken).not.toBeNull();
    await taken!.release();
    // The stopped syncs give their locks back (nothing to unlock), and the mailbox is free in this process again.
    for (const h of held) await h!.release();
    const next = await locks.tryLock(z!);
    expect(next).not.toBeNull();
    expect(next!.lost.aborted).toBe(false);
    const again = await locks.tryLock(x!);
    expect(again).not.toBeNull();
    const now = await backends(name);
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(pid);
    await next!.release();
    await again!.release();
  });

  it('rejects when the database cannot be reached (the sync reports unavailable), and works once it can', async () => {
    const dead = createMailboxLocks({ databaseUrl: `postgresql://postgres@127.0.0.1:${await freePort()}/nowhere`, connectTimeoutMs: 2_000 });
    opened.push(dead);
    await expect(dead.tryLock(1)).rejects.toThrow();
    // Refused, not left taken: the same mailbox is asked again later.
    await expect(dead.tryLock(1)).rejects.toThrow();
  });

  it('gives every lock back when closed', async () => {
    const [id] = ids(1);
    const a = manager().locks;
    const held = await a.tryLock(id!);
    await a.close();
    expect(held!.lost.aborted).toBe(true);
    await expect(a.tryLock(id!)).rejects.toThrow(/closed/);
    const b = manager().locks;
    const taken = await b.tryLock(id!);
    expect(taken).not.toBeNull();
    await taken!.release();
  });
});
