// Pure reconnect-delay math for a failing mailbox (PRODUCT.md "Mailbox sync":
// failures back off, an auth error is not retried forever at full speed). The
// consumers own the timers and the failure count; this only answers "how long
// until the next try".
//
// Exponential growth with "equal" jitter: the delay lies in [ceiling/2, ceiling].
// Full jitter ([0, ceiling]) can draw ~0 ms and reconnect at once, which is what
// an IMAP server (and its account lockout after failed logins) must not see;
// decorrelated jitter needs the previous delay, which a restarted worker does not
// have. Half a ceiling of spread still scatters N mailboxes that all failed at
// the same moment (a server restart) instead of reconnecting them in one burst.

export type FailureKind = 'connect' | 'folder' | 'auth';

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

export const BACKOFF_POLICIES: Readonly<Record<FailureKind, BackoffPolicy>> = Object.freeze({
  // Network trouble usually clears by itself: retry soon, never wait over 5 minutes.
  connect: Object.freeze({ baseMs: 2_000, capMs: 5 * 60_000 }),
  // A missing or unopenable folder is often a moment's state (recreated, renamed back): retry
  // soon like the network, but give up faster on a steady retry rate.
  folder: Object.freeze({ baseMs: 2_000, capMs: 10 * 60_000 }),
  // Wrong credentials need a person; retrying fast only risks a lockout.
  auth: Object.freeze({ baseMs: 5 * 60_000, capMs: 60 * 60_000 }),
});

/** The largest delay after `consecutiveFailures` failures: base·2^(n−1), capped; 0 for none. */
export function delayCeilingMs(consecutiveFailures: number, kind: FailureKind): number {
  return policyCeilingMs(consecutiveFailures, BACKOFF_POLICIES[kind]);
}

/** The same doubling for any policy (the worker's retry of a sync the database was away for uses it too). */
export function policyCeilingMs(consecutiveFailures: number, { baseMs, capMs }: BackoffPolicy): number {
  const n = Number.isFinite(consecutiveFailures) ? Math.floor(consecutiveFailures) : consecutiveFailures > 0 ? Infinity : 0;
  if (n <= 0) return 0;
  // 2^40 · base is far past any cap; clamping the exponent avoids Infinity·0 oddities.
  return Math.min(capMs, baseMs * 2 ** Math.min(n - 1, 40));
}

/**
 * Milliseconds to wait before the next connection attempt after
 * `consecutiveFailures` failures in a row; `random` returns [0, 1) and is
 * injectable so tests can pin the jitter.
 */
export function nextDelayMs(consecutiveFailures: number, kind: FailureKind, random: () => number = Math.random): number {
  return equalJitterMs(delayCeilingMs(consecutiveFailures, kind), random);
}

/** A delay in [ceiling/2, ceiling] ("equal" jitter, see the header); 0 for a ceiling of 0. */
export function equalJitterMs(ceiling: number, random: () => number = Math.random): number {
  if (ceiling === 0) return 0;
  const r = Math.min(Math.max(random(), 0), 1);
  const jittered = ceiling / 2 + (ceiling / 2) * (Number.isNaN(r) ? 0.5 : r);
  return Math.round(Math.min(jittered, ceiling));
}
