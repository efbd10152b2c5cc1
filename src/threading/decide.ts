// Which ticket an inbound mail belongs to (PRODUCT.md "Threading"), decided
// over a lookup interface so the rules stay pure and testable; the database
// implements ThreadLookup. Order of evidence:
//   1. In-Reply-To, then References from the newest (last) backwards: a
//      Mailroom signed Message-ID that verifies for this tenant and names an
//      existing ticket, or any id the tenant already knows (inbound or outbound);
//   2. the subject tag, which joins only when the sender is already a
//      participant of that ticket (nobody posts into a ticket by guessing its
//      number);
//   3. otherwise a new ticket.

import { MailroomError } from '../errors.js';
import { parseSignedMessageId } from './message-id.js';
import { findSubjectTag } from './subject-tag.js';
import type { SubjectTagFormat } from './subject-tag.js';

export interface ThreadLookup {
  /** Ticket ids (of this tenant) that already know any of these Message-IDs (inbound or outbound). */
  ticketsByMessageIds(tenantId: number, messageIds: readonly string[]): Promise<{ messageId: string; ticketId: number }[]>;
  /** The ticket with this tag number in the tenant, or null. */
  ticketByNumber(tenantId: number, ticketNumber: number): Promise<{ ticketId: number } | null>;
  /** Whether the address (lower-case) is already a participant of the ticket (requester or any address on its conversations). */
  isParticipant(tenantId: number, ticketId: number, address: string): Promise<boolean>;
  /** Whether the ticket exists in this tenant. */
  ticketExists(tenantId: number, ticketId: number): Promise<boolean>;
}

export type ThreadReason = 'references' | 'signed_message_id' | 'subject_tag' | 'new_ticket' | 'subject_tag_not_participant';

export type ThreadDecision =
  | { kind: 'existing'; ticketId: number; reason: ThreadReason }
  | { kind: 'new'; reason: 'new_ticket' | 'subject_tag_not_participant'; ticketNumberTried?: number };

export interface ThreadInput {
  tenantId: number;
  /** The sender's address (From), or null when the mail has none usable. */
  fromAddress: string | null;
  /** Ids without angle brackets, as parsed. */
  inReplyTo: readonly string[];
  /** Ids without angle brackets, in header order (newest last). */
  references: readonly string[];
  subject: string;
}

export interface ThreadOptions {
  /** Message-IDs looked at, newest first (default 50). */
  maxReferences?: number;
  /** Subject tag format (default `[#<n>]`). */
  subjectTag?: SubjectTagFormat;
  /** Characters of the subject searched for a tag (default 2000). */
  maxSubjectChars?: number;
}

export const DEFAULT_MAX_REFERENCES = 50;
/** RFC 5322 line limit; a longer "id" is junk and is not sent to the lookup. */
const MAX_ID_CHARS = 998;

export async function decideThread(
  input: ThreadInput,
  lookup: ThreadLookup,
  key: Buffer,
  opts: ThreadOptions = {},
): Promise<ThreadDecision> {
  const { tenantId } = input;
  if (!Number.isSafeInteger(tenantId) || tenantId < 1) {
    throw new MailroomError('VALIDATION', 'decideThread needs a positive tenant id');
  }
  const wanted = opts.maxReferences ?? DEFAULT_MAX_REFERENCES;
  const maxReferences = Number.isFinite(wanted) ? Math.max(0, Math.floor(wanted)) : DEFAULT_MAX_REFERENCES;

  const byIds = await matchMessageIds(tenantId, candidateIds(input, maxReferences), lookup, key);
  if (byIds !== null) return byIds;

  const ticketNumber = findSubjectTag(input.subject, {
    ...(opts.subjectTag === undefined ? {} : { format: opts.subjectTag }),
    ...(opts.maxSubjectChars === undefined ? {} : { maxChars: opts.maxSubjectChars }),
  });
  if (ticketNumber === null) return { kind: 'new', reason: 'new_ticket' };

  const ticket = await lookup.ticketByNumber(tenantId, ticketNumber);
  if (ticket === null) return { kind: 'new', reason: 'new_ticket', ticketNumberTried: ticketNumber };

  const from = input.fromAddress?.trim().toLowerCase() ?? '';
  if (from !== '' && (await lookup.isParticipant(tenantId, ticket.ticketId, from))) {
    return { kind: 'existing', ticketId: ticket.ticketId, reason: 'subject_tag' };
  }
  return { kind: 'new', reason: 'subject_tag_not_participant', ticketNumberTried: ticketNumber };
}

/**
 * The ids to look at, newest first: In-Reply-To in header order, then
 * References from the last backwards; de-duplicated, junk dropped, capped at
 * `max` ids kept and `4 * max` entries read (a header of repeats stays cheap).
 */
export function candidateIds(input: Pick<ThreadInput, 'inReplyTo' | 'references'>, max: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let budget = max * 4;
  const add = (id: string): boolean => {
    if (out.length >= max || budget-- <= 0) return false;
    const clean = id.trim();
    if (clean === '' || clean.length > MAX_ID_CHARS || seen.has(clean)) return true;
    seen.add(clean);
    out.push(clean);
    return true;
  };
  for (const id of input.inReplyTo) if (!add(id)) return out;
  for (let i = input.references.length - 1; i >= 0; i--) if (!add(input.references[i] ?? '')) return out;
  return out;
}

async function matchMessageIds(
  tenantId: number,
  ids: readonly string[],
  lookup: ThreadLookup,
  key: Buffer,
): Promise<ThreadDecision | null> {
  if (ids.length === 0) return null;
  let known: Map<string, number> | null = null;
  for (const id of ids) {
    const signed = parseSignedMessageId(id, key);
    if (signed !== null && signed.tenantId === tenantId && (await lookup.ticketExists(tenantId, signed.ticketId))) {
      return { kind: 'existing', ticketId: signed.ticketId, reason: 'signed_message_id' };
    }
    // Not ours, forged, another tenant's or a deleted ticket's: only what the tenant has stored counts.
    known ??= await knownIds(tenantId, ids, lookup);
    const ticketId = known.get(id.trim().toLowerCase());
    if (ticketId !== undefined) return { kind: 'existing', ticketId, reason: 'references' };
  }
  return null;
}

/**
 * One lookup for all ids. Keys are lower-cased so a store that compares ids
 * case-insensitively still matches; when one id names several tickets the
 * highest (newest) ticket id wins, so the answer does not depend on row order.
 */
async function knownIds(tenantId: number, ids: readonly string[], lookup: ThreadLookup): Promise<Map<string, number>> {
  const asked = new Set(ids.map((id) => id.toLowerCase()));
  const rows = await lookup.ticketsByMessageIds(tenantId, ids);
  const known = new Map<string, number>();
  for (const row of rows) {
    const id = row.messageId.toLowerCase();
    if (!asked.has(id) || !Number.isSafeInteger(row.ticketId) || row.ticketId < 1) continue;
    const prev = known.get(id);
    if (prev === undefined || row.ticketId > prev) known.set(id, row.ticketId);
  }
  return known;
}
