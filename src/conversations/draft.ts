// The `DTO_ticket_conversation` draft of a mapped mail, as `mailroom parse`
// prints it: seed field names, enums as numbers, no ids (nothing is stored).
// The stored conversation's DTO (API) has the same shape plus ids.

import type { MappedMail } from './from-mail.js';
import type { DTO_rich_text } from '../mail/rich/index.js';
import { DEFAULT_STATUSES, SYSTEM_USER } from '../tenants/defaults.js';
import { AttachmentStatus, TicketConversationType } from '../wire/enums.js';
import type { EmailAddressDirection } from '../wire/enums.js';

export interface ConversationDraft {
  type: TicketConversationType;
  sys_status: { label: string; bg_color: string; text_color: string };
  created_by: { email: string; label: string; profile_pic: null };
  last_updated_by: { email: string; label: string; profile_pic: null };
  requester: { user_id: null; email: string; name: string; profile_pic: null } | null;
  last_message_extracted: string;
  sys_attachments: { label: string; size_kb: number; status: AttachmentStatus; status_message: null; download_url: null }[];
  created: string;
  last_updated: string;
  email_addresses: { email: string; name: string; direction: EmailAddressDirection }[];
  sys_content_rich: DTO_rich_text;
}

export interface AttachmentSummary {
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  content_id: string | null;
  inline: boolean;
}

/** Size in KiB, rounded up (PRODUCT.md: `size_kb`). */
export function sizeKb(bytes: number): number {
  return Math.ceil(bytes / 1024);
}

export function conversationDraft(mapped: MappedMail): ConversationDraft {
  // A mail that opens a ticket opens it as "new" (PRODUCT.md "Shapes").
  const status = DEFAULT_STATUSES[0];
  const system = { email: SYSTEM_USER.email, label: SYSTEM_USER.name, profile_pic: null };
  const created = mapped.created.toISOString();
  return {
    type: TicketConversationType.REPLY_INBOUND,
    sys_status: { label: status.label, bg_color: status.bg_color, text_color: status.text_color },
    created_by: system,
    last_updated_by: system,
    requester: mapped.requester ? { user_id: null, email: mapped.requester.email, name: mapped.requester.name, profile_pic: null } : null,
    last_message_extracted: mapped.last_message_extracted,
    sys_attachments: mapped.attachments.map((a) => ({
      label: a.filename,
      size_kb: sizeKb(a.size),
      status: AttachmentStatus.UNAVAILABLE,
      status_message: null,
      download_url: null,
    })),
    created,
    last_updated: created,
    email_addresses: mapped.email_addresses.map((e) => ({ email: e.email, name: e.name, direction: e.direction })),
    sys_content_rich: mapped.sys_content_rich,
  };
}

export function attachmentSummaries(mapped: MappedMail): AttachmentSummary[] {
  return mapped.attachments.map((a) => ({
    filename: a.filename,
    content_type: a.contentType,
    size_bytes: a.size,
    sha256: a.sha256,
    content_id: a.contentId,
    inline: a.inline,
  }));
}
