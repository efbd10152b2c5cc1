// `mailroom reprocess --message ID` | `--mailbox ID --outcome failed|skipped`:
// re-run stored raw messages through the pipeline (PRODUCT.md "Command
// line"), with progress on stderr for a batch (count, rate, time left). Attachment jobs of a new
// conversation are enqueued like the worker does.
import { describeError } from '../errors.js';
import { recordsToReprocess, reprocessRecord } from '../ingest/reprocess.js';
import type { ReprocessResult } from '../ingest/reprocess.js';
import { attachmentJobsFor } from '../queues/queues.js';
import { ProgressReporter } from '../util/progress.js';
import type { CommandServices, Out } from './io.js';
import { parseCommandArgs, usageError } from './usage.js';

function positiveId(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!value || !/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw usageError(`${flag} needs a positive whole number.`);
  return n;
}

function describe(r: ReprocessResult): string {
  if (!r.rerun) return `already a conversation (${r.conversationId}); left as it is`;
  const now = r.outcome === 'conversation' || r.outcome === 'duplicate' ? `${r.outcome === 'duplicate' ? 'duplicate of ' : ''}conversation ${r.conversationId} on ticket ${r.ticketId}` : r.outcome;
  return `${r.previousOutcome} → ${now}`;
}

export async function reprocessCommand(rest: string[], io: Out, services: () => CommandServices): Promise<number> {
  const { values } = parseCommandArgs(
    rest,
    { message: { type: 'string' }, mailbox: { type: 'string' }, outcome: { type: 'string' } },
    { min: 0, max: 0, names: '' },
  );
  if ((values.message === undefined) === (values.mailbox === undefined)) throw usageError('Give either --message ID or --mailbox ID --outcome failed.');
  if (values.message !== undefined && values.outcome !== undefined) throw usageError('--outcome goes with --mailbox, not --message.');
  const outcome = values.outcome ?? 'failed';
  if (values.mailbox !== undefined && outcome !== 'failed' && outcome !== 'skipped') throw usageError('--outcome must be failed or skipped.');
  const messageId = values.message === undefined ? null : positiveId(values.message, '--message');
  const mailboxId = values.mailbox === undefined ? null : positiveId(values.mailbox, '--mailbox');

  const s = services();
  const { db } = s;
  const run = async (id: number): Promise<ReprocessResult> => {
    const result = await reprocessRecord(s.ingest, id, mailboxId === null ? {} : { mailboxId });
    await s.enqueueAttachments(attachmentJobsFor(result.attachments));
    return result;
  };
  try {
    if (messageId !== null) {
      io.out(`Message ${messageId}: ${describe(await run(messageId))}.`);
      return 0;
    }
    if (mailboxId !== null && !(await db.mailbox.findUnique({ where: { id: mailboxId }, select: { id: true } }))) {
      io.err(`mailroom: No mailbox with id ${mailboxId}.`);
      return 1;
    }
    const ids = await recordsToReprocess(db, mailboxId!, outcome as 'failed' | 'skipped');
    let problems = 0;
    const counts = new Map<string, number>();
    // Count, rate and time left: one line redrawn on a terminal, a line every 10 s in a log.
    const progress = new ProgressReporter({
      total: ids.length,
      label: `reprocessing mailbox ${mailboxId}:`,
      tty: io.errIsTTY === true,
      write: io.errWrite ?? ((t) => io.err(t.replace(/\n$/, ''))),
    });
    for (const [i, id] of ids.entries()) {
      try {
        const r = await run(id);
        counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
        // Still the mail's own fault: worth a line of its own.
        if (r.outcome === 'failed') progress.note(`[${i + 1}/${ids.length}] message ${id}: ${describe(r)}`);
      } catch (err) {
        problems += 1;
        progress.note(`[${i + 1}/${ids.length}] message ${id}: not re-run: ${describeError(err)}`);
      }
      progress.tick();
    }
    if (ids.length > 0) progress.finish();
    const summary = [...counts].map(([k, v]) => `${v} ${k}`).join(', ');
    io.out(`Reprocessed ${ids.length - problems} of ${ids.length} ${outcome} message(s) of mailbox ${mailboxId}${summary ? `: ${summary}` : ''}.`);
    return problems > 0 ? 1 : 0;
  } finally {
    await s.close();
  }
}
