// Whether a mailbox's poll tick can be left out because a watch covers it.
// A watched mailbox is synced whenever the server announces news and each
// time its watch (re)connects; polling it every minute as well costs the mail
// server a login a minute per mailbox, what providers rate-limit and lock
// accounts for. So a tick is left out while a worker holds the mailbox's watch
// and a sync succeeded within one IDLE refresh interval plus a grace minute: a
// quiet watched mailbox is then polled about once per that span (6 minutes by
// default) instead of every `poll_seconds`. That poll is the safety net for a
// server that stops announcing while the connection lives; a dead connection
// is noticed by the IDLE restart itself, and the watch reconnects and catches up.

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
