// The ingest log as the API shows it (PRODUCT.md "ingest record"): one row per
// fetched message with its outcome. Pure shaping of a stored row, plus the JSON
// schema of that row for the route's response and the OpenAPI document. Raw
// storage keys stay internal. The source key is shown as it is and, for IMAP,
// as its UIDVALIDITY and UID (32-bit, so exact as numbers).
import type { ErrorCode } from '../errors.js';
import type { IngestRecord } from '../generated/prisma/client.js';
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
