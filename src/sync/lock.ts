// At most one sync of a mailbox at a time, across every worker process
// (PRODUCT.md "Scale-out"): a PostgreSQL session advisory lock per mailbox,
// held on its own connection for as long as the sync runs. If the process
// dies, PostgreSQL ends the session and the lock is free at once: no lease to
// expire, no stale lock to clean up.

import pg from 'pg';

/** First key of the two-int advisory lock space: "MRSY". The second is the mailbox id. */
const LOCK_NAMESPACE = 0x4d525359;

export interface HeldLock {
  /** Fires when the lock's connection is lost: the lock is gone, the sync must stop. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export async function tryLockMailbox(databaseUrl: string, mailboxId: number): Promise<HeldLock | null> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: `mailroom-sync-lock-${mailboxId}` });
  const lost = new AbortController();
  client.on('error', () => lost.abort(new Error('the mailbox lock connection was lost')));
  await client.connect();
  let locked = false;
  try {
    const res = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_NAMESPACE, mailboxId]);
    locked = res.rows[0]?.locked === true;
  } finally {
    if (!locked) await client.end().catch(() => undefined);
  }
  if (!locked) return null;
  client.on('end', () => lost.abort(new Error('the mailbox lock connection ended')));
  let released = false;
  return {
    lost: lost.signal,
    async release() {
      if (released) return;
      released = true;
      // Ending the session releases the lock even if the unlock query fails.
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, mailboxId]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
