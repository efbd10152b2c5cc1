// Conversations written and read through the API (the seed endpoint). One
// POST is one transaction: every item is validated (zod, then its references
// against the tenant's rows) before anything is written, and an unknown ticket
// is a 404 only after that, in the order PRODUCT.md fixes (400 before 404).
//
// Decisions the seed leaves open, made here (applied by write.ts and ticket-effects.ts):
// - `sys_status` is the ticket's status after the conversation (as ingestion
//   records it): a given status is applied to the ticket; without one, an
//   inbound reply reopens a solved/closed ticket as mail does (tenant setting).
// - `requester` defaults to the ticket's requester; `user_id` is a contact id
//   (see dto.ts), `email` (+ `name`) upserts the contact (a known contact keeps
//   its name unless it had none, as with mail).
// - Without `last_message_extracted` the new text is extracted from the html
//   (quotes and signature removed); without html, the html is built from that text.
// - REPLY_INBOUND, REPLY_OUTBOUND and FORWARD move the ticket's last activity;
//   notes and suggested replies do not.

import type { PageRequest } from '../db/page.js';
import type { Db } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import { unsignedDownloadUrl } from '../attachments/signing.js';
import type { FieldProblem } from '../errors.js';
import { isUniqueViolation } from '../db/errors.js';
import type { ApiLimits } from '../config/config.js';
import { checkContentCost, inThreadPreparer, type ContentPreparer, type PreparedContent } from './content.js';
import { formatSignedMessageId } from '../threading/message-id.js';
import type { Principal } from '../tokens/principal.js';
import { conversationDto, conversationInclude, OUTBOUND_TYPES } from './dto.js';
import type { DownloadUrlFn, DTO_ticket_conversation } from './dto.js';
import { conversationsInput } from './input.js';
import { readConversationPage } from './list-read.js';
import type { ConversationInput } from './input.js';
import { resolveReferences, type Resolved } from './references.js';
import { conversationTypes } from '../wire/enums.js';
import { loadTicket, ticketRules, writeOnTicket } from './write.js';
import type { ContactRef, ConversationWrite, TicketState } from './write.js';

export interface ConversationDeps {
  /** MAILROOM_SECRET_KEY: signs outbound Message-IDs. */
  secretKey: Buffer;
  /** MAILROOM_PUBLIC_URL: its host is the Message-ID's domain, its base the URL of `cid:` images. */
  publicUrl: string;
  downloadUrl: DownloadUrlFn;
  /** What one request's content may cost (config.apiLimits). */
  limits: Pick<ApiLimits, 'maxHtmlBytes' | 'maxRequestHtmlBytes'>;
  /** Where sanitizing runs (the parse pool's worker threads); absent: in this thread. */
  preparer?: ContentPreparer;
  now?: () => Date;
}


/** The request body as conversations, or a VALIDATION error naming every bad field (`conversations[0].type`). */
export function parseConversations(items: unknown, ticketId: number): ConversationInput[] {
  const parsed = conversationsInput.safeParse(items);
  const fields: FieldProblem[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = fieldPath(['conversations', ...(issue.path as (string | number)[])]);
      fields.push({ field, message: `${field} ${issue.message}` });
    }
  } else {
    parsed.data.forEach((item, i) => {
      if (item.ticket_id != null && item.ticket_id !== ticketId) {
        fields.push({ field: `conversations[${i}].ticket_id`, message: `conversations[${i}].ticket_id must be the ticket of the path (${ticketId}) or left out` });
      }
    });
  }
  if (fields.length > 0) throw new MailroomError('VALIDATION', fields.map((f) => f.message).join('; '), { fields });
  return parsed.data as ConversationInput[];
}

export function fieldPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** The Message-ID's right-hand side: the public URL's host when it is a DNS name or IPv4 address. */
export function messageIdDomain(publicUrl: string): string {
  const host = new URL(publicUrl).hostname.toLowerCase();
  return /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(host) ? host : 'localhost';
}

export async function createConversations(
  db: Db,
  principal: Principal,
  ticketId: number,
  items: unknown,
  deps: ConversationDeps,
): Promise<DTO_ticket_conversation[]> {
  const inputs = parseConversations(items, ticketId);
  checkContentCost(inputs, deps.limits);
  try {
    return await writeConversations(db, principal, ticketId, inputs, deps);
  } catch (err) {
    // Two posts creating the same new requester (or contact) at once: the loser's upsert hits the
    // unique index. Its transaction rolled back whole, and on a second run the row exists.
    if (!isUniqueViolation(err)) throw err;
    return writeConversations(db, principal, ticketId, inputs, deps);
  }
}

async function writeConversations(db: Db, principal: Principal, ticketId: number, inputs: ConversationInput[], deps: ConversationDeps): Promise<DTO_ticket_conversation[]> {
  const tenantId = principal.tenantId;
  const now = (deps.now ?? (() => new Date()))();
  const prepared = await prepareAll(db, principal, inputs, deps, now);
  const ids = await db.$transaction(
    async (txClient) => {
      const tx = txClient as unknown as Db;
      const resolved = await resolveReferences(tx, tenantId, inputs);
      // Lock the ticket row: concurrent posts to one ticket apply their status changes in turn.
      const ticket = await loadTicket(tx, tenantId, ticketId, { lock: true });
      if (!ticket) throw new MailroomError('NOT_FOUND', `Ticket ${ticketId} does not exist.`);
      const rules = await ticketRules(tx, tenantId);
      const items = inputs.map((item, i) => conversationWrite(principal, ticket, item, i, { now, deps, resolved, prepared: prepared[i]! }));
      return writeOnTicket(tx, tenantId, ticket, rules, items);
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
  // Read back once committed, not inside: Prisma loads the included relations with concurrent queries,
  // which one transaction's connection can only queue (pg deprecates that), and the ticket's lock is free sooner.
  const rows = await db.conversation.findMany({ where: { id: { in: ids }, tenant_id: tenantId }, include: conversationInclude, orderBy: { id: 'asc' } });
  return rows.map((row) => conversationDto(row, deps.downloadUrl));
}

interface ItemContext {
  now: Date;
  deps: ConversationDeps;
  resolved: Resolved;
  /** Sanitized and derived content, made before the transaction (it holds the ticket's row lock). */
  prepared: PreparedContent;
}

/** A posted item as the write path takes it: the requester defaults to the ticket's, outbound types get a signed Message-ID. */
function conversationWrite(principal: Principal, ticket: TicketState, item: ConversationInput, index: number, c: ItemContext): ConversationWrite {
  const type = conversationTypes.name(item.type);
  const given = item.sys_status ? c.resolved.statuses.get(item.sys_status.id) : undefined;
  const r = item.requester;
  const requester: ContactRef | null =
    r?.user_id != null ? { id: r.user_id } : r?.email != null ? { email: r.email, name: r.name?.trim() ?? '' } : ticket.requesterId !== null ? { id: ticket.requesterId } : null;
  const domain = messageIdDomain(c.deps.publicUrl);
  return {
    type,
    automatic: false,
    status: given ? { id: given.id, isClosed: given.is_closed } : null,
    created: c.now,
    requester,
    authorId: principal.userId,
    content: c.prepared,
    addresses: (item.email_addresses ?? []).map((e) => ({ email: e.email, name: e.name ?? '', direction: e.direction })),
    attachments: { kind: 'claim', ids: (item.sys_attachments ?? []).map((a) => a.id), field: `conversations[${index}].sys_attachments` },
    // Signed ids are lower-case already; thread lookups compare lower-cased ids.
    messageIdFor: OUTBOUND_TYPES.has(type)
      ? (conversationId) => formatSignedMessageId({ tenantId: principal.tenantId, ticketId: ticket.id, conversationId, domain }, c.deps.secretKey).toLowerCase()
      : undefined,
  };
}

/**
 * Sanitizes and derives every item's content before the transaction, so the
 * ticket's row lock is never held while HTML is parsed, and off this thread
 * when a pool is given (content.ts). `cid:` images point at the tenant's
 * attachments the items name (their content ids never change; ids that are
 * not the tenant's are refused inside the transaction).
 */
async function prepareAll(db: Db, principal: Principal, inputs: ConversationInput[], deps: ConversationDeps, now: Date): Promise<PreparedContent[]> {
  const ids = [...new Set(inputs.flatMap((item) => (item.sys_attachments ?? []).map((a) => a.id)))];
  const rows = ids.length === 0 ? [] : await db.attachment.findMany({ where: { id: { in: ids }, tenant_id: principal.tenantId }, select: { id: true, content_id: true } });
  const contentIds = new Map(rows.map((r) => [r.id, r.content_id]));
  const preparer = deps.preparer ?? inThreadPreparer;
  return Promise.all(
    inputs.map((item) => {
      const cidUrls: [string, string][] = [];
      for (const { id } of item.sys_attachments ?? []) {
        const cid = contentIds.get(id);
        if (cid) cidUrls.push([cid, unsignedDownloadUrl(deps.publicUrl, principal.tenantSlug, id)]);
      }
      return preparer.prepare({ item: { sys_content_rich: item.sys_content_rich, last_message_extracted: item.last_message_extracted }, cidUrls, time: now.getTime() });
    }),
  );
}

/** Conversations of a ticket, oldest first; 404 when the ticket is not the tenant's. */
export async function listConversations(
  db: Db,
  principal: Principal,
  ticketId: number,
  page: PageRequest,
  downloadUrl: DownloadUrlFn,
  listMaxBytes: number,
): Promise<{ items: DTO_ticket_conversation[]; total: number }> {
  const ticket = await db.ticket.findFirst({ where: { id: ticketId, tenant_id: principal.tenantId }, select: { id: true } });
  if (!ticket) throw new MailroomError('NOT_FOUND', `Ticket ${ticketId} does not exist.`);
  const where = { ticket_id: ticketId, tenant_id: principal.tenantId };
  const [total, items] = await Promise.all([db.conversation.count({ where }), readConversationPage(db, where, page, downloadUrl, listMaxBytes)]);
  return { items, total };
}

/** One conversation of a ticket, its content whole; 404 when either is not the tenant's. */
export async function getConversation(db: Db, principal: Principal, ticketId: number, conversationId: number, downloadUrl: DownloadUrlFn): Promise<DTO_ticket_conversation> {
  const row = await db.conversation.findFirst({ where: { id: conversationId, ticket_id: ticketId, tenant_id: principal.tenantId }, include: conversationInclude });
  if (row) return conversationDto(row, downloadUrl);
  const ticket = await db.ticket.findFirst({ where: { id: ticketId, tenant_id: principal.tenantId }, select: { id: true } });
  throw new MailroomError('NOT_FOUND', ticket ? `Conversation ${conversationId} does not exist on ticket ${ticketId}.` : `Ticket ${ticketId} does not exist.`);
}
