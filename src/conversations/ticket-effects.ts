// What conversations do to the ticket they are written onto, decided in one
// place for mail and the API (PRODUCT.md "Pipeline", the seed endpoint):
// - a status the writer gives (the API's `sys_status`) is the ticket's status
//   after that conversation;
// - otherwise an inbound reply from a person reopens a closed ticket as `open`
//   when the tenant's `reopen_on_reply` is on;
// - REPLY_INBOUND, REPLY_OUTBOUND and FORWARD move the last activity forward,
//   notes and suggested replies do not;
// - automatic mail (auto-replies, bounces) joins the ticket silently: no
//   reopen, no activity.
// Pure: write.ts applies the result.

import type { TicketConversationTypeName } from '../wire/enums.js';

export interface StatusRef {
  id: number;
  isClosed: boolean;
}

export interface TicketRules {
  reopenOnReply: boolean;
  /** The tenant's `open` status; without one nothing is reopened. */
  open: StatusRef | null;
}

/** The parts of a conversation that decide its effect on the ticket. */
export interface ConversationEffect {
  type: TicketConversationTypeName;
  /** An auto-reply or bounce. */
  automatic: boolean;
  /** The ticket's status after this conversation, when the writer says so. */
  status: StatusRef | null;
  created: Date;
}

export interface TicketEffects {
  /** The ticket's status after each conversation, in order: each one's `sys_status`. */
  statuses: StatusRef[];
  /** The status after the last one. */
  status: StatusRef;
  /** The latest `created` of the conversations that move the last activity, or null when none does. */
  lastActivity: Date | null;
}

const ACTIVITY_TYPES: ReadonlySet<TicketConversationTypeName> = new Set(['REPLY_INBOUND', 'REPLY_OUTBOUND', 'FORWARD']);

export function movesLastActivity(c: Pick<ConversationEffect, 'type' | 'automatic'>): boolean {
  return !c.automatic && ACTIVITY_TYPES.has(c.type);
}

/** The ticket's status after one conversation. */
export function statusAfter(current: StatusRef, c: ConversationEffect, rules: TicketRules): StatusRef {
  if (c.status) return c.status;
  if (!c.automatic && c.type === 'REPLY_INBOUND' && current.isClosed && rules.reopenOnReply && rules.open) return rules.open;
  return current;
}

/** The effect of conversations written in this order onto a ticket whose status is `current`. */
export function ticketEffects(current: StatusRef, conversations: readonly ConversationEffect[], rules: TicketRules): TicketEffects {
  const statuses: StatusRef[] = [];
  let status = current;
  let lastActivity: Date | null = null;
  for (const c of conversations) {
    status = statusAfter(status, c, rules);
    statuses.push(status);
    if (movesLastActivity(c) && (lastActivity === null || c.created > lastActivity)) lastActivity = c.created;
  }
  return { statuses, status, lastActivity };
}
