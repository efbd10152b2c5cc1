// How many watches this worker process may hold. MAILROOM_WATCH_LIMIT is the
// operator's budget; the process's open-files limit is the machine's: every
// watch holds a socket for as long as it runs, and the files the watches take
// the syncs cannot have. Under a hard limit of 1,024 files a worker given
// 1,000 mailboxes held 987 watches and then every sync failed with EMFILE
// (neither its IMAP nor its database connection could open), so no mailbox
// was synced at all. So files for the process itself and for every sync and
// attachment slot are kept back, and mailboxes beyond what is left are polled
// on their schedule, or watched by another worker, exactly as those beyond
// MAILROOM_WATCH_LIMIT.

import { readFileSync } from 'node:fs';

/** Files a worker holds with no watch and nothing running (about 85 measured: pools, Redis, threads), with room to spare. */
export const FILES_FOR_THE_PROCESS = 128;
/** Files one running sync or attachment job may hold at once: its IMAP socket, blob files being written or read ahead. */
export const FILES_PER_JOB = 4;

export interface WatchBudget {
  /** The most watches this process holds. */
  readonly limit: number;
  /** The open-files limit when it, not MAILROOM_WATCH_LIMIT, set `limit`; else null. */
  readonly cappedByOpenFiles: number | null;
}

export function watchBudget(o: { watchLimit: number; openFilesLimit: number | null; syncConcurrency: number; attachmentConcurrency: number }): WatchBudget {
  if (o.openFilesLimit === null) return { limit: o.watchLimit, cappedByOpenFiles: null };
  const room = Math.max(0, o.openFilesLimit - FILES_FOR_THE_PROCESS - FILES_PER_JOB * (o.syncConcurrency + o.attachmentConcurrency));
  return room < o.watchLimit ? { limit: room, cappedByOpenFiles: o.openFilesLimit } : { limit: o.watchLimit, cappedByOpenFiles: null };
}

/** The soft "Max open files" of a /proc/<pid>/limits text (Node raises it to the hard limit at start); null when unlimited or absent. */
export function parseOpenFilesLimit(limits: string): number | null {
  const m = /^Max open files\s+(\S+)/m.exec(limits);
  if (!m?.[1] || m[1] === 'unlimited') return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** This process's open-files limit (Linux); null where it cannot be read. */
export function readOpenFilesLimit(): number | null {
  try {
    return parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}
