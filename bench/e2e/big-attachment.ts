// Memory with one very large attachment: a small backlog in which one mail
// carries a `bigMb` MB attachment, the size limits raised so it is accepted.
// Shows what a single large mail costs the worker's resident memory, which the
// ordinary backlog (attachments up to 2 MB) does not.
import { appendCorpus } from './append.js';
import { ingestBacklog, type BacklogResult } from './backlog.js';
import { pdfLike } from './corpus.js';
import { addBenchMailboxes } from './mailboxes.js';
import { createRng } from './random.js';
import type { BenchServices, Cleanup } from './services.js';

export interface BigAttachmentResult extends BacklogResult {
  big_attachment_mb: number;
  /** Status and message the large attachment ended with. */
  big_attachment_status: string | null;
  big_attachment_message: string | null;
}

const MB = 1024 * 1024;
/** Corpus indices of this scenario: apart from the main backlog's, so no mail repeats another's Message-ID. */
const FIRST_INDEX = 1_000_000;

export async function measureBigAttachment(s: BenchServices, cleanup: Cleanup, opts: { user: string; seed: number; backlog: number; bigMb: number }): Promise<BigAttachmentResult> {
  const [mailboxId] = await addBenchMailboxes(s, [opts.user], { backfill: true });
  const middle = FIRST_INDEX + Math.floor(opts.backlog / 2);
  const data = pdfLike(createRng(opts.seed), opts.bigMb * MB);
  const appended = await appendCorpus(s.dovecot, opts.user, opts.seed, FIRST_INDEX, opts.backlog, new Map([[middle, [{ filename: 'scan-archive.pdf', type: 'application/pdf', data }]]]));
  const result = await ingestBacklog(s, cleanup, {
    scenario: 'big',
    mailboxIds: [mailboxId!],
    mails: appended.mails,
    bytes: appended.bytes,
    // base64 makes the mail about 4/3 of the attachment: room for that and the rest.
    env: { MAILROOM_MAX_MESSAGE_BYTES: String(Math.ceil(opts.bigMb * 1.5 + 16) * MB), MAILROOM_MAX_ATTACHMENT_BYTES: String((opts.bigMb + 8) * MB) },
  });
  const { rows } = await s.pool.query<{ status: string; status_message: string | null }>(
    'SELECT a.status, a.status_message FROM attachments a JOIN conversations c ON c.id = a.conversation_id WHERE c.mailbox_id = $1 ORDER BY a.size_bytes DESC LIMIT 1',
    [mailboxId],
  );
  return { ...result, big_attachment_mb: opts.bigMb, big_attachment_status: rows[0]?.status ?? null, big_attachment_message: rows[0]?.status_message ?? null };
}
