// `mailroom reprocess` and the API's reprocess route: run a stored raw
// message through the pipeline again (after a fix, or a raised limit), by its
// ingest record. The record is updated in place; its source key and the
// mailbox cursor are not touched. A record that already made a conversation
// is left alone: re-running it could only make a duplicate.

import type { Db } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import { ingestItem } from './ingest.js';
import type { IngestContext, IngestResult } from './types.js';

export interface ReprocessResult extends IngestResult {
  previousOutcome: string;
  /** False when the record was left as it was (already a conversation). */
  rerun: boolean;
}

export async function reprocessRecord(ctx: IngestContext, recordId: number, scope: { tenantId?: number; mailboxId?: number } = {}): Promise<ReprocessResult> {
  const record = await ctx.db.ingestRecord.findFirst({
    where: { id: recordId, ...(scope.tenantId === undefined ? {} : { tenant_id: scope.tenantId }), ...(scope.mailboxId === undefined ? {} : { mailbox_id: scope.mailboxId }) },
    include: { mailbox: { select: { id: true, tenant_id: true, address: true, aliases: true } } },
  });
  if (!record) throw new MailroomError('NOT_FOUND', `No ingest record with id ${recordId}.`);
  const unchanged = {
    recordId: record.id,
    outcome: record.outcome,
    classification: record.classification,
    conversationId: record.conversation_id,
    ticketId: record.ticket_id,
    attachments: [],
    alreadyRecorded: true,
    previousOutcome: record.outcome,
    rerun: false,
  };
  if (record.outcome === 'conversation') return unchanged;
  if (record.header_only) {
    throw new MailroomError('MAIL_LIMIT_EXCEEDED', `Message ${recordId} was over the size limit and was never downloaded; raise MAILROOM_MAX_MESSAGE_BYTES and let the mailbox re-read it.`);
  }
  const raw = await ctx.blobs.get(record.raw_storage_key);
  const result = await ingestItem(ctx, record.mailbox, { sourceKey: record.source_key, raw, receivedAt: record.received_at }, { cursor: null, recordId: record.id, recordOutcome: record.outcome });
  return { ...result, previousOutcome: record.outcome, rerun: true };
}

/** Ids of a mailbox's records with this outcome, oldest first. */
export async function recordsToReprocess(db: Db, mailboxId: number, outcome: 'failed' | 'skipped'): Promise<number[]> {
  const rows = await db.ingestRecord.findMany({ where: { mailbox_id: mailboxId, outcome }, select: { id: true }, orderBy: { id: 'asc' } });
  return rows.map((r) => r.id);
}
