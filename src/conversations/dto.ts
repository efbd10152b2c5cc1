// The wire shapes of stored conversations and tickets (the seed's
// DTO_ticket_conversation, PRODUCT.md's ticket), built from database rows.
// The zod schemas below are the one description of these shapes: the types
// are inferred from them and the OpenAPI document (/docs) is generated from
// them, so the docs cannot drift from what the code returns.
//
// DTO_contact.user_id: the seed's contact reference carries one id, and every
// writable reference of the API resolves by its id, so `user_id` is the id of
// the Contact row (the requester), not Contact.user_id (the optional link of a
// contact to an agent User, which is internal). What GET returns as
// `requester` can be posted back as it is.

import { z } from 'zod';
import type { Prisma } from '../generated/prisma/client.js';
import { EDITORJS_VERSION } from '../mail/rich/index.js';
import type { DTO_editorjs } from '../mail/rich/index.js';
import { sizeKb } from './draft.js';
import { addressDirections, attachmentStatuses, conversationTypes } from '../wire/enums.js';
import type { AttachmentStatusName, SeedEnum } from '../wire/enums.js';

const iso = z.string().meta({ format: 'date-time' });

/** `ENUM email_address_direction: 0 UNKNOWN, 1 FROM, ...` */
function enumDescription<N extends string>(seed: SeedEnum<N, number>, exclude: readonly N[] = []): string {
  return `ENUM ${seed.seedName}: ${seed.describe({ exclude })}`;
}

export const referenceColorSchema = z.object({ id: z.number().int(), label: z.string(), bg_color: z.string(), text_color: z.string() }).meta({ title: 'DTO_reference_color' });
export const referenceUserSchema = z.object({ id: z.number().int(), label: z.string(), email: z.string(), profile_pic: z.string().nullable() }).meta({ title: 'DTO_reference_user' });
export const contactSchema = z
  .object({ user_id: z.number().int().describe('The contact id'), email: z.string(), name: z.string(), profile_pic: z.string().nullable() })
  .meta({ title: 'DTO_contact' });
export const referenceAttachmentSchema = z
  .object({
    id: z.number().int(),
    label: z.string().describe('Safe file name'),
    size_kb: z.number().int().describe('Size in KiB, rounded up'),
    status: z.number().int().describe(enumDescription(attachmentStatuses)),
    status_message: z.string().nullable(),
    download_url: z.string().nullable().describe('Signed, valid for an hour; null unless status is OK or WARNING'),
  })
  .meta({ title: 'DTO_reference_attachment' });
export const emailAddressSchema = z
  .object({ email: z.string(), name: z.string(), direction: z.number().int().describe(enumDescription(addressDirections)) })
  .meta({ title: 'DTO_email_address' });
export const editorJsSchema = z
  .object({ time: z.number().int(), version: z.string(), blocks: z.array(z.object({ id: z.string(), type: z.string(), data: z.record(z.string(), z.unknown()) })) })
  .meta({ title: 'DTO_editorjs' });
export const richTextSchema = z
  .object({ plain_preview: z.string(), html: z.string().describe('Sanitized: inert when shown'), editorjs: editorJsSchema, read_minutes: z.number().int() })
  .meta({ title: 'DTO_rich_text' });

export const conversationSchema = z
  .object({
    id: z.number().int(),
    ticket_id: z.number().int(),
    type: z.number().int().describe(enumDescription(conversationTypes, ['UNKNOWN'])),
    sys_status: referenceColorSchema.nullable(),
    created_by: referenceUserSchema,
    last_updated_by: referenceUserSchema,
    requester: contactSchema.nullable(),
    last_message_extracted: z.string(),
    sys_attachments: z.array(referenceAttachmentSchema),
    created: iso,
    last_updated: iso,
    email_addresses: z.array(emailAddressSchema),
    sys_content_rich: richTextSchema,
    message_id: z.string().optional().describe('REPLY_OUTBOUND and FORWARD only: the signed Message-ID the mail must be sent with (read-only)'),
    content_truncated: z
      .boolean()
      .optional()
      .describe('Lists only: true when html, editorjs and last_message_extracted were cut to keep the page small; the single read has them whole'),
  })
  .meta({ title: 'DTO_ticket_conversation' });

export const ticketSchema = z
  .object({
    id: z.number().int(),
    subject: z.string(),
    tag: z.string().describe('Subject tag, e.g. [#123]'),
    sys_status: referenceColorSchema,
    requester: contactSchema.nullable(),
    mailbox_id: z.number().int().nullable(),
    conversation_count: z.number().int(),
    created: iso,
    last_updated: iso,
    last_activity: iso,
  })
  .meta({ title: 'DTO_ticket' });

export type DTO_ticket_conversation = z.infer<typeof conversationSchema>;
export type DTO_ticket = z.infer<typeof ticketSchema>;
export type DTO_reference_attachment = z.infer<typeof referenceAttachmentSchema>;

export const conversationInclude = {
  sys_status: true,
  requester: true,
  created_by: true,
  last_updated_by: true,
  email_addresses: { orderBy: [{ position: 'asc' }, { id: 'asc' }] },
  // No position column: attachment ids are handed out in the order the mail (or the request) lists them.
  attachments: { orderBy: { id: 'asc' } },
} satisfies Prisma.ConversationInclude;

export type ConversationRow = Prisma.ConversationGetPayload<{ include: typeof conversationInclude }>;

export const ticketInclude = {
  status: true,
  requester: true,
  _count: { select: { conversations: true } },
} satisfies Prisma.TicketInclude;

export type TicketRow = Prisma.TicketGetPayload<{ include: typeof ticketInclude }>;

/** The signed download URL of an attachment, or null (status not OK/WARNING). */
export type DownloadUrlFn = (attachment: { id: number; status: AttachmentStatusName }) => string | null;

/** Outbound conversations carry Mailroom's signed Message-ID on the wire. */
export const OUTBOUND_TYPES: ReadonlySet<ConversationRow['type']> = new Set(['REPLY_OUTBOUND', 'FORWARD']);

type StatusRow = { id: number; label: string; bg_color: string; text_color: string };
type UserRow = { id: number; name: string; email: string; profile_pic: string | null };
type ContactRow = { id: number; email: string; name: string; profile_pic: string | null };

export function statusDto(s: StatusRow): z.infer<typeof referenceColorSchema> {
  return { id: s.id, label: s.label, bg_color: s.bg_color, text_color: s.text_color };
}

export function userDto(u: UserRow): z.infer<typeof referenceUserSchema> {
  return { id: u.id, label: u.name, email: u.email, profile_pic: u.profile_pic };
}

export function contactDto(c: ContactRow): z.infer<typeof contactSchema> {
  return { user_id: c.id, email: c.email, name: c.name, profile_pic: c.profile_pic };
}

export function attachmentDto(
  a: { id: number; filename: string; size_bytes: bigint; status: AttachmentStatusName; status_message: string | null },
  downloadUrl: DownloadUrlFn,
): DTO_reference_attachment {
  return {
    id: a.id,
    label: a.filename,
    size_kb: sizeKb(Number(a.size_bytes)),
    status: attachmentStatuses.number(a.status),
    status_message: a.status_message,
    download_url: downloadUrl({ id: a.id, status: a.status }),
  };
}

function editorJsOf(value: Prisma.JsonValue | null, created: Date): DTO_editorjs {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Array.isArray(value.blocks)) return value as unknown as DTO_editorjs;
  return { time: created.getTime(), version: EDITORJS_VERSION, blocks: [] };
}

/**
 * `cid:` images are stored pointing at their attachment's download path
 * without a signature (a stored signature would expire). At read time each
 * one whose attachment may be downloaded gets a fresh signed URL, in the html
 * and in Editor.js image blocks, so inline images show once their attachment
 * is OK or WARNING and never before.
 */
function inlineImageUrls(attachments: readonly { id: number; status: AttachmentStatusName }[], downloadUrl: DownloadUrlFn): Map<string, string> {
  const urls = new Map<string, string>();
  for (const a of attachments) {
    const signed = downloadUrl({ id: a.id, status: a.status });
    if (signed !== null) urls.set(signed.slice(0, signed.indexOf('?')), signed);
  }
  return urls;
}

export function signInlineImages(html: string, urls: ReadonlyMap<string, string>): string {
  let out = html;
  // The quotes keep attachment 1 from matching the path of attachment 12.
  for (const [unsigned, signed] of urls) out = out.split(`"${unsigned}"`).join(`"${signed.replaceAll('&', '&amp;')}"`);
  return out;
}

function signImageBlocks(editorjs: DTO_editorjs, urls: ReadonlyMap<string, string>): DTO_editorjs {
  if (urls.size === 0) return editorjs;
  const blocks = editorjs.blocks.map((block) => {
    const file = block.type === 'image' ? (block.data as { file?: { url?: unknown } }).file : undefined;
    const signed = typeof file?.url === 'string' ? urls.get(file.url) : undefined;
    return signed === undefined ? block : { ...block, data: { ...block.data, file: { ...file, url: signed } } };
  });
  return { ...editorjs, blocks };
}

export function conversationDto(row: ConversationRow, downloadUrl: DownloadUrlFn): DTO_ticket_conversation {
  const inline = inlineImageUrls(row.attachments, downloadUrl);
  const dto: DTO_ticket_conversation = {
    id: row.id,
    ticket_id: row.ticket_id,
    type: conversationTypes.number(row.type),
    sys_status: row.sys_status ? statusDto(row.sys_status) : null,
    created_by: userDto(row.created_by),
    last_updated_by: userDto(row.last_updated_by),
    requester: row.requester ? contactDto(row.requester) : null,
    last_message_extracted: row.last_message_extracted,
    sys_attachments: row.attachments.map((a) => attachmentDto(a, downloadUrl)),
    created: row.created.toISOString(),
    last_updated: row.last_updated.toISOString(),
    email_addresses: row.email_addresses.map((e) => ({ email: e.email, name: e.name, direction: addressDirections.number(e.direction) })),
    sys_content_rich: {
      plain_preview: row.plain_preview,
      html: signInlineImages(row.html, inline),
      editorjs: signImageBlocks(editorJsOf(row.editorjs, row.created), inline),
      read_minutes: row.read_minutes,
    },
  };
  if (OUTBOUND_TYPES.has(row.type) && row.message_id !== null) dto.message_id = row.message_id;
  return dto;
}

export function ticketDto(row: TicketRow): DTO_ticket {
  return {
    id: row.id,
    subject: row.subject,
    tag: `[#${row.number}]`,
    sys_status: statusDto(row.status),
    requester: row.requester ? contactDto(row.requester) : null,
    mailbox_id: row.mailbox_id,
    conversation_count: row._count.conversations,
    created: row.created.toISOString(),
    last_updated: row.last_updated.toISOString(),
    last_activity: row.last_activity.toISOString(),
  };
}
