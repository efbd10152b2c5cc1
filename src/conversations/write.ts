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
//
// Set-based on purpose (ingestion writes one conversation per mail, so every
// round trip counts): the contact is one statement, the ticket with its
// number one, and the conversation with all its addresses and attachment rows
// one (data-modifying CTEs over unnested arrays), instead of an ORM call per
// row. Times go in as UTC, as Prisma stores them (timestamp without zone).

import type { Db } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { pgJson, pgText, pgTextOrNull } from '../db/text.js';
import type { DTO_rich_text } from '../mail/rich/index.js';
import { uniqueAddresses } from '../wire/addresses.js';
import { addressDirections } from '../wire/enums.js';
import { ticketEffects } from './ticket-effects.js';
import type { ConversationEffect, StatusRef, TicketRules } from './ticket-effects.js';

/** The requester: an existing contact of the tenant, or one by email (created on first sight). */
export type ContactRef = { id: number } | { email: string; name: string };

/** Where the conversation came from, as conversation columns (mail: mailbox, Message-ID, dedupe key, thread headers, source key). */
export type ConversationOrigin = Pick<Prisma.ConversationUncheckedCreateInput, 'message_id' | 'dedupe_key' | 'in_reply_to' | 'references' | 'mailbox_id' | 'source_key'>;

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

/** A time as Prisma stores it: UTC wall-clock in a timestamp without zone. */
const utc = (d: Date) => Prisma.sql`(${d.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;

/** The tenant's contact with this email: created on first sight; a known contact without a name gets this one. */
export async function upsertContact(tx: Db, tenantId: number, contact: { email: string; name: string }): Promise<number> {
  const name = pgText(contact.name, MAX_NAME_CHARS);
  const email = pgText(contact.email);
  const now = utc(new Date());
  const found = () => tx.$queryRaw<{ id: number; name: string }[]>`SELECT id, name FROM contacts WHERE tenant_id = ${tenantId}::int AND email = ${email}::text`;
  // One statement: the new row, or the existing one (no write, no row lock, for a known contact).
  const rows = await tx.$queryRaw<{ id: number; name: string }[]>`
    WITH made AS (
      INSERT INTO contacts (tenant_id, email, name, created, last_updated) VALUES (${tenantId}::int, ${email}::text, ${name}::text, ${now}, ${now})
      ON CONFLICT (tenant_id, email) DO NOTHING
      RETURNING id, name)
    SELECT id, name FROM made
    UNION ALL
    SELECT id, name FROM contacts WHERE tenant_id = ${tenantId}::int AND email = ${email}::text
    LIMIT 1`;
  // Committed by another transaction after this statement's snapshot: a new statement sees it.
  const row = rows[0] ?? (await found())[0];
  if (!row) throw new MailroomError('INTERNAL', `Contact ${email} of tenant ${tenantId} could not be created or found.`);
  if (row.name === '' && name !== '') await tx.$executeRaw`UPDATE contacts SET name = ${name}::text, last_updated = ${now} WHERE id = ${row.id}::int AND name = ''`;
  return row.id;
}

/** The ticket's status and requester, or null when it is not the tenant's; `lock` holds its row (FOR UPDATE) until the transaction ends. */
export async function loadTicket(tx: Db, tenantId: number, ticketId: number, options: { lock: boolean }): Promise<TicketState | null> {
  const lock = options.lock ? Prisma.sql`FOR UPDATE OF t` : Prisma.empty;
  const [ticket] = await tx.$queryRaw<{ id: number; requester_id: number | null; status_id: number; is_closed: boolean }[]>`
    SELECT t.id, t.requester_id, s.id AS status_id, s.is_closed
      FROM tickets t JOIN statuses s ON s.id = t.status_id
     WHERE t.id = ${ticketId}::int AND t.tenant_id = ${tenantId}::int
    ${lock}`;
  return ticket ? { id: ticket.id, status: { id: ticket.status_id, isClosed: ticket.is_closed }, requesterId: ticket.requester_id } : null;
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
  // The tenant's next number and the ticket in one statement (the counter row stays locked until commit).
  const now = utc(new Date());
  const [created] = await tx.$queryRaw<{ id: number }[]>`
    WITH n AS (UPDATE tenants SET ticket_counter = ticket_counter + 1, last_updated = ${now} WHERE id = ${tenantId}::int RETURNING ticket_counter)
    INSERT INTO tickets (tenant_id, number, subject, status_id, requester_id, mailbox_id, created, last_updated, last_activity)
    SELECT ${tenantId}::int, n.ticket_counter, ${pgText(ticket.subject)}::text, ${ticket.status.id}::int, ${requesterId}::int, ${ticket.mailboxId}::int,
           ${utc(item.created)}, ${now}, ${utc(item.created)}
      FROM n
    RETURNING id`;
  if (!created) throw new MailroomError('INTERNAL', `Tenant ${tenantId} does not exist.`);
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

/** The conversation, its addresses and its new attachment rows: one statement. */
async function insertConversation(tx: Db, at: Placement, item: ConversationWrite): Promise<number> {
  const { rich } = item.content;
  const o = item.origin ?? {};
  const now = utc(new Date());
  const addresses = uniqueAddresses(item.addresses);
  const files = item.attachments.kind === 'new' ? item.attachments.rows : [];
  const editorjs = rich.editorjs === null || rich.editorjs === undefined ? null : JSON.stringify(pgJson(rich.editorjs));
  const [row] = await tx.$queryRaw<{ id: number }[]>`
    WITH c AS (
      INSERT INTO conversations (tenant_id, ticket_id, type, sys_status_id, requester_id, created_by_id, last_updated_by_id,
                                 last_message_extracted, html, plain_preview, editorjs, read_minutes, created, last_updated,
                                 message_id, dedupe_key, in_reply_to, "references", mailbox_id, source_key)
      VALUES (${at.tenantId}::int, ${at.ticketId}::int, ${item.type}::"ConversationType", ${at.statusId}::int, ${at.requesterId}::int,
              ${item.authorId}::int, ${item.authorId}::int,
              ${pgText(item.content.extracted)}::text, ${pgText(rich.html)}::text, ${pgText(rich.plain_preview)}::text, ${editorjs}::jsonb,
              ${rich.read_minutes}::int, ${utc(item.created)}, ${now},
              ${o.message_id ?? null}::text, ${o.dedupe_key ?? null}::text, ${o.in_reply_to ?? null}::text,
              ${originReferences(o.references)}::text[], ${o.mailbox_id ?? null}::int, ${o.source_key ?? null}::text)
      RETURNING id
    ), addresses AS (
      INSERT INTO conversation_email_addresses (conversation_id, email, name, direction, position)
      SELECT c.id, a.email, a.name, a.direction::"EmailAddressDirection", (a.ord - 1)::int
        FROM c, unnest(${addresses.map((e) => pgText(e.email))}::text[],
                       ${addresses.map((e) => pgText(e.name, MAX_NAME_CHARS))}::text[],
                       ${addresses.map((e) => addressDirections.name(e.direction))}::text[]) WITH ORDINALITY AS a(email, name, direction, ord)
    ), files AS (
      INSERT INTO attachments (id, tenant_id, conversation_id, filename, content_type, size_bytes, sha256, content_id, inline, storage_key, status, created, last_updated)
      SELECT f.id, ${at.tenantId}::int, c.id, f.filename, f.content_type, f.size_bytes, f.sha256, f.content_id, f.inline, f.storage_key, 'UNAVAILABLE', ${now}, ${now}
        FROM c, unnest(${files.map((a) => a.id)}::int[],
                       ${files.map((a) => pgText(a.filename))}::text[],
                       ${files.map((a) => pgText(a.contentType, 255))}::text[],
                       ${files.map((a) => String(a.size))}::bigint[],
                       ${files.map((a) => a.sha256)}::text[],
                       ${files.map((a) => pgTextOrNull(a.contentId, MAX_CONTENT_ID_CHARS))}::text[],
                       ${files.map((a) => a.inline)}::boolean[],
                       ${files.map((a) => a.storageKey)}::text[]) AS f(id, filename, content_type, size_bytes, sha256, content_id, inline, storage_key)
    )
    SELECT id FROM c`;
  if (!row) throw new MailroomError('INTERNAL', 'The conversation row was not inserted.');
  if (item.attachments.kind === 'claim') await claim(tx, at.tenantId, row.id, item.attachments);
  if (item.messageIdFor) await tx.conversation.update({ where: { id: row.id }, data: { message_id: item.messageIdFor(row.id) } });
  return row.id;
}

/** The origin's References as a text array (Prisma's input type also allows its `{ set }` form). */
function originReferences(refs: ConversationOrigin['references']): string[] {
  if (refs === undefined) return [];
  return Array.isArray(refs) ? refs : refs.set;
}

/** Existing unattached rows of the tenant (the API's uploads) become this conversation's. */
async function claim(tx: Db, tenantId: number, conversationId: number, attachments: Extract<ConversationAttachments, { kind: 'claim' }>): Promise<void> {
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
