// Whether a mailbox's poll tick can be left out because a watch covers it.
// A watched mailbox is synced on every announcement of news and on every
// (re)establishment of its watch (IMAP: each IDLE refresh, every
// MAILROOM_IDLE_SECONDS), so polling it every minute as well only costs the
// mail server a login a minute per mailbox — what providers rate-limit and
// lock accounts for. The poll stays the safety net: it runs again as soon as
// the watch's catch-ups stop succeeding (a watch that hangs while keeping its
// lease, a server that stops announcing), one refresh interval plus grace
// after the last success.

/** How long past a refresh interval a watch's catch-up may be late before the polls resume. */
export const WATCH_GRACE_MS = 60_000;

export interface PollCover {
  /** A worker holds the mailbox's watch lease. */
  readonly watched: boolean;
  /** The mailbox's last successful sync. */
  readonly lastSuccessAt: Date | null;
  readonly now: number;
  /** How often a watch re-establishes itself (and asks for a catch-up sync). */
  readonly refreshMs: number;
}

export function pollIsRedundant({ watched, lastSuccessAt, now, refreshMs }: PollCover): boolean {
  if (!watched || lastSuccessAt === null || refreshMs <= 0) return false;
  const age = now - lastSuccessAt.getTime();
  return age >= 0 && age < refreshMs + WATCH_GRACE_MS;
}
