// The one transaction of an ingest (PRODUCT.md "Pipeline"): contact, ticket
// (new, or updated: last activity, reopen), conversation with its addresses
// and attachments (UNAVAILABLE), the ingest record, and the mailbox cursor.
// Either all of it is stored or none of it, so the cursor never moves past a
// message whose result is not stored.

import type { MappedMail } from '../conversations/from-mail.js';
import { loadTicket, writeOnNewTicket, writeOnTicket } from '../conversations/write.js';
import type { ConversationWrite } from '../conversations/write.js';
import type { Db } from '../db/prisma.js';
import type { InboundAttachment } from '../mail/types.js';
import type { ThreadDecision } from '../threading/decide.js';
import type { FetchedMessage, IngestMailbox, TenantContext } from './ingest.js';
import { pgText, pgTextOrNull } from './pg-text.js';

export type IngestOutcome = 'conversation' | 'duplicate' | 'skipped' | 'failed';

interface DuplicateOf {
  recordId: number | null;
  conversationId: number | null;
  ticketId: number | null;
}

export type StoredOutcome =
  | { kind: 'failed'; error: { code: string; message: string }; warnings: string[] }
  | { kind: 'duplicate'; of: DuplicateOf; mapped?: MappedMail; warnings: string[] }
  | { kind: 'skipped'; mapped: MappedMail; thread?: ThreadDecision; warnings: string[] }
  | {
      kind: 'conversation';
      mapped: MappedMail;
      thread: ThreadDecision;
      attachments: { id: number; attachment: InboundAttachment; storageKey: string }[];
      tenant: TenantContext;
      warnings: string[];
    };

export interface WriteInput {
  mailbox: IngestMailbox;
  msg: FetchedMessage;
  raw: { key: string; sha256: string; size: number };
  /** Re-run of this ingest record (reprocess): update it, leave the cursor alone. */
  recordId: number | undefined;
  outcome: StoredOutcome;
}

export interface Written {
  recordId: number;
  outcome: IngestOutcome;
  classification: MappedMail['classification'] | null;
  conversationId: number | null;
  ticketId: number | null;
  attachments: { id: number; tenantId: number; storageKey: string }[];
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

export async function writeIngest(db: Db, input: WriteInput): Promise<Written> {
  const { mailbox, msg, raw, outcome } = input;
  const mapped = outcome.kind === 'failed' ? undefined : outcome.mapped;
  return db.$transaction(
    async (tx) => {
      let conversationId: number | null = null;
      let ticketId: number | null = null;
      let attachments: Written['attachments'] = [];
      if (outcome.kind === 'duplicate') {
        conversationId = outcome.of.conversationId;
        ticketId = outcome.of.ticketId;
      } else if (outcome.kind === 'conversation') {
        const made = await writeConversation(tx as unknown as Db, input, outcome);
        conversationId = made.conversationId;
        ticketId = made.ticketId;
        attachments = made.attachments;
      } else if (outcome.kind === 'skipped' && outcome.thread?.kind === 'existing') {
        ticketId = outcome.thread.ticketId;
      }

      const thread = outcome.kind === 'conversation' || outcome.kind === 'skipped' ? outcome.thread : undefined;
      const record = {
        tenant_id: mailbox.tenant_id,
        mailbox_id: mailbox.id,
        uid_validity: msg.uidValidity,
        uid: msg.uid,
        message_id: pgTextOrNull(mapped?.thread.message_id, MAX_ID_CHARS),
        from: pgTextOrNull(mapped?.requester?.email, 320),
        subject: pgTextOrNull(mapped?.thread.subject, MAX_SUBJECT_CHARS),
        received_at: msg.internalDate,
        size_bytes: raw.size,
        raw_storage_key: raw.key,
        raw_sha256: raw.sha256,
        outcome: outcome.kind,
        classification: mapped?.classification ?? null,
        thread_reason: thread?.reason ?? null,
        conversation_id: conversationId,
        ticket_id: ticketId,
        duplicate_of_id: outcome.kind === 'duplicate' ? outcome.of.recordId : null,
        warnings: outcome.warnings,
        error_code: outcome.kind === 'failed' ? outcome.error.code : null,
        error_message: outcome.kind === 'failed' ? pgText(outcome.error.message, 2000) : null,
      };
      let recordId: number;
      if (input.recordId === undefined) {
        recordId = (await tx.ingestRecord.create({ data: record, select: { id: true } })).id;
        // The cursor moves in the same transaction; the sync wrote the current UIDVALIDITY before fetching.
        await tx.mailbox.updateMany({
          where: { id: mailbox.id, uid_validity: msg.uidValidity, OR: [{ last_uid: null }, { last_uid: { lt: msg.uid } }] },
          data: { last_uid: msg.uid },
        });
      } else {
        recordId = input.recordId;
        const { mailbox_id: _m, uid_validity: _v, uid: _u, tenant_id: _t, ...update } = record;
        await tx.ingestRecord.update({ where: { id: recordId }, data: update });
      }
      return { recordId, outcome: outcome.kind, classification: mapped?.classification ?? null, conversationId, ticketId, attachments };
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
}

async function writeConversation(tx: Db, input: WriteInput, outcome: Extract<StoredOutcome, { kind: 'conversation' }>) {
  const { mailbox, msg } = input;
  const { mapped, thread, tenant } = outcome;
  const tenantId = mailbox.tenant_id;
  const statusNew = tenant.statusIds.get('new');
  const statusOpen = tenant.statusIds.get('open');
  if (!statusNew || !statusOpen) throw new Error(`Tenant ${tenantId} lacks the statuses new/open`);

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
      imap_uid: msg.uid,
      imap_uid_validity: msg.uidValidity,
    },
  };

  let ticketId: number;
  let conversationId: number;
  if (thread.kind === 'new') {
    const subject = pgText(mapped.thread.subject.trim(), MAX_SUBJECT_CHARS) || '(no subject)';
    ({ ticketId, conversationId } = await writeOnNewTicket(tx, tenantId, { subject, status: statusNew, mailboxId: mailbox.id }, conversation));
  } else {
    const ticket = await loadTicket(tx, tenantId, thread.ticketId, { lock: false });
    if (!ticket) throw new Error(`Ticket ${thread.ticketId} of tenant ${tenantId} does not exist`);
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
