// What the idle part reads to know where a worker with many watches stands,
// each from outside the worker: IMAP sessions parked in IDLE as Dovecot's own
// process titles show them (verbose_proctitle: "imap [user ip IDLE]"), the
// watch leases in Redis (counted with SCAN), the sync queue's backlog and the
// worker's open files (/proc/<pid>/fd). Also the host's inotify budget, without which Dovecot
// cannot announce new mail at once to a thousand IDLE sessions.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { DovecotInfo } from '../../test/support/dovecot.js';
import type { Cleanup } from './services.js';

/** Users whose session Dovecot shows in IDLE right now (one /proc scan). */
export function idleSessions(dovecot: DovecotInfo): Set<string> {
  // The process title is "<instance>/imap [<user> <ip> <command>]"; instance_name is mailroom-test-<port>.
  const head = `mailroom-test-${dovecot.imapPort}/imap [`;
  const users = new Set<string>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let title: string;
    try {
      title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (!title.includes(head)) continue;
    const m = /\[(\S+) \S+ IDLE\]/.exec(title);
    if (m?.[1]) users.add(m[1]);
  }
  return users;
}

/** Watch leases `<prefix>:watch:<mailbox id>` in Redis (watchers.ts), counted with SCAN. */
export async function countLeases(redis: Redis, prefix: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:watch:*`;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}

/** Sync jobs waiting, prioritized or running (delayed ones, the poll schedules' next runs, not counted). */
export async function syncBacklog(redis: Redis, prefix: string): Promise<number> {
  const base = `${prefix}:mailbox-sync`;
  const [wait, active, prioritized] = await Promise.all([redis.llen(`${base}:wait`), redis.llen(`${base}:active`), redis.zcard(`${base}:prioritized`)]);
  return wait + active + prioritized;
}

export function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

const INOTIFY = '/proc/sys/fs/inotify/max_user_instances';

export interface InotifyBudget {
  /** fs.inotify.max_user_instances as found. */
  found: number | null;
  /** ... and during the run (raised when it was too low and the bench may write it). */
  used: number | null;
}

/**
 * Dovecot's IDLE learns of new mail through one inotify instance per session,
 * all under Dovecot's one Unix user; past fs.inotify.max_user_instances (often
 * 128) it logs "Inotify instance limit ... exceeded, disabling" and falls back
 * to looking every mailbox_idle_check_interval (30 s), which would measure
 * Dovecot, not Mailroom. As root the bench raises the limit for the run and
 * puts the old value back at the end; otherwise it says so.
 */
export function ensureInotifyInstances(needed: number, cleanup: Cleanup): InotifyBudget {
  let found: number;
  try {
    found = Number(readFileSync(INOTIFY, 'utf8').trim());
  } catch {
    return { found: null, used: null };
  }
  if (found >= needed) return { found, used: found };
  try {
    writeFileSync(INOTIFY, String(needed));
    cleanup.add(`put ${INOTIFY} back to ${found}`, () => writeFileSync(INOTIFY, String(found)));
    return { found, used: needed };
  } catch {
    console.warn(`[e2e] ${INOTIFY} is ${found} (< ${needed}) and cannot be raised here: Dovecot will look for new mail only every 30 s in most IDLE sessions`);
    return { found, used: found };
  }
}

/** Median VmRSS over `ms` (sampled every 100 ms): one GC between samples does not move it. */
export async function settledRssKb(read: () => number | null, ms = 3_000): Promise<number> {
  const v: number[] = [];
  for (let t = 0; t < ms; t += 100) {
    const kb = read();
    if (kb) v.push(kb);
    await new Promise((r) => setTimeout(r, 100));
  }
  v.sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)] ?? 0;
}
