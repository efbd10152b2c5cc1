// At most one sync of a mailbox at a time, across every worker process
// (PRODUCT.md "Scale-out"): a PostgreSQL session advisory lock per mailbox.
// One worker process holds all of its syncs' locks on ONE connection of its
// own (not one per running sync: with many short syncs that was a connection
// and a connect per sync beside the Prisma pool), and takes and gives them
// back as queries on it. If the process dies, PostgreSQL ends the session and
// every lock is free at once: no lease to expire, no stale lock to clean up.
//
// A session advisory lock is re-entrant for its session, so PostgreSQL would
// hand this process a lock it already holds: the manager itself refuses a
// second holder of a mailbox within the process. If the connection is lost,
// every lock on it is gone: each holder's `lost` fires (its sync stops, as it
// must, since another process may now take the mailbox) and the next request
// opens a new connection. A lock or unlock query that fails on a connection
// still open leaves it unknown what the session holds, so the connection is
// dropped (the server then frees all of it) rather than trusted.

import pg from 'pg';

/** First key of the two-int advisory lock space: "MRSY". The second is the mailbox id. */
const LOCK_NAMESPACE = 0x4d525359;

export interface HeldLock {
  /** Fires when the lock's connection is lost: the lock is gone, the sync must stop. */
  readonly lost: AbortSignal;
  /** Gives the lock back; a second call, or one after the loss, does nothing. */
  release(): Promise<void>;
}

export interface MailboxLocks {
  /**
   * The mailbox's lock, or null when a sync holds it already (in this process
   * or another). Rejects when the database cannot be reached.
   */
  tryLock(mailboxId: number): Promise<HeldLock | null>;
  /** Ends the connection: every lock still held is given back (and its `lost` fires). */
  close(): Promise<void>;
}

export interface MailboxLockOptions {
  databaseUrl: string;
  /** application_name of the connection (pg_stat_activity). */
  applicationName?: string;
  connectTimeoutMs?: number;
  /** A lock query unanswered this long: the connection is dropped (a black-holed network). */
  queryTimeoutMs?: number;
}

interface Session {
  readonly client: pg.Client;
  /** Locks taken on this connection and not given back: all lost with it. */
  readonly held: Map<number, AbortController>;
  alive: boolean;
  /** Runs one statement after every one asked before it (one at a time: pg no longer queues them itself). */
  query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>>;
  /** Marks the session dead, fires `lost` of every lock on it and closes the connection. */
  lose(reason: Error): void;
}

export function createMailboxLocks(options: MailboxLockOptions): MailboxLocks {
  return new AdvisoryLocks(options);
}

class AdvisoryLocks implements MailboxLocks {
  private session: Session | null = null;
  private connecting: Promise<Session> | null = null;
  /** Mailboxes a sync of this process holds or is taking (until its release()). */
  private readonly mine = new Set<number>();
  private closed = false;

  constructor(private readonly options: MailboxLockOptions) {}

  async tryLock(mailboxId: number): Promise<HeldLock | null> {
    if (this.closed) throw new Error('the mailbox lock manager is closed');
    if (this.mine.has(mailboxId)) return null;
    this.mine.add(mailboxId);
    let taken: HeldLock | null = null;
    try {
      const session = await this.current();
      let locked: boolean;
      try {
        const res = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_NAMESPACE, mailboxId]);
        locked = res.rows[0]?.locked === true;
      } catch (err) {
        // Whether the lock was taken is unknown: drop the connection, which frees it either way.
        session.lose(new Error('the mailbox lock query failed', { cause: err }));
        throw err;
      }
      if (!locked) return null;
      if (!session.alive) throw new Error('the mailbox lock connection was lost while taking the lock');
      taken = this.held(session, mailboxId);
      return taken;
    } finally {
      if (!taken) this.mine.delete(mailboxId);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session ?? (await this.connecting?.catch(() => null)) ?? null;
    if (!session) return;
    session.lose(new Error('the mailbox lock manager was closed'));
    await session.client.end().catch(() => undefined);
  }

  private held(session: Session, mailboxId: number): HeldLock {
    const lost = new AbortController();
    session.held.set(mailboxId, lost);
    let released = false;
    return {
      lost: lost.signal,
      release: async () => {
        if (released) return;
        released = true;
        const mine = session.alive && session.held.get(mailboxId) === lost;
        // Queued before the mailbox is free in this process: a take that follows runs after the unlock.
        const unlock = mine ? session.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, mailboxId]) : null;
        if (mine) session.held.delete(mailboxId);
        this.mine.delete(mailboxId);
        // A lost session freed the lock already; an unlock that fails on a live one drops the session.
        await unlock?.catch((err: unknown) => session.lose(new Error('the mailbox unlock query failed', { cause: err })));
      },
    };
  }

  /** The open connection, or a new one (concurrent callers share the attempt). */
  private current(): Promise<Session> {
    if (this.session?.alive) return Promise.resolve(this.session);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connect(): Promise<Session> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: this.options.applicationName ?? 'mailroom-sync-locks',
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 10_000,
      query_timeout: this.options.queryTimeoutMs ?? 15_000,
      // The locks live as long as this connection: notice a dead peer, not only a closed socket.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    let last: Promise<unknown> = Promise.resolve();
    const session: Session = {
      client,
      held: new Map(),
      alive: true,
      query: <R extends pg.QueryResultRow>(text: string, values: unknown[]) => {
        const run = last.then(() => client.query<R>(text, values));
        last = run.catch(() => undefined);
        return run;
      },
      lose: (reason) => {
        if (!session.alive) return;
        session.alive = false;
        if (this.session === session) this.session = null;
        for (const lost of session.held.values()) lost.abort(reason);
        session.held.clear();
        void client.end().catch(() => undefined);
      },
    };
    client.on('error', (err) => session.lose(new Error('the mailbox lock connection was lost', { cause: err })));
    client.on('end', () => session.lose(new Error('the mailbox lock connection ended')));
    try {
      await client.connect();
    } catch (err) {
      session.lose(new Error('the mailbox lock connection could not be opened', { cause: err }));
      throw err;
    }
    if (this.closed) {
      session.lose(new Error('the mailbox lock manager was closed'));
      throw new Error('the mailbox lock manager is closed');
    }
    this.session = session;
    return session;
  }
}
