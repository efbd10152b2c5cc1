// The ingest log as the API shows it (PRODUCT.md "ingest record"): one row per
// fetched message with its outcome. Pure shaping of a stored row, plus the JSON
// schema of that row for the route's response and the OpenAPI document. Raw
// storage keys stay internal. The source key is shown as it is and, for IMAP,
// as its UIDVALIDITY and UID (32-bit, so exact as numbers). The reads and the
// re-run of one record (listIngestLog, reprocessLogRecord) are the one path the
// API's mailbox routes and the admin console share.
import { pageWindow, type PageRequest } from '../db/page.js';
import type { PrismaClient } from '../db/prisma.js';
import { MailroomError, type ErrorCode } from '../errors.js';
import type { IngestRecord, Prisma } from '../generated/prisma/client.js';
import { reprocessRecord } from '../ingest/reprocess.js';
import type { IngestContext } from '../ingest/types.js';
import { getMailboxRow } from '../mailboxes/service.js';
import { attachmentJobsFor, enqueueAttachmentJobs, type Queues } from '../queues/queues.js';
import { sourceFor } from '../sources/registry.js';
import type { MailSource } from '../sources/types.js';
import { Classification, IngestOutcome, ThreadReason } from '../generated/prisma/enums.js';

export interface IngestRecordRow {
  id: number;
  mailbox_id: number;
  /** The item's key in its mailbox's source (IMAP: `uidvalidity:uid`). */
  source_key: string;
  uid_validity: number | null;
  uid: number | null;
  message_id: string | null;
  from: string | null;
  subject: string | null;
  received_at: string | null;
  size_bytes: number;
  raw_sha256: string;
  outcome: IngestOutcome;
  classification: Classification | null;
  thread_reason: ThreadReason | null;
  conversation_id: number | null;
  ticket_id: number | null;
  /** The ingest record of the same mail that was stored first. */
  duplicate_of: number | null;
  warnings: string[];
  error: { code: ErrorCode; message: string } | null;
  created: string;
}

export function toIngestRecordRow(r: IngestRecord, source: Pick<MailSource, 'describeKey'>): IngestRecordRow {
  const key = source.describeKey(r.source_key);
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    id: r.id,
    mailbox_id: r.mailbox_id,
    source_key: r.source_key,
    uid_validity: num(key.uid_validity),
    uid: num(key.uid),
    message_id: r.message_id,
    from: r.from,
    subject: r.subject,
    received_at: r.received_at ? r.received_at.toISOString() : null,
    size_bytes: r.size_bytes,
    raw_sha256: r.raw_sha256,
    outcome: r.outcome,
    classification: r.classification,
    thread_reason: r.thread_reason,
    conversation_id: r.conversation_id,
    ticket_id: r.ticket_id,
    duplicate_of: r.duplicate_of_id,
    warnings: [...r.warnings],
    // A failure always has a code (ingest writes only registry codes); a message alone (never written today) still says something.
    error: r.error_code !== null || r.error_message !== null ? { code: (r.error_code ?? 'INTERNAL') as ErrorCode, message: r.error_message ?? '' } : null,
    created: r.created.toISOString(),
  };
}

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });

export const INGEST_OUTCOMES = Object.values(IngestOutcome);

export const ingestRecordSchema = {
  type: 'object',
  description: 'One fetched message of a mailbox and what became of it.',
  properties: {
    id: { type: 'integer' },
    mailbox_id: { type: 'integer' },
    source_key: { type: 'string', description: "the item's key in its mailbox's source (IMAP: `uidvalidity:uid`)" },
    uid_validity: nullable('integer', { description: 'IMAP UIDVALIDITY of the folder when the message was fetched (null for other sources)' }),
    uid: nullable('integer', { description: 'IMAP UID (null for other sources)' }),
    message_id: nullable('string', { description: 'Message-ID header, without angle brackets' }),
    from: nullable('string'),
    subject: nullable('string'),
    received_at: nullable('string', { format: 'date-time', description: 'IMAP INTERNALDATE' }),
    size_bytes: { type: 'integer' },
    raw_sha256: { type: 'string' },
    outcome: { type: 'string', enum: INGEST_OUTCOMES },
    classification: nullable('string', { enum: [...Object.values(Classification), null] }),
    thread_reason: nullable('string', { enum: [...Object.values(ThreadReason), null] }),
    conversation_id: nullable('integer'),
    ticket_id: nullable('integer'),
    duplicate_of: nullable('integer', { description: 'the ingest record of the same mail stored first' }),
    warnings: { type: 'array', items: { type: 'string' } },
    error: {
      type: ['object', 'null'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
    created: { type: 'string', format: 'date-time' },
  },
} as const;

/** One page of a mailbox's ingest log, newest first; NOT_FOUND when the mailbox is not the tenant's. */
export async function listIngestLog(
  db: PrismaClient,
  scope: { tenantId: number; mailboxId: number },
  query: { outcome?: IngestOutcome; page: PageRequest },
): Promise<{ rows: IngestRecordRow[]; total: number }> {
  const { tenantId, mailboxId } = scope;
  const source = sourceFor((await getMailboxRow(db, mailboxId, { tenantId })).source);
  const where: Prisma.IngestRecordWhereInput = { tenant_id: tenantId, mailbox_id: mailboxId, ...(query.outcome ? { outcome: query.outcome } : {}) };
  const [rows, total] = await Promise.all([
    db.ingestRecord.findMany({ where, orderBy: [{ created: 'desc' }, { id: 'desc' }], ...pageWindow(query.page) }),
    db.ingestRecord.count({ where }),
  ]);
  return { rows: rows.map((r) => toIngestRecordRow(r, source)), total };
}

/** How many `failed` records each of these mailboxes of the tenant has (one grouped query; 0 where none). */
export async function failedCounts(db: PrismaClient, tenantId: number, mailboxIds: readonly number[]): Promise<Map<number, number>> {
  const counts = new Map(mailboxIds.map((id) => [id, 0]));
  if (mailboxIds.length === 0) return counts;
  const groups = await db.ingestRecord.groupBy({ by: ['mailbox_id'], where: { tenant_id: tenantId, mailbox_id: { in: [...mailboxIds] }, outcome: 'failed' }, _count: { _all: true } });
  for (const g of groups) if (g.mailbox_id !== null) counts.set(g.mailbox_id, g._count._all);
  return counts;
}

export interface ReprocessedRow extends IngestRecordRow {
  previous_outcome: IngestOutcome;
  /** false: the record already was a conversation and was left alone. */
  rerun: boolean;
}

/**
 * Re-runs one stored message of the tenant's mailbox (reprocessRecord) and
 * enqueues the attachment jobs of a new conversation at once when queues are
 * at hand (else the sweeper picks them up); answers the record after the run.
 */
export async function reprocessLogRecord(
  deps: { db: PrismaClient; ingest: IngestContext; queues?: Queues },
  scope: { tenantId: number; mailboxId: number },
  recordId: number,
): Promise<ReprocessedRow> {
  const { db } = deps;
  const { tenantId, mailboxId } = scope;
  const mailbox = await getMailboxRow(db, mailboxId, { tenantId });
  const result = await reprocessRecord(deps.ingest, recordId, { tenantId, mailboxId });
  if (deps.queues && result.attachments.length > 0) await enqueueAttachmentJobs(deps.queues.attachments, attachmentJobsFor(result.attachments));
  const record = await db.ingestRecord.findFirst({ where: { id: result.recordId, tenant_id: tenantId } });
  if (!record) throw new MailroomError('NOT_FOUND', `No ingest record with id ${result.recordId}.`);
  return { ...toIngestRecordRow(record, sourceFor(mailbox.source)), previous_outcome: result.previousOutcome as IngestOutcome, rerun: result.rerun };
}
