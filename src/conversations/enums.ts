// The seed API's enums (ticket_conversations_create.txt). On the wire they are
// written as numbers; input accepts the number or the name.

export const TicketConversationType = {
  UNKNOWN: 0,
  REPLY_INBOUND: 1,
  NOTE_PRIVATE: 2,
  NOTE_PUBLIC: 3,
  FORWARD: 4,
  REPLY_OUTBOUND: 5,
  SUGGESTED_REPLY: 6,
} as const;
export type TicketConversationType = (typeof TicketConversationType)[keyof typeof TicketConversationType];

export const EmailAddressDirection = {
  UNKNOWN: 0,
  FROM: 1,
  TO: 2,
  CC: 3,
  BCC: 4,
  FORWARDED_TO: 5,
  RESENT_FROM: 6,
  REPLY_TO: 7,
} as const;
export type EmailAddressDirection = (typeof EmailAddressDirection)[keyof typeof EmailAddressDirection];

export const AttachmentStatus = {
  UNKNOWN: 0,
  UNAVAILABLE: 1,
  OK: 2,
  WARNING: 3,
  ERROR: 4,
} as const;
export type AttachmentStatus = (typeof AttachmentStatus)[keyof typeof AttachmentStatus];
