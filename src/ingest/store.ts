// The one transaction of an ingest (PRODUCT.md "Pipeline"): the conversation
// (through the conversation write path), the ingest record, and the mailbox
// cursor the source handed over. Either all of it is stored or none of it, so
// the cursor never moves past a mail whose result is not stored.

import type { MappedMail } from '../conversations/from-mail.js';
import { loadTicket, writeOnNewTicket, writeOnTicket } from '../conversations/write.js';
import type { ConversationWrite } from '../conversations/write.js';
import type { Db } from '../db/prisma.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { InboundAttachment } from '../mail/types.js';
import type { HeaderFacts } from '../mail/limits.js';
import { MailroomError } from '../errors.js';
import { moveCursor } from './cursor.js';
import type { IngestDecision } from './decide.js';
import { pgText, pgTextOrNull } from '../db/text.js';
import type { CursorMove, IngestedAttachment, IngestMailbox, IngestOutcome, IngestResult, TenantFacts } from './types.js';


export interface StoredAttachment {
  id: number;
  attachment: InboundAttachment;
  storageKey: string;
}

export interface WriteInput {
  mailbox: IngestMailbox;
  sourceKey: string;
  receivedAt: Date | null;
  raw: { key: string; sha256: string; size: number };
  /** Re-run of this ingest record (reprocess): update it, leave the cursor alone. */
  recordId: number | undefined;
  /** The cursor move that goes with this item; null: none (reprocess). */
  cursor: CursorMove | null;
  decision: IngestDecision;
  /** Absent when the mail could not be parsed. */
  mapped?: MappedMail;
  /** For a conversation: the tenant and the attachment blobs already stored. */
  tenant?: TenantFacts;
  attachments?: StoredAttachment[];
  /** A mail that could not be parsed: what its header still said (MapResponse's header). */
  header?: HeaderFacts | null;
  /** Only the header was stored (over the size limit). */
  headerOnly?: boolean;
  /** With recordId: the outcome the record had when it was read; the update applies only while it still has it. */
  recordOutcome?: IngestOutcome;
}

const MAX_SUBJECT_CHARS = 2000;
const MAX_ID_CHARS = 998;

/** Ids for the attachment rows, taken before the transaction so `cid:` URLs can name them. */
export async function allocateAttachmentIds(db: Db, count: number): Promise<number[]> {
  if (count <= 0) return [];
  const rows = await db.$queryRaw<{ id: number }[]>`SELECT nextval(pg_get_serial_sequence('attachments', 'id'))::int AS id FROM generate_series(1, ${count}::int)`;
  return rows.map((r) => r.id);
}

export type Written = Omit<IngestResult, 'alreadyRecorded'>;

export async function writeIngest(db: Db, input: WriteInput): Promise<Written> {
  return inTransaction(db, (tx) => writeIngestIn(tx, input));
}

/** An interactive transaction with ingest's time limits. */
export async function inTransaction<T>(db: Db, body: (tx: Db) => Promise<T>): Promise<T> {
  return db.$transaction((txClient) => body(txClient as unknown as Db), { maxWait: 10_000, timeout: 60_000 });
}

/** writeIngest's statements, in the caller's transaction (ingestBatch writes several items in one). */
export async function writeIngestIn(tx: Db, input: WriteInput): Promise<Written> {
  const { mailbox, decision, mapped } = input;
  // A reprocess (an existing record) moves no cursor; a new record moves it in its own statement (insertRecord).
  if (input.recordId !== undefined && input.cursor) await moveCursor(tx, mailbox.id, input.cursor);
  let conversationId: number | null = null;
  let ticketId: number | null = null;
  let attachments: IngestedAttachment[] = [];
  if (decision.kind === 'duplicate') {
    conversationId = decision.of.conversationId;
    ticketId = decision.of.ticketId;
  } else if (decision.kind === 'conversation') {
    if (!mapped || !input.tenant) throw new MailroomError('INTERNAL', 'A conversation needs the mapped mail and its tenant.');
    const made = await writeConversation(tx, input, { mapped, thread: decision.thread, tenant: input.tenant, attachments: input.attachments ?? [] });
    conversationId = made.conversationId;
    ticketId = made.ticketId;
    attachments = made.attachments;
  } else if (decision.kind === 'skipped' && decision.thread?.kind === 'existing') {
    ticketId = decision.thread.ticketId;
  }

  const thread = decision.kind === 'conversation' || decision.kind === 'skipped' ? decision.thread : undefined;
  const record = {
    message_id: pgTextOrNull(mapped ? mapped.thread.message_id : input.header?.messageId, MAX_ID_CHARS),
    from: pgTextOrNull(mapped ? mapped.requester?.email : input.header?.from, 320),
    subject: pgTextOrNull(mapped ? mapped.thread.subject : input.header?.subject, MAX_SUBJECT_CHARS),
    received_at: input.receivedAt,
    size_bytes: input.raw.size,
    raw_storage_key: input.raw.key,
    raw_sha256: input.raw.sha256,
    outcome: decision.kind,
    classification: mapped?.classification ?? null,
    thread_reason: thread?.reason ?? null,
    conversation_id: conversationId,
    ticket_id: ticketId,
    duplicate_of_id: decision.kind === 'duplicate' ? decision.of.recordId : null,
    warnings: decision.warnings,
    error_code: decision.kind === 'failed' ? decision.error.code : null,
    error_message: decision.kind === 'failed' ? pgText(decision.error.message, 2000) : null,
    header_only: input.headerOnly ?? false,
  };
  let recordId: number;
  if (input.recordId === undefined) {
    recordId = await insertRecord(tx, { ...record, tenant_id: mailbox.tenant_id, mailbox_id: mailbox.id, source_key: input.sourceKey }, input.cursor);
  } else {
    recordId = input.recordId;
    // Only while the record is as the caller read it: two reprocesses of one record cannot both write.
    const expected = input.recordOutcome === undefined ? {} : { outcome: input.recordOutcome };
    const updated = await tx.ingestRecord.updateMany({ where: { id: recordId, ...expected }, data: record });
    if (updated.count !== 1) throw new MailroomError('CONFLICT', `Ingest record ${recordId} changed meanwhile (reprocessed elsewhere); nothing was written.`);
  }
  const outcome: IngestOutcome = decision.kind;
  return { recordId, outcome, classification: mapped?.classification ?? null, conversationId, ticketId, attachments };
}

type RecordRow = Omit<Prisma.IngestRecordUncheckedCreateInput, 'id' | 'post_action_at' | 'created' | 'last_updated' | 'warnings'> & { warnings: string[] };

/**
 * The new record and the cursor move in one statement: the move is a
 * compare-and-set from the cursor this sync last wrote, and a cursor someone
 * else moved meanwhile (a sync whose lock was lost, an admin re-pointing the
 * mailbox) inserts nothing and fails the item with CURSOR_MOVED, so the whole
 * transaction rolls back.
 */
async function insertRecord(tx: Db, r: RecordRow, cursor: CursorMove | null): Promise<number> {
  const now = new Date().toISOString();
  const moves = cursor !== null && cursor.from !== cursor.to;
  const [row] = await tx.$queryRaw<{ id: number }[]>`
    WITH cur AS (
      UPDATE mailboxes SET cursor = ${cursor?.to ?? null}::text, last_updated = (${now}::timestamptz AT TIME ZONE 'UTC')
       WHERE id = ${r.mailbox_id}::int AND ${moves}::boolean AND cursor IS NOT DISTINCT FROM ${cursor?.from ?? null}::text
      RETURNING id
    )
    INSERT INTO ingest_records (tenant_id, mailbox_id, source_key, message_id, "from", subject, received_at, size_bytes, raw_storage_key, raw_sha256,
                                outcome, classification, thread_reason, conversation_id, ticket_id, duplicate_of_id, warnings, error_code, error_message,
                                header_only, created, last_updated)
    SELECT ${r.tenant_id}::int, ${r.mailbox_id}::int, ${r.source_key}::text, ${r.message_id ?? null}::text, ${r.from ?? null}::text, ${r.subject ?? null}::text,
           (${r.received_at ? new Date(r.received_at).toISOString() : null}::timestamptz AT TIME ZONE 'UTC'), ${r.size_bytes ?? 0}::int, ${r.raw_storage_key}::text, ${r.raw_sha256}::text,
           ${r.outcome}::"IngestOutcome", ${r.classification ?? null}::"Classification", ${r.thread_reason ?? null}::"ThreadReason",
           ${r.conversation_id ?? null}::int, ${r.ticket_id ?? null}::int, ${r.duplicate_of_id ?? null}::int, ${r.warnings}::text[],
           ${r.error_code ?? null}::text, ${r.error_message ?? null}::text, ${r.header_only ?? false}::boolean,
           (${now}::timestamptz AT TIME ZONE 'UTC'), (${now}::timestamptz AT TIME ZONE 'UTC')
     WHERE NOT ${moves}::boolean OR EXISTS (SELECT 1 FROM cur)
    RETURNING id`;
  if (!row) throw new MailroomError('CURSOR_MOVED', `The cursor of mailbox ${r.mailbox_id} moved meanwhile (another sync, or the mailbox was changed or removed).`);
  return row.id;
}

interface ConversationParts {
  mapped: MappedMail;
  thread: Extract<IngestDecision, { kind: 'conversation' }>['thread'];
  tenant: TenantFacts;
  attachments: StoredAttachment[];
}

async function writeConversation(tx: Db, input: WriteInput, outcome: ConversationParts) {
  const { mailbox } = input;
  const { mapped, thread, tenant } = outcome;
  const tenantId = mailbox.tenant_id;
  const statusNew = tenant.statusIds.get('new');
  const statusOpen = tenant.statusIds.get('open');
  if (!statusNew || !statusOpen) throw new MailroomError('INTERNAL', `Tenant ${tenantId} lacks the statuses new/open.`);

  const conversation: ConversationWrite = {
    type: 'REPLY_INBOUND',
    automatic: mapped.classification !== 'human',
    status: null,
    created: mapped.created,
    requester: mapped.requester,
    authorId: tenant.systemUserId,
    content: { extracted: mapped.last_message_extracted, rich: mapped.sys_content_rich },
    addresses: mapped.email_addresses,
    attachments: {
      kind: 'new',
      rows: outcome.attachments.map(({ id, attachment: a, storageKey }) => ({
        id,
        filename: a.filename,
        contentType: a.contentType,
        size: a.size,
        sha256: a.sha256,
        contentId: a.contentId,
        inline: a.inline,
        storageKey,
      })),
    },
    origin: {
      message_id: pgTextOrNull(mapped.thread.message_id?.toLowerCase(), MAX_ID_CHARS),
      dedupe_key: mapped.dedupe_key,
      in_reply_to: pgTextOrNull(mapped.thread.in_reply_to?.toLowerCase(), MAX_ID_CHARS),
      references: mapped.thread.references.map((r) => pgText(r.toLowerCase(), MAX_ID_CHARS)),
      mailbox_id: mailbox.id,
      source_key: input.sourceKey,
    },
  };

  let ticketId: number;
  let conversationId: number;
  if (thread.kind === 'new') {
    const subject = pgText(mapped.thread.subject.trim(), MAX_SUBJECT_CHARS) || '(no subject)';
    ({ ticketId, conversationId } = await writeOnNewTicket(tx, tenantId, { subject, status: statusNew, mailboxId: mailbox.id }, conversation));
  } else {
    const ticket = await loadTicket(tx, tenantId, thread.ticketId, { lock: false });
    if (!ticket) throw new MailroomError('INTERNAL', `Ticket ${thread.ticketId} of tenant ${tenantId} does not exist.`);
    ticketId = ticket.id;
    const [id] = await writeOnTicket(tx, tenantId, ticket, { reopenOnReply: tenant.reopenOnReply, open: statusOpen }, [conversation]);
    conversationId = id!;
  }
  return {
    conversationId,
    ticketId,
    attachments: outcome.attachments.map((a) => ({ id: a.id, tenantId, storageKey: a.storageKey })),
  };
}
