// What becomes of a fetched mail (PRODUCT.md "Guarantees", "Loops and
// automatic mail"), decided over a lookup interface so the rules stay pure and
// are tested without a database — the way src/threading/decide.ts decides the
// thread. In order:
//   1. the same mail already ingested in the tenant (Message-ID + From +
//      subject, else From + Date + subject + body: the dedupe key), or the
//      same raw bytes already recorded → `duplicate` of the first one;
//   2. a Message-ID another mail already used → still ingested, with a warning;
//   3. sent from one of the tenant's own mailbox addresses → `skipped`;
//   4. an auto-reply or bounce that threads onto no ticket → `skipped`
//      (it never opens a ticket: loop protection);
//   5. otherwise a conversation, on the ticket the thread decision names.
// A mail that cannot be parsed is a duplicate of the same raw bytes, if any,
// else `failed`.

import type { ErrorCode } from '../errors.js';
import type { Classification } from '../mail/classify.js';
import { decideThread } from '../threading/decide.js';
import type { ThreadDecision, ThreadInput, ThreadLookup } from '../threading/decide.js';

export interface DuplicateOf {
  recordId: number | null;
  conversationId: number | null;
  ticketId: number | null;
}

/** What is already stored about a mail, asked in one go (one round trip for the database). */
export interface SameMailFacts {
  /** The conversation already stored under the mail's dedupe key, as its first ingest record. */
  sameConversation: DuplicateOf | null;
  /** See IngestLookup.recordByRawSha256. */
  sameRaw: DuplicateOf | null;
  /** Whether a conversation of the tenant already carries the mail's Message-ID (lower-cased). */
  messageIdUsed: boolean;
}

/** What sameMail asks about a mail (sameMailQuery builds it). */
export interface SameMailQuery {
  tenantId: number;
  dedupeKey: string;
  rawSha256: string;
  exceptRecordId: number | undefined;
  /** Lower-cased. */
  messageId: string | null;
}

/** The facts the rules need, per tenant; the database implements it (lookup.ts). */
export interface IngestLookup extends ThreadLookup {
  sameMail(q: SameMailQuery): Promise<SameMailFacts>;
  /**
   * The first ingest record of these raw bytes that made something (a
   * conversation, or a deliberate skip), other than `exceptRecordId`. A failed
   * one does not count: a copy of it gets its own chance (and its own failed
   * record, left in the mailbox), never the post-action of a duplicate.
   */
  recordByRawSha256(tenantId: number, sha256: string, exceptRecordId: number | undefined): Promise<DuplicateOf | null>;
}

/** The mapped mail as far as the rules look at it (MappedMail has all of it). */
export interface DecisionMail {
  classification: Classification;
  dedupe_key: string;
  thread: { message_id: string | null };
  /** The sender and threading headers, as decideThread takes them. */
  threadInput: Omit<ThreadInput, 'tenantId'>;
}

export type IngestDecision =
  | { kind: 'failed'; error: { code: ErrorCode; message: string }; warnings: string[] }
  | { kind: 'duplicate'; of: DuplicateOf; warnings: string[] }
  | { kind: 'skipped'; thread?: ThreadDecision; warnings: string[] }
  | { kind: 'conversation'; thread: ThreadDecision; warnings: string[] };

export interface DecisionInput {
  tenantId: number;
  rawSha256: string;
  /** Re-run of this ingest record (reprocess): its own raw bytes are not a duplicate of itself. */
  recordId?: number;
}

/** A mail that could not be parsed: a duplicate of the same bytes stored before, else failed. */
export async function decideUnparsed(input: DecisionInput, error: { code: ErrorCode; message: string }, lookup: IngestLookup): Promise<IngestDecision> {
  const earlier = await lookup.recordByRawSha256(input.tenantId, input.rawSha256, input.recordId);
  if (earlier) return { kind: 'duplicate', of: earlier, warnings: [] };
  return { kind: 'failed', error, warnings: [] };
}

export function sameMailQuery(input: DecisionInput, mail: DecisionMail): SameMailQuery {
  return { tenantId: input.tenantId, dedupeKey: mail.dedupe_key, rawSha256: input.rawSha256, exceptRecordId: input.recordId, messageId: mail.thread.message_id?.toLowerCase() ?? null };
}

/** `known`: the answer to sameMailQuery(input, mail), when the caller asked it already (with more, in the same round trip). */
export async function decideIngest(input: DecisionInput, mail: DecisionMail, lookup: IngestLookup, secretKey: Buffer, known?: SameMailFacts): Promise<IngestDecision> {
  const warnings: string[] = [];
  const messageId = mail.thread.message_id;
  const facts = known ?? (await lookup.sameMail(sameMailQuery(input, mail)));
  if (facts.sameConversation) return { kind: 'duplicate', of: facts.sameConversation, warnings };
  if (facts.sameRaw) return { kind: 'duplicate', of: facts.sameRaw, warnings };
  if (messageId !== null && facts.messageIdUsed) {
    warnings.push(`Message-ID <${messageId}> was already used by a different mail (other From or subject); ingested as a new mail`);
  }
  if (mail.classification === 'own_address') {
    return { kind: 'skipped', warnings: [...warnings, "skipped: sent from one of the tenant's own mailbox addresses"] };
  }
  const thread = await decideThread({ tenantId: input.tenantId, ...mail.threadInput }, lookup, secretKey);
  const automatic = mail.classification === 'auto_reply' || mail.classification === 'bounce';
  if (automatic && thread.kind === 'new') {
    return { kind: 'skipped', thread, warnings: [...warnings, `skipped: ${mail.classification} that threads onto no ticket`] };
  }
  return { kind: 'conversation', thread, warnings };
}
