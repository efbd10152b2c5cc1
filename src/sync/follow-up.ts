// What a finished sync job asks for next (pure: the worker owns the queue).
// News must never wait for the next poll tick: a sync that found the mailbox
// locked asks again in a second, one cut short by a change runs again at
// once, a failed one runs again when the mailbox's backoff ends, and one that
// could not even start because PostgreSQL was away (a restart, a failover)
// retries on a backoff of its own, since no health could be recorded for it.
import { equalJitterMs, policyCeilingMs } from '../mailboxes/backoff.js';
import type { SyncOutcome } from './sync-mailbox.js';

export type FollowUp = { kind: 'none' } | { kind: 'now' } | { kind: 'retry'; delayMs: number };

/** The database away: 2 s doubling to a minute (it is the whole worker's outage, not the mailbox's). */
const OUTAGE_POLICY = { baseMs: 2_000, capMs: 60_000 };

/**
 * By the number of `unavailable` outcomes in a row (1 for the first). Jittered
 * like a mailbox's backoff: every mailbox of every worker hit the same outage at
 * the same moment, and without a spread they would all retry in one burst against
 * a database that has just come back.
 */
export function outageDelayMs(inARow: number, random: () => number = Math.random): number {
  return equalJitterMs(policyCeilingMs(Math.max(1, inARow), OUTAGE_POLICY), random);
}

/**
 * `requested`: the job was a requested sync (a watch's news, a change), not a
 * poll tick — a poll that found the mailbox busy is simply the next poll's.
 * `outagesInARow`: `unavailable` outcomes of this mailbox in a row, this one included.
 */
export function followUpOf(outcome: SyncOutcome, requested: boolean, outagesInARow: number, random: () => number = Math.random): FollowUp {
  switch (outcome.status) {
    case 'busy':
      return requested ? { kind: 'retry', delayMs: 1_000 } : { kind: 'none' };
    case 'interrupted':
      return { kind: 'now' };
    case 'failed':
    case 'backoff':
      return { kind: 'retry', delayMs: Math.max(1_000, outcome.retryInMs) };
    case 'unavailable':
      return { kind: 'retry', delayMs: outageDelayMs(outagesInARow, random) };
    case 'ok':
    case 'disabled':
      return { kind: 'none' };
  }
}
