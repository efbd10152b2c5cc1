// Many mailboxes: M mailboxes (one tenant each) with K mails apiece, a cold
// worker on default settings (IDLE on, MAILROOM_SYNC_CONCURRENCY 20), timed
// until all M×K are ingested; then the same M×K mails in one mailbox, so the
// cost of spreading mail over mailboxes (connections, logins, syncs, watches)
// shows as the difference.
import { appendCorpus } from './append.js';
import { ingestBacklog, type BacklogResult } from './backlog.js';
import { addBenchMailboxes, addMailboxesOneTenantEach } from './mailboxes.js';
import type { BenchServices, Cleanup } from './services.js';

export interface ManyResult {
  mailboxes: number;
  per_mailbox: number;
  many: BacklogResult;
  one_mailbox: BacklogResult;
  /** Wall time of M mailboxes ÷ wall time of one mailbox with the same mails. */
  slowdown: number;
}

/** Corpus indices of this scenario (the same mails in both runs, only To differs). */
const FIRST_INDEX = 2_000_000;

export async function measureMany(s: BenchServices, cleanup: Cleanup, opts: { users: string[]; singleUser: string; seed: number; perMailbox: number }): Promise<ManyResult> {
  const k = opts.perMailbox;
  const ids = await addMailboxesOneTenantEach(s, opts.users);
  let bytes = 0;
  for (const [j, user] of opts.users.entries()) bytes += (await appendCorpus(s.dovecot, user, opts.seed, FIRST_INDEX + j * k, k)).bytes;
  const many = await ingestBacklog(s, cleanup, { scenario: 'many', mailboxIds: ids, mails: ids.length * k, bytes });

  const [single] = await addBenchMailboxes(s, [opts.singleUser], { backfill: true });
  const appended = await appendCorpus(s.dovecot, opts.singleUser, opts.seed, FIRST_INDEX, ids.length * k);
  const oneMailbox = await ingestBacklog(s, cleanup, { scenario: 'many-single', mailboxIds: [single!], mails: appended.mails, bytes: appended.bytes });
  return { mailboxes: ids.length, per_mailbox: k, many, one_mailbox: oneMailbox, slowdown: Math.round((many.wall_ms / oneMailbox.wall_ms) * 100) / 100 };
}
