// The one write path of a conversation (STYLE.md "One write path per
// entity"), whoever asks: ingestion for a mail, the API for a posted
// conversation. In the caller's transaction it upserts the requester contact,
// opens the ticket or applies the conversation's effect on it
// (ticket-effects.ts), and inserts the conversation with its addresses and
// attachment rows.
//
// It knows no protocol: where a conversation came from (a mail's mailbox,
// Message-ID, dedupe key, thread headers, position in its source) arrives as
// `origin`, columns stored as given.
//
// Concurrency stays with the callers: the API locks the ticket row
// (`loadTicket` with `lock`) before any status change; a unique violation of
// a contact created concurrently rolls the transaction back and the caller
// runs it once more; the last activity only ever moves forward.

import type { Db } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { pgJson, pgText, pgTextOrNull } from '../db/text.js';
import type { DTO_rich_text } from '../mail/rich/index.js';
import { uniqueAddresses } from '../wire/addresses.js';
import { addressDirections } from '../wire/enums.js';
import { ticketEffects } from './ticket-effects.js';
import type { ConversationEffect, StatusRef, TicketRules } from './ticket-effects.js';

/** The requester: an existing contact of the tenant, or one by email (created on first sight). */
export type ContactRef = { id: number } | { email: string; name: string };

/** Columns write.ts fills itself; everything else of a conversation row is the origin's. */
type WrittenColumns =
  | 'id'
  | 'tenant_id'
  | 'ticket_id'
  | 'type'
  | 'sys_status_id'
  | 'requester_id'
  | 'created_by_id'
  | 'last_updated_by_id'
  | 'last_message_extracted'
  | 'html'
  | 'plain_preview'
  | 'editorjs'
  | 'read_minutes'
  | 'created'
  | 'last_updated'
  | 'email_addresses'
  | 'attachments'
  | 'ingests';

/** Where the conversation came from, as conversation columns (mail: mailbox, Message-ID, dedupe key, ...). */
export type ConversationOrigin = Omit<Prisma.ConversationUncheckedCreateInput, WrittenColumns>;

/** An attachment row made with the conversation (its bytes are stored, its processing is still to come). */
export interface NewAttachment {
  /** Allocated before the transaction, so `cid:` URLs can name it. */
  id: number;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  contentId: string | null;
  inline: boolean;
  storageKey: string;
}

export type ConversationAttachments =
  | { kind: 'new'; rows: readonly NewAttachment[] }
  /** Existing unattached rows of the tenant; `field` names the list in the error when one was taken meanwhile. */
  | { kind: 'claim'; ids: readonly number[]; field: string };

export interface ConversationWrite extends ConversationEffect {
  requester: ContactRef | null;
  /** The user the conversation is created (and last updated) by. */
  authorId: number;
  content: { extracted: string; rich: DTO_rich_text };
  /** De-duplicated here (the database allows one per direction and email). */
  addresses: readonly { email: string; name: string; direction: number }[];
  attachments: ConversationAttachments;
  origin?: ConversationOrigin;
  /** The conversation's own Message-ID, which needs its id (the API's signed outbound ids). */
  messageIdFor?: (conversationId: number) => string;
}

export interface NewTicket {
  subject: string;
  status: StatusRef;
  mailboxId: number | null;
}

export interface TicketState {
  id: number;
  status: StatusRef;
  requesterId: number | null;
}

const MAX_NAME_CHARS = 500;
const MAX_CONTENT_ID_CHARS = 998;

/** The tenant's contact with this email: created on first sight; a known contact without a name gets this one. */
export async function upsertContact(tx: Db, tenantId: number, contact: { email: string; name: string }): Promise<number> {
  const name = pgText(contact.name, MAX_NAME_CHARS);
  const row = await tx.contact.upsert({
    where: { tenant_id_email: { tenant_id: tenantId, email: contact.email } },
    create: { tenant_id: tenantId, email: contact.email, name },
    update: {},
    select: { id: true, name: true },
  });
  if (row.name === '' && name !== '') await tx.contact.update({ where: { id: row.id }, data: { name } });
  return row.id;
}

/** The ticket's status and requester, or null when it is not the tenant's; `lock` holds its row (FOR UPDATE) until the transaction ends. */
export async function loadTicket(tx: Db, tenantId: number, ticketId: number, options: { lock: boolean }): Promise<TicketState | null> {
  if (options.lock) {
    const locked = await tx.$queryRaw<{ id: number }[]>`SELECT id FROM tickets WHERE id = ${ticketId} AND tenant_id = ${tenantId} FOR UPDATE`;
    if (locked.length === 0) return null;
  }
  const ticket = await tx.ticket.findFirst({
    where: { id: ticketId, tenant_id: tenantId },
    select: { id: true, requester_id: true, status: { select: { id: true, is_closed: true } } },
  });
  return ticket && { id: ticket.id, status: { id: ticket.status.id, isClosed: ticket.status.is_closed }, requesterId: ticket.requester_id };
}

/** The tenant's reopen rule and its `open` status. */
export async function ticketRules(tx: Db, tenantId: number): Promise<TicketRules> {
  const tenant = await tx.tenant.findUniqueOrThrow({
    where: { id: tenantId },
    select: { reopen_on_reply: true, statuses: { where: { key: 'open' }, select: { id: true, is_closed: true } } },
  });
  const open = tenant.statuses[0];
  return { reopenOnReply: tenant.reopen_on_reply, open: open ? { id: open.id, isClosed: open.is_closed } : null };
}

/** A conversation that opens a new ticket: the tenant's next number, the given status, last activity = the conversation's time. */
export async function writeOnNewTicket(tx: Db, tenantId: number, ticket: NewTicket, item: ConversationWrite): Promise<{ ticketId: number; conversationId: number }> {
  const requesterId = await requesterOf(tx, tenantId, item.requester);
  const counter = await tx.tenant.update({ where: { id: tenantId }, data: { ticket_counter: { increment: 1 } }, select: { ticket_counter: true } });
  const created = await tx.ticket.create({
    data: {
      tenant_id: tenantId,
      number: counter.ticket_counter,
      subject: ticket.subject,
      status_id: ticket.status.id,
      requester_id: requesterId,
      mailbox_id: ticket.mailboxId,
      created: item.created,
      last_activity: item.created,
    },
    select: { id: true },
  });
  const conversationId = await insertConversation(tx, { tenantId, ticketId: created.id, statusId: ticket.status.id, requesterId }, item);
  return { ticketId: created.id, conversationId };
}

/**
 * Conversations onto an existing ticket, in order: the ticket takes the status
 * and last activity they leave it with (one write each, only when they
 * change), then the rows are inserted. Returns their ids.
 */
export async function writeOnTicket(tx: Db, tenantId: number, ticket: TicketState, rules: TicketRules, items: readonly ConversationWrite[]): Promise<number[]> {
  const requesterIds: (number | null)[] = [];
  for (const item of items) requesterIds.push(await requesterOf(tx, tenantId, item.requester));

  const effects = ticketEffects(ticket.status, items, rules);
  if (effects.status.id !== ticket.status.id) await tx.ticket.update({ where: { id: ticket.id }, data: { status_id: effects.status.id } });
  if (effects.lastActivity !== null) {
    await tx.ticket.updateMany({ where: { id: ticket.id, last_activity: { lt: effects.lastActivity } }, data: { last_activity: effects.lastActivity } });
  }

  const ids: number[] = [];
  for (const [i, item] of items.entries()) {
    ids.push(await insertConversation(tx, { tenantId, ticketId: ticket.id, statusId: effects.statuses[i]!.id, requesterId: requesterIds[i] ?? null }, item));
  }
  return ids;
}

async function requesterOf(tx: Db, tenantId: number, ref: ContactRef | null): Promise<number | null> {
  if (ref === null) return null;
  return 'id' in ref ? ref.id : upsertContact(tx, tenantId, ref);
}

interface Placement {
  tenantId: number;
  ticketId: number;
  statusId: number;
  requesterId: number | null;
}

async function insertConversation(tx: Db, at: Placement, item: ConversationWrite): Promise<number> {
  const { rich } = item.content;
  const created = await tx.conversation.create({
    data: {
      ...item.origin,
      tenant_id: at.tenantId,
      ticket_id: at.ticketId,
      type: item.type,
      sys_status_id: at.statusId,
      requester_id: at.requesterId,
      created_by_id: item.authorId,
      last_updated_by_id: item.authorId,
      last_message_extracted: pgText(item.content.extracted),
      html: pgText(rich.html),
      plain_preview: pgText(rich.plain_preview),
      editorjs: pgJson(rich.editorjs) as object,
      read_minutes: rich.read_minutes,
      created: item.created,
      email_addresses: {
        create: uniqueAddresses(item.addresses).map((e, position) => ({
          email: pgText(e.email),
          name: pgText(e.name, MAX_NAME_CHARS),
          direction: addressDirections.name(e.direction),
          position,
        })),
      },
    },
    select: { id: true },
  });
  await attach(tx, at.tenantId, created.id, item.attachments);
  if (item.messageIdFor) await tx.conversation.update({ where: { id: created.id }, data: { message_id: item.messageIdFor(created.id) } });
  return created.id;
}

async function attach(tx: Db, tenantId: number, conversationId: number, attachments: ConversationAttachments): Promise<void> {
  if (attachments.kind === 'new') {
    if (attachments.rows.length === 0) return;
    await tx.attachment.createMany({
      data: attachments.rows.map((a) => ({
        id: a.id,
        tenant_id: tenantId,
        conversation_id: conversationId,
        filename: pgText(a.filename),
        content_type: pgText(a.contentType, 255),
        size_bytes: BigInt(a.size),
        sha256: a.sha256,
        content_id: pgTextOrNull(a.contentId, MAX_CONTENT_ID_CHARS),
        inline: a.inline,
        storage_key: a.storageKey,
        status: 'UNAVAILABLE',
      })),
    });
    return;
  }
  if (attachments.ids.length === 0) return;
  // Only attachments still free are taken: a concurrent request that attached one first wins.
  const taken = await tx.attachment.updateMany({
    where: { id: { in: [...attachments.ids] }, tenant_id: tenantId, conversation_id: null },
    data: { conversation_id: conversationId },
  });
  if (taken.count !== attachments.ids.length) {
    const message = `${attachments.field} names an attachment that was attached meanwhile`;
    throw new MailroomError('VALIDATION', message, { fields: [{ field: attachments.field, message }] });
  }
}
