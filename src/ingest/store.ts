// The one transaction of an ingest (PRODUCT.md "Pipeline"): the conversation
// (through the conversation write path), the ingest record, and the mailbox
// cursor the source handed over. Either all of it is stored or none of it, so
// the cursor never moves past a mail whose result is not stored.

import type { MappedMail } from '../conversations/from-mail.js';
import type { Db } from '../db/prisma.js';
import type { InboundAttachment } from '../mail/types.js';
import { moveCursor } from './cursor.js';
import type { IngestDecision } from './decide.js';
import { pgText, pgTextOrNull, pgJson } from './pg-text.js';
import type { CursorMove, IngestedAttachment, IngestMailbox, IngestOutcome, IngestResult } from './types.js';

export interface TenantContext {
  id: number;
  slug: string;
  reopenOnReply: boolean;
  systemUserId: number;
  statusIds: Map<string, { id: number; isClosed: boolean }>;
  ownAddresses: string[];
}

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
  tenant?: TenantContext;
  attachments?: StoredAttachment[];
  /** Only the header was stored (over the size limit). */
  headerOnly?: boolean;
}

const MAX_SUBJECT_CHARS = 2000;
const MAX_ID_CHARS = 998;

export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}

/** Ids for the attachment rows, taken before the transaction so `cid:` URLs can name them. */
export async function allocateAttachmentIds(db: Db, count: number): Promise<number[]> {
  const rows = await db.$queryRaw<{ id: number }[]>`SELECT nextval(pg_get_serial_sequence('attachments', 'id'))::int AS id FROM generate_series(1, ${count}::int)`;
  return rows.map((r) => r.id);
}

export async function writeIngest(db: Db, input: WriteInput): Promise<Omit<IngestResult, 'alreadyRecorded'>> {
  const { mailbox, decision, mapped } = input;
  return db.$transaction(
    async (txClient) => {
      const tx = txClient as unknown as Db;
      let conversationId: number | null = null;
      let ticketId: number | null = null;
      let attachments: IngestedAttachment[] = [];
      if (decision.kind === 'duplicate') {
        conversationId = decision.of.conversationId;
        ticketId = decision.of.ticketId;
      } else if (decision.kind === 'conversation') {
        if (!mapped || !input.tenant) throw new TypeError('a conversation needs the mapped mail and its tenant');
        const made = await writeConversation(tx, input, { mapped, thread: decision.thread, tenant: input.tenant, attachments: input.attachments ?? [] });
        conversationId = made.conversationId;
        ticketId = made.ticketId;
        attachments = made.attachments;
      } else if (decision.kind === 'skipped' && decision.thread?.kind === 'existing') {
        ticketId = decision.thread.ticketId;
      }

      const thread = decision.kind === 'conversation' || decision.kind === 'skipped' ? decision.thread : undefined;
      const record = {
        message_id: pgTextOrNull(mapped?.thread.message_id, MAX_ID_CHARS),
        from: pgTextOrNull(mapped?.requester?.email, 320),
        subject: pgTextOrNull(mapped?.thread.subject, MAX_SUBJECT_CHARS),
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
        recordId = (await tx.ingestRecord.create({ data: { ...record, tenant_id: mailbox.tenant_id, mailbox_id: mailbox.id, source_key: input.sourceKey }, select: { id: true } })).id;
      } else {
        recordId = input.recordId;
        await tx.ingestRecord.update({ where: { id: recordId }, data: record });
      }
      if (input.cursor) await moveCursor(tx, mailbox.id, input.cursor);
      const outcome: IngestOutcome = decision.kind;
      return { recordId, outcome, classification: mapped?.classification ?? null, conversationId, ticketId, attachments };
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
}

interface ConversationParts {
  mapped: MappedMail;
  thread: Extract<IngestDecision, { kind: 'conversation' }>['thread'];
  tenant: TenantContext;
  attachments: StoredAttachment[];
}

async function writeConversation(tx: Db, input: WriteInput, outcome: ConversationParts) {
  const { mailbox } = input;
  const { mapped, thread, tenant } = outcome;
  const tenantId = mailbox.tenant_id;
  const human = mapped.classification === 'human';

  let requesterId: number | null = null;
  if (mapped.requester) {
    const name = pgText(mapped.requester.name, 500);
    const contact = await tx.contact.upsert({
      where: { tenant_id_email: { tenant_id: tenantId, email: mapped.requester.email } },
      create: { tenant_id: tenantId, email: mapped.requester.email, name },
      update: {},
      select: { id: true, name: true },
    });
    if (contact.name === '' && name !== '') await tx.contact.update({ where: { id: contact.id }, data: { name } });
    requesterId = contact.id;
  }

  const statusNew = tenant.statusIds.get('new');
  const statusOpen = tenant.statusIds.get('open');
  if (!statusNew || !statusOpen) throw new Error(`Tenant ${tenantId} lacks the statuses new/open`);

  let ticketId: number;
  let statusId: number;
  if (thread.kind === 'new') {
    const counter = await tx.tenant.update({ where: { id: tenantId }, data: { ticket_counter: { increment: 1 } }, select: { ticket_counter: true } });
    const subject = pgText(mapped.thread.subject.trim(), MAX_SUBJECT_CHARS) || '(no subject)';
    const ticket = await tx.ticket.create({
      data: {
        tenant_id: tenantId,
        number: counter.ticket_counter,
        subject,
        status_id: statusNew.id,
        requester_id: requesterId,
        mailbox_id: mailbox.id,
        created: mapped.created,
        last_activity: mapped.created,
      },
      select: { id: true },
    });
    ticketId = ticket.id;
    statusId = statusNew.id;
  } else {
    ticketId = thread.ticketId;
    const ticket = await tx.ticket.findFirstOrThrow({ where: { id: ticketId, tenant_id: tenantId }, select: { status_id: true, status: { select: { is_closed: true } } } });
    statusId = ticket.status_id;
    // Auto-replies and bounces join the ticket silently: no reopen, no activity.
    if (human) {
      if (ticket.status.is_closed && tenant.reopenOnReply) {
        statusId = statusOpen.id;
        await tx.ticket.update({ where: { id: ticketId }, data: { status_id: statusId } });
      }
      await tx.ticket.updateMany({ where: { id: ticketId, last_activity: { lt: mapped.created } }, data: { last_activity: mapped.created } });
    }
  }

  const rich = mapped.sys_content_rich;
  const conversation = await tx.conversation.create({
    data: {
      tenant_id: tenantId,
      ticket_id: ticketId,
      type: 'REPLY_INBOUND',
      sys_status_id: statusId,
      requester_id: requesterId,
      created_by_id: tenant.systemUserId,
      last_updated_by_id: tenant.systemUserId,
      last_message_extracted: pgText(mapped.last_message_extracted),
      html: pgText(rich.html),
      plain_preview: pgText(rich.plain_preview),
      editorjs: pgJson(rich.editorjs) as object,
      read_minutes: rich.read_minutes,
      created: mapped.created,
      message_id: pgTextOrNull(mapped.thread.message_id?.toLowerCase(), MAX_ID_CHARS),
      dedupe_key: mapped.dedupe_key,
      in_reply_to: pgTextOrNull(mapped.thread.in_reply_to?.toLowerCase(), MAX_ID_CHARS),
      references: mapped.thread.references.map((r) => pgText(r.toLowerCase(), MAX_ID_CHARS)),
      mailbox_id: mailbox.id,
      source_key: input.sourceKey,
      email_addresses: {
        create: mapped.email_addresses.map((e, position) => ({ email: pgText(e.email), name: pgText(e.name, 500), direction: directionName(e.direction), position })),
      },
    },
    select: { id: true },
  });

  if (outcome.attachments.length > 0) {
    await tx.attachment.createMany({
      data: outcome.attachments.map(({ id, attachment, storageKey }) => ({
        id,
        tenant_id: tenantId,
        conversation_id: conversation.id,
        filename: pgText(attachment.filename),
        content_type: pgText(attachment.contentType, 255),
        size_bytes: BigInt(attachment.size),
        sha256: attachment.sha256,
        content_id: pgTextOrNull(attachment.contentId, MAX_ID_CHARS),
        inline: attachment.inline,
        storage_key: storageKey,
        status: 'UNAVAILABLE',
      })),
    });
  }
  return {
    conversationId: conversation.id,
    ticketId,
    attachments: outcome.attachments.map((a) => ({ id: a.id, tenantId, storageKey: a.storageKey })),
  };
}

const DIRECTION_NAMES = ['UNKNOWN', 'FROM', 'TO', 'CC', 'BCC', 'FORWARDED_TO', 'RESENT_FROM', 'REPLY_TO'] as const;

function directionName(direction: number): (typeof DIRECTION_NAMES)[number] {
  return DIRECTION_NAMES[direction] ?? 'UNKNOWN';
}
