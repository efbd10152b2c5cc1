// The seed API's enums (ticket_conversations_create.txt) and the one way to
// convert each. On the wire they are numbers; input accepts the number or the
// name in any case; the database stores the name (Prisma's enums, whose
// members equal the seed's names, as the `satisfies` below checks). A leaf:
// the mail core, the API and ingestion all import it, it imports nothing at
// run time. A new value is added here (and in a migration) and nowhere else.

import type * as Db from '../generated/prisma/enums.js';

export const TicketConversationType = {
  UNKNOWN: 0,
  REPLY_INBOUND: 1,
  NOTE_PRIVATE: 2,
  NOTE_PUBLIC: 3,
  FORWARD: 4,
  REPLY_OUTBOUND: 5,
  SUGGESTED_REPLY: 6,
} as const satisfies Record<Db.ConversationType, number>;
export type TicketConversationType = (typeof TicketConversationType)[keyof typeof TicketConversationType];
export type TicketConversationTypeName = keyof typeof TicketConversationType;

export const EmailAddressDirection = {
  UNKNOWN: 0,
  FROM: 1,
  TO: 2,
  CC: 3,
  BCC: 4,
  FORWARDED_TO: 5,
  RESENT_FROM: 6,
  REPLY_TO: 7,
} as const satisfies Record<Db.EmailAddressDirection, number>;
export type EmailAddressDirection = (typeof EmailAddressDirection)[keyof typeof EmailAddressDirection];
export type EmailAddressDirectionName = keyof typeof EmailAddressDirection;

export const AttachmentStatus = {
  UNKNOWN: 0,
  UNAVAILABLE: 1,
  OK: 2,
  WARNING: 3,
  ERROR: 4,
} as const satisfies Record<Db.AttachmentStatus, number>;
export type AttachmentStatus = (typeof AttachmentStatus)[keyof typeof AttachmentStatus];
export type AttachmentStatusName = keyof typeof AttachmentStatus;

/** Name ↔ number of one seed enum. */
export interface SeedEnum<N extends string, V extends number> {
  /** The enum's name in the seed (`email_address_direction`), as the API documents it. */
  readonly seedName: string;
  /** [name, number] in the order of the numbers. */
  readonly entries: readonly (readonly [N, V])[];
  /** Number → name (the database column's value); a number outside the enum is UNKNOWN. */
  name(value: number): N;
  /** Name → number; any case is accepted ("note_private" is NOTE_PRIVATE), an unknown name is undefined. */
  number(name: N): V;
  number(name: string): V | undefined;
  /** `0 UNKNOWN, 1 FROM, ...` for descriptions and messages. */
  describe(options?: { exclude?: readonly N[] }): string;
}

function seedEnum<const T extends { UNKNOWN: 0 } & Record<string, number>>(seedName: string, values: T): SeedEnum<keyof T & string, T[keyof T]> {
  type N = keyof T & string;
  type V = T[keyof T];
  const entries = (Object.entries(values) as [N, V][]).sort((a, b) => a[1] - b[1]);
  const byNumber = new Map<number, N>(entries.map(([n, v]) => [v, n]));
  const byUpperName = new Map<string, V>(entries.map(([n, v]) => [n.toUpperCase(), v]));
  function number(name: N): V;
  function number(name: string): V | undefined;
  function number(name: string): V | undefined {
    return byUpperName.get(name.toUpperCase());
  }
  return Object.freeze({
    seedName,
    entries: Object.freeze(entries),
    name: (value: number): N => byNumber.get(value) ?? 'UNKNOWN',
    number,
    describe: (options: { exclude?: readonly N[] } = {}) =>
      entries
        .filter(([n]) => !options.exclude?.includes(n))
        .map(([n, v]) => `${v} ${n}`)
        .join(', '),
  });
}

export const conversationTypes = seedEnum('ticket_conversation_type', TicketConversationType);
export const addressDirections = seedEnum('email_address_direction', EmailAddressDirection);
export const attachmentStatuses = seedEnum('attachment_status', AttachmentStatus);
