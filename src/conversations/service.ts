// Conversations written and read through the API (the seed endpoint). One
// POST is one transaction: every item is validated (zod, then its references
// against the tenant's rows) before anything is written, and an unknown ticket
// is a 404 only after that, in the order PRODUCT.md fixes (400 before 404).
//
// Decisions the seed leaves open, made here:
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

import { pageWindow, type PageRequest } from '../db/page.js';
import type { Db } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import { unsignedDownloadUrl } from '../attachments/signing.js';
import type { FieldProblem } from '../errors.js';
import { pgJson, pgText } from '../ingest/pg-text.js';
import { isUniqueViolation } from '../ingest/store.js';
import { extractReply } from '../mail/reply/extract.js';
import { EDITORJS_VERSION, htmlToEditorJs, plainPreview, readMinutes, sanitizeMailHtml, textToEditorJs, textToHtml } from '../mail/rich/index.js';
import type { DTO_editorjs, DTO_rich_text } from '../mail/rich/index.js';
import { formatSignedMessageId } from '../threading/message-id.js';
import type { Principal } from '../tokens/principal.js';
import { conversationDto, conversationInclude, OUTBOUND_TYPES } from './dto.js';
import type { DownloadUrlFn, DTO_ticket_conversation } from './dto.js';
import { conversationsInput, sanitizeEditorJs } from './input.js';
import type { ConversationInput } from './input.js';
import { resolveReferences, type Resolved } from './references.js';

export interface ConversationDeps {
  /** MAILROOM_SECRET_KEY: signs outbound Message-IDs. */
  secretKey: Buffer;
  /** MAILROOM_PUBLIC_URL: its host is the Message-ID's domain, its base the URL of `cid:` images. */
  publicUrl: string;
  downloadUrl: DownloadUrlFn;
  now?: () => Date;
}

const TYPE_NAMES = ['UNKNOWN', 'REPLY_INBOUND', 'NOTE_PRIVATE', 'NOTE_PUBLIC', 'FORWARD', 'REPLY_OUTBOUND', 'SUGGESTED_REPLY'] as const;
const DIRECTION_NAMES = ['UNKNOWN', 'FROM', 'TO', 'CC', 'BCC', 'FORWARDED_TO', 'RESENT_FROM', 'REPLY_TO'] as const;
const ACTIVITY_TYPES: ReadonlySet<string> = new Set(['REPLY_INBOUND', 'REPLY_OUTBOUND', 'FORWARD']);

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
  const prepared = await prepareContent(db, principal, inputs, deps, now);
  return db.$transaction(
    async (txClient) => {
      const tx = txClient as unknown as Db;
      const resolved = await resolveReferences(tx, tenantId, inputs);
      // Lock the ticket row: concurrent posts to one ticket apply their status changes in turn.
      const locked = await tx.$queryRaw<{ id: number }[]>`SELECT id FROM tickets WHERE id = ${ticketId} AND tenant_id = ${tenantId} FOR UPDATE`;
      if (locked.length === 0) throw new MailroomError('NOT_FOUND', `Ticket ${ticketId} does not exist.`);
      const ticket = await tx.ticket.findUniqueOrThrow({ where: { id: ticketId }, include: { status: true, tenant: { select: { reopen_on_reply: true } } } });
      const open = await tx.status.findUnique({ where: { tenant_id_key: { tenant_id: tenantId, key: 'open' } } });

      let statusId = ticket.status_id;
      let statusClosed = ticket.status.is_closed;
      const ids: number[] = [];
      for (const [i, item] of inputs.entries()) {
        const typeName = TYPE_NAMES[item.type] ?? 'UNKNOWN';
        const given = item.sys_status ? resolved.statuses.get(item.sys_status.id) : undefined;
        if (given) {
          statusId = given.id;
          statusClosed = given.is_closed;
        } else if (typeName === 'REPLY_INBOUND' && statusClosed && ticket.tenant.reopen_on_reply && open) {
          statusId = open.id;
          statusClosed = false;
        }
        const requesterId = (await requesterFor(tx, tenantId, item)) ?? ticket.requester_id;
        const id = await writeOne(tx, { principal, ticketId, item, index: i, typeName, statusId, requesterId, now, deps, resolved, prepared: prepared[i]! });
        ids.push(id);
        if (ACTIVITY_TYPES.has(typeName)) {
          await tx.ticket.updateMany({ where: { id: ticketId, last_activity: { lt: now } }, data: { last_activity: now } });
        }
      }
      if (statusId !== ticket.status_id) await tx.ticket.update({ where: { id: ticketId }, data: { status_id: statusId } });

      const rows = await tx.conversation.findMany({ where: { id: { in: ids } }, include: conversationInclude, orderBy: { id: 'asc' } });
      return rows.map((row) => conversationDto(row, deps.downloadUrl));
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
}

async function requesterFor(tx: Db, tenantId: number, item: ConversationInput): Promise<number | null> {
  const r = item.requester;
  if (!r) return null;
  if (r.user_id != null) return r.user_id;
  if (r.email == null) return null;
  const name = pgText(r.name?.trim() ?? '', 500);
  const contact = await tx.contact.upsert({
    where: { tenant_id_email: { tenant_id: tenantId, email: r.email } },
    create: { tenant_id: tenantId, email: r.email, name },
    update: {},
    select: { id: true, name: true },
  });
  if (contact.name === '' && name !== '') await tx.contact.update({ where: { id: contact.id }, data: { name } });
  return contact.id;
}

interface WriteOne {
  principal: Principal;
  ticketId: number;
  item: ConversationInput;
  index: number;
  typeName: (typeof TYPE_NAMES)[number];
  statusId: number;
  requesterId: number | null;
  now: Date;
  deps: ConversationDeps;
  resolved: Resolved;
  /** Sanitized and derived content, made before the transaction (it holds the ticket's row lock). */
  prepared: { extracted: string; rich: DTO_rich_text };
}

async function writeOne(tx: Db, w: WriteOne): Promise<number> {
  const { principal, item, deps } = w;
  const attachmentIds = (item.sys_attachments ?? []).map((a) => a.id);
  const { extracted, rich } = w.prepared;

  const seen = new Set<string>();
  const addresses = (item.email_addresses ?? []).filter((e) => {
    const key = `${e.direction}\u0000${e.email}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });

  const created = await tx.conversation.create({
    data: {
      tenant_id: principal.tenantId,
      ticket_id: w.ticketId,
      type: w.typeName,
      sys_status_id: w.statusId,
      requester_id: w.requesterId,
      created_by_id: principal.userId,
      last_updated_by_id: principal.userId,
      last_message_extracted: pgText(extracted),
      html: pgText(rich.html),
      plain_preview: pgText(rich.plain_preview),
      editorjs: pgJson(rich.editorjs) as object,
      read_minutes: rich.read_minutes,
      created: w.now,
      email_addresses: {
        create: addresses.map((e, position) => ({ email: pgText(e.email), name: pgText(e.name ?? '', 500), direction: DIRECTION_NAMES[e.direction] ?? 'UNKNOWN', position })),
      },
    },
    select: { id: true },
  });

  if (attachmentIds.length > 0) {
    // Only attachments still free are taken: a concurrent request that attached one first wins.
    const taken = await tx.attachment.updateMany({
      where: { id: { in: attachmentIds }, tenant_id: principal.tenantId, conversation_id: null },
      data: { conversation_id: created.id },
    });
    if (taken.count !== attachmentIds.length) {
      const field = `conversations[${w.index}].sys_attachments`;
      throw new MailroomError('VALIDATION', `${field} names an attachment that was attached meanwhile`, { fields: [{ field, message: `${field} names an attachment that was attached meanwhile` }] });
    }
  }
  if (OUTBOUND_TYPES.has(w.typeName)) {
    // Signed ids are lower-case already; thread lookups compare lower-cased ids.
    const messageId = formatSignedMessageId({ tenantId: principal.tenantId, ticketId: w.ticketId, conversationId: created.id, domain: messageIdDomain(deps.publicUrl) }, deps.secretKey);
    await tx.conversation.update({ where: { id: created.id }, data: { message_id: messageId.toLowerCase() } });
  }
  return created.id;
}

/**
 * sys_content_rich and last_message_extracted of an item. The html is
 * sanitized first and everything else is derived from the sanitized html, so
 * nothing the sanitizer removed (a `javascript:` link) reappears as text.
 */
/**
 * Sanitizes and derives every item's content before the transaction, so the
 * ticket's row lock is never held while HTML is parsed. `cid:` images point
 * at the tenant's attachments the items name (their content ids never change;
 * ids that are not the tenant's are refused inside the transaction).
 */
async function prepareContent(db: Db, principal: Principal, inputs: ConversationInput[], deps: ConversationDeps, now: Date) {
  const ids = [...new Set(inputs.flatMap((item) => (item.sys_attachments ?? []).map((a) => a.id)))];
  const rows = ids.length === 0 ? [] : await db.attachment.findMany({ where: { id: { in: ids }, tenant_id: principal.tenantId }, select: { id: true, content_id: true } });
  const contentIds = new Map(rows.map((r) => [r.id, r.content_id]));
  return inputs.map((item) => {
    const cidUrls = new Map<string, string>();
    for (const { id } of item.sys_attachments ?? []) {
      const cid = contentIds.get(id);
      if (cid) cidUrls.set(cid, unsignedDownloadUrl(deps.publicUrl, principal.tenantSlug, id));
    }
    return richContent(item, cidUrls, now.getTime());
  });
}

export function richContent(item: ConversationInput, cidUrls: ReadonlyMap<string, string>, time: number): { extracted: string; rich: DTO_rich_text } {
  const given = item.sys_content_rich;
  const rawHtml = given?.html ?? '';
  let html: string;
  let extracted: string;
  let editorjs: DTO_editorjs;
  if (rawHtml.trim() !== '') {
    html = sanitizeMailHtml(rawHtml, { cidUrls });
    extracted = item.last_message_extracted ?? extractReply({ html, text: null });
    editorjs = htmlToEditorJs(html, { time });
  } else {
    extracted = item.last_message_extracted ?? '';
    html = extracted.trim() === '' ? '' : sanitizeMailHtml(textToHtml(extracted));
    editorjs = textToEditorJs(extracted, { time });
  }
  if (given?.editorjs) editorjs = sanitizeEditorJs(given.editorjs, time, EDITORJS_VERSION);
  return { extracted, rich: { html, editorjs, plain_preview: plainPreview(extracted), read_minutes: given?.read_minutes ?? readMinutes(extracted) } };
}

/** Conversations of a ticket, oldest first; 404 when the ticket is not the tenant's. */
export async function listConversations(
  db: Db,
  principal: Principal,
  ticketId: number,
  page: PageRequest,
  downloadUrl: DownloadUrlFn,
): Promise<{ items: DTO_ticket_conversation[]; total: number }> {
  const ticket = await db.ticket.findFirst({ where: { id: ticketId, tenant_id: principal.tenantId }, select: { id: true } });
  if (!ticket) throw new MailroomError('NOT_FOUND', `Ticket ${ticketId} does not exist.`);
  const where = { ticket_id: ticketId, tenant_id: principal.tenantId };
  const [total, rows] = await Promise.all([
    db.conversation.count({ where }),
    db.conversation.findMany({
      where,
      include: conversationInclude,
      orderBy: [{ created: 'asc' }, { id: 'asc' }],
      ...pageWindow(page),
    }),
  ]);
  return { items: rows.map((row) => conversationDto(row, downloadUrl)), total };
}
