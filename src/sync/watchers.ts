// Watching is not working: one long-lived, cheap connection per mailbox whose
// source can watch (IMAP IDLE), that only asks for a sync when there may be
// news. The sync itself runs as a job under the worker's concurrency limit,
// so quiet mailboxes hold no sync slot, however many there are.
//
// Each watch is held by one worker process at a time: a Redis lease per
// mailbox (SET NX with a TTL, renewed on every reconcile), so replicas spread
// the watches between them and a dead worker's watches move to another within
// a lease. A worker holds at most `limit` watches (its connection budget);
// mailboxes beyond every worker's budget are still polled on their schedule.
// A change notice (an admin disabling, removing or re-pointing a mailbox) ends
// or restarts its watch at once.

import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Db } from '../db/prisma.js';
import { describeError } from '../errors.js';
import type { Mailbox } from '../generated/prisma/client.js';
import type { Logger } from '../logging/logger.js';
import { sourceFor } from '../sources/registry.js';
import type { MailSource, SourceContext } from '../sources/types.js';
import { nextDelayMs } from '../mailboxes/backoff.js';
import { shouldWatch } from '../mailboxes/health.js';
import type { SyncLane } from '../queues/queues.js';

export interface WatcherDeps {
  db: Db;
  redis: Redis;
  /** The queue prefix: leases live beside the queues (`<prefix>:watch:<mailbox id>`). */
  prefix: string;
  /** Unique per worker process: the lease holder's name. */
  workerId: string;
  source: SourceContext;
  logger: Logger;
  /** Re-establish each watch this often (IMAP: restart IDLE). */
  refreshMs: number;
  /** Most watches this process holds. */
  limit: number;
  /**
   * Sync this mailbox soon. `news`: the server announced mail (ahead of routine
   * syncs); `routine`: the watch (re)connected or failed (a catch-up, or a sync
   * that records the failure's health).
   */
  requestSync: (mailboxId: number, lane: SyncLane) => Promise<void>;
  /**
   * Whether a sync of this mailbox is queued and not started yet (a worker's
   * start-up sync): it lists the mailbox after now, so it is the catch-up a
   * (re)connected watch would ask for. Absent, or any doubt: false.
   */
  syncPending?: (mailboxId: number) => Promise<boolean>;
  sources?: (kind: string) => MailSource;
}

interface Watch {
  readonly abort: AbortController;
  readonly done: Promise<void>;
  /** The settings the watch connected with: another fingerprint restarts it. */
  readonly fingerprint: string;
}

/** The Redis key of a mailbox's watch lease (its value: the holding worker). */
export function watchLeaseKey(prefix: string, mailboxId: number): string {
  return `${prefix}:watch:${mailboxId}`;
}

/** A lease outlives three reconcile rounds (15 s apart), so one slow round does not drop it. */
export const LEASE_MS = 50_000;

const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export class Watchers {
  private readonly watches = new Map<number, Watch>();
  /** Mailboxes whose server cannot watch, by fingerprint: polled, not retried every round. */
  private readonly unsupported = new Map<number, string>();
  private readonly shutdown = new AbortController();
  /** Every watch loop still running, including ones ended but not yet closed: stop() waits for all. */
  private readonly loops = new Set<Promise<void>>();
  private warnedFull = false;

  constructor(private readonly deps: WatcherDeps) {}

  get size(): number {
    return this.watches.size;
  }

  /** The most watches this process holds. */
  get limit(): number {
    return this.deps.limit;
  }

  isWatching(mailboxId: number): boolean {
    return this.watches.has(mailboxId);
  }

  /** Renews held leases and takes up watches for enabled mailboxes nobody watches. */
  async reconcile(): Promise<void> {
    if (this.shutdown.signal.aborted) return;
    // Leases first, and without the database: a slow or unreachable PostgreSQL must not let them lapse.
    for (const id of [...this.watches.keys()]) {
      if (!(await this.renew(id))) this.endSoon(id); // another worker took it over
    }
    const mailboxes = await this.deps.db.mailbox.findMany({ where: { enabled: true }, orderBy: { id: 'asc' } });
    const wanted = new Map(mailboxes.map((m) => [m.id, m]));
    for (const id of [...this.watches.keys()]) {
      const m = wanted.get(id);
      if (!m || !shouldWatch(m)) this.endSoon(id);
    }
    for (const m of mailboxes) await this.refreshRow(m, { renewed: true });
  }

  /** After a change notice: end, restart or start the watch of one mailbox. */
  async refresh(mailboxId: number): Promise<void> {
    const m = await this.deps.db.mailbox.findUnique({ where: { id: mailboxId } });
    if (!m || !m.enabled) {
      await this.end(mailboxId);
      this.unsupported.delete(mailboxId);
      return;
    }
    await this.refreshRow(m, { renewed: false });
  }

  private async refreshRow(m: Mailbox, opts: { renewed: boolean }): Promise<void> {
    const source = (this.deps.sources ?? sourceFor)(m.source);
    const fingerprint = fingerprintOf(m);
    const current = this.watches.get(m.id);
    if (current && current.fingerprint !== fingerprint) {
      // Re-pointed: end it (fast: aborting closes the socket) and watch with the new settings.
      await this.end(m.id);
    } else if (current) {
      if (!opts.renewed && !(await this.renew(m.id))) this.endSoon(m.id);
      return;
    }
    if (!source.watch || !shouldWatch(m) || this.unsupported.get(m.id) === fingerprint) return;
    if (this.watches.size >= this.deps.limit) {
      if (!this.warnedFull) this.deps.logger.warn({ limit: this.deps.limit }, 'watch limit reached: further mailboxes are polled or watched by other workers');
      this.warnedFull = true;
      return;
    }
    if (!(await this.acquire(m.id))) return;
    this.start(m, source, fingerprint);
  }

  private start(m: Mailbox, source: MailSource, fingerprint: string): void {
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, this.shutdown.signal]);
    const done = this.loop(m.id, source, fingerprint, signal)
      .catch((err: unknown) => this.deps.logger.error({ mailboxId: m.id, err: describeError(err) }, 'watch ended unexpectedly'))
      .finally(() => {
        if (this.watches.get(m.id)?.abort === abort) this.watches.delete(m.id);
        // Awaited by end(): a watch restarted with new settings must find the lease free.
        return this.release(m.id);
      });
    this.loops.add(done);
    void done.finally(() => this.loops.delete(done));
    this.watches.set(m.id, { abort, done, fingerprint });
  }

  /** Watches until aborted, reconnecting with backoff; each failure also asks for a sync, which records health. */
  private async loop(mailboxId: number, source: MailSource, fingerprint: string, signal: AbortSignal): Promise<void> {
    const log = this.deps.logger.child({ mailboxId });
    let failures = 0;
    while (!signal.aborted) {
      const m = await this.deps.db.mailbox.findUnique({ where: { id: mailboxId } });
      if (!m || !m.enabled || !shouldWatch(m) || !source.watch) return;
      const started = Date.now();
      try {
        const onChange = (why: 'news' | 'established') => (why === 'news' ? this.ask(mailboxId, 'news', log) : this.catchUp(mailboxId, log));
        const result = await source.watch(m, this.deps.source, { signal, refreshMs: this.deps.refreshMs, onChange });
        if (result === 'unsupported') {
          log.info('the server cannot watch (no IDLE): the mailbox is polled');
          this.unsupported.set(mailboxId, fingerprint);
          return;
        }
        // A connection that lived a while was healthy: start the backoff afresh.
        failures = Date.now() - started > 60_000 ? 0 : failures + 1;
        if (!signal.aborted) log.info('watch connection closed; reconnecting');
      } catch (err) {
        failures += 1;
        const f = source.classify(m, err);
        log.warn({ kind: f.kind, failures, err: f.message }, 'watch failed');
        this.ask(mailboxId, 'routine', log);
        if (f.kind === 'auth') return; // the sync records auth_error; the next reconcile after a fix watches again
      }
      await sleep(Math.max(500, nextDelayMs(failures, 'connect')), signal);
    }
  }

  private ask(mailboxId: number, lane: SyncLane, log: Logger): void {
    this.deps.requestSync(mailboxId, lane).catch((err: unknown) => log.warn({ err: describeError(err) }, 'could not request a sync'));
  }

  /**
   * The watch is (re)connected: mail that came since the last sync listed the
   * mailbox was not announced, so a sync catches up — unless one is queued and
   * not started (at a worker's start, every mailbox has one): it will list after
   * the watch began. Each such sync was a second IMAP login per mailbox.
   */
  private catchUp(mailboxId: number, log: Logger): void {
    const pending = this.deps.syncPending?.(mailboxId).catch(() => false) ?? Promise.resolve(false);
    void pending.then((yes) => (yes ? undefined : this.ask(mailboxId, 'routine', log)));
  }

  /** Ends one watch without waiting for it (reconcile must not stall on one slow connection). */
  private endSoon(mailboxId: number): void {
    const w = this.watches.get(mailboxId);
    if (!w) return;
    this.watches.delete(mailboxId);
    w.abort.abort();
  }

  /** Ends one watch now (disabled, removed, re-pointed, or taken over). */
  async end(mailboxId: number): Promise<void> {
    const w = this.watches.get(mailboxId);
    if (!w) return;
    this.watches.delete(mailboxId);
    w.abort.abort();
    await w.done;
  }

  async stop(): Promise<void> {
    this.shutdown.abort();
    await Promise.all([...this.loops]);
    this.watches.clear();
  }

  private key(mailboxId: number): string {
    return watchLeaseKey(this.deps.prefix, mailboxId);
  }

  private async acquire(mailboxId: number): Promise<boolean> {
    return (await this.deps.redis.set(this.key(mailboxId), this.deps.workerId, 'PX', LEASE_MS, 'NX')) === 'OK';
  }

  private async renew(mailboxId: number): Promise<boolean> {
    return Number(await this.deps.redis.eval(RENEW, 1, this.key(mailboxId), this.deps.workerId, String(LEASE_MS))) === 1;
  }

  private async release(mailboxId: number): Promise<void> {
    await this.deps.redis.eval(RELEASE, 1, this.key(mailboxId), this.deps.workerId).catch(() => undefined);
  }
}

/**
 * Where a watch connects; a change to any of it restarts the watch. Secrets are
 * not part of it: a connection already logged in stays valid when a password
 * changes or a refresh token rotates, and each reconnect reads them afresh.
 */
function fingerprintOf(m: Mailbox): string {
  const parts = [m.source, m.host, m.port, m.tls, m.username, m.auth, m.oauth_token_url, m.oauth_client_id, m.oauth_scope, m.folder];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
