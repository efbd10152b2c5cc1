// Ingest one item a source handed over (PRODUCT.md "Pipeline", "Guarantees"):
// store the raw bytes, parse and map with the mail core, decide what becomes
// of it (decide.ts: duplicate, skipped, thread), then write everything and the
// source's cursor in ONE transaction (store.ts). The caller enqueues the
// attachment jobs and acknowledges the item to its source only after this
// returns. Ingest knows no protocol: an item is raw bytes, a source key, a
// received time and a cursor move.
//
// Exactly once: the ingest record is unique per (mailbox, source key), the
// conversation per (tenant, dedupe key). A mail seen again — after a crash, a
// re-numbered folder or in a second mailbox of the tenant — becomes a
// `duplicate` record pointing at the first one; without a conversation to
// match (skipped, failed) the raw sha256 recognises it.

import { mapMail } from '../conversations/from-mail.js';
import type { Db } from '../db/prisma.js';
import { describeError, isMailroomError } from '../errors.js';
import { unsignedDownloadUrl } from '../attachments/signing.js';
import { parseMail } from '../mail/parse.js';
import { moveCursor } from './cursor.js';
import { decideIngest, decideUnparsed } from './decide.js';
import type { IngestDecision } from './decide.js';
import { PrismaIngestLookup } from './lookup.js';
import { pgWarnings } from '../db/text.js';
import { allocateAttachmentIds, writeIngest } from './store.js';
import { loadTenantContext } from './tenant-context.js';
import { isTransientDbError, isUniqueViolation } from '../db/errors.js';
import type { StoredAttachment, WriteInput } from './store.js';
import type { CursorMove, InboundItem, IngestContext, IngestMailbox, IngestOutcome, IngestResult } from './types.js';

/** The item as ingest takes it: its cursor comes as a move (IngestOptions.cursor). */
export type IngestItem = Pick<InboundItem, 'sourceKey' | 'raw' | 'receivedAt' | 'oversize'>;

export interface IngestOptions {
  /** The cursor move that goes with the item, in its transaction; null: none. */
  cursor: CursorMove | null;
  /** Re-run this existing ingest record (reprocess) instead of creating one. */
  recordId?: number;
  /** With recordId: its outcome as read; a record changed meanwhile is left alone (CONFLICT). */
  recordOutcome?: IngestOutcome;
}

/** Warning on a record whose message was over the size limit: only its header was stored. */
export const HEADER_ONLY_WARNING = 'raw message not downloaded (over the size limit): only its header is stored';

export async function ingestItem(ctx: IngestContext, mailbox: IngestMailbox, item: IngestItem, opts: IngestOptions): Promise<IngestResult> {
  const known = opts.recordId === undefined ? await recorded(ctx.db, mailbox, item, opts.cursor) : null;
  if (known) return known;
  try {
    return await attempt(ctx, mailbox, item, opts);
  } catch (err) {
    if (!isUniqueViolation(err)) return poisonGuard(ctx, mailbox, item, opts, err);
    // Another process stored the same mail (second mailbox) or this item between our check and commit: run again, it is recognised now.
    ctx.logger.info({ mailboxId: mailbox.id, sourceKey: item.sourceKey }, 'ingest raced with another writer; retrying once');
    const now = opts.recordId === undefined ? await recorded(ctx.db, mailbox, item, opts.cursor) : null;
    if (now) return now;
    try {
      return await attempt(ctx, mailbox, item, opts);
    } catch (again) {
      return poisonGuard(ctx, mailbox, item, opts, again);
    }
  }
}

/** The record of an item already ingested, with the cursor moved past it (nothing else is written). */
async function recorded(db: Db, mailbox: IngestMailbox, item: IngestItem, cursor: CursorMove | null): Promise<IngestResult | null> {
  const r = await db.ingestRecord.findUnique({ where: { mailbox_id_source_key: { mailbox_id: mailbox.id, source_key: item.sourceKey } } });
  if (!r) return null;
  if (cursor) await moveCursor(db, mailbox.id, cursor);
  return { recordId: r.id, outcome: r.outcome, classification: r.classification, conversationId: r.conversation_id, ticketId: r.ticket_id, attachments: [], alreadyRecorded: true };
}

/**
 * One bad message must never block a mailbox: when processing it throws and
 * the database is fine, the error is about this message, so it is recorded as
 * failed (raw kept, reprocess later) and the cursor moves on. Infrastructure
 * failures (the database unreachable, the blob store failing, a cursor moved
 * by someone else) propagate instead: the sync fails or stops, backs off, and
 * the message is fetched again — a good mail never becomes `failed` for them.
 */
async function poisonGuard(ctx: IngestContext, mailbox: IngestMailbox, item: IngestItem, opts: IngestOptions, err: unknown): Promise<IngestResult> {
  // Not the message's fault: infrastructure, or a record someone else changed meanwhile.
  if ((isMailroomError(err) && (err.retryable || err.code === 'CONFLICT')) || isTransientDbError(err)) throw err;
  try {
    await ctx.db.$queryRaw`SELECT 1`;
  } catch {
    throw err;
  }
  ctx.logger.error({ mailboxId: mailbox.id, sourceKey: item.sourceKey, err: describeError(err) }, 'processing a message failed; recorded as failed');
  const raw = await ctx.blobs.put(item.raw);
  const decision: IngestDecision = { kind: 'failed', error: { code: 'INTERNAL', message: `Processing the message failed: ${describeError(err)}` }, warnings: [] };
  return store(ctx, { ...base(mailbox, item, opts, raw), decision });
}

function base(mailbox: IngestMailbox, item: IngestItem, opts: IngestOptions, raw: WriteInput['raw']) {
  return { mailbox, sourceKey: item.sourceKey, receivedAt: item.receivedAt, raw, recordId: opts.recordId, recordOutcome: opts.recordOutcome, cursor: opts.cursor };
}

async function attempt(ctx: IngestContext, mailbox: IngestMailbox, item: IngestItem, opts: IngestOptions): Promise<IngestResult> {
  const { db } = ctx;
  const raw = await ctx.blobs.put(item.raw);
  const common = base(mailbox, item, opts, raw);
  const lookup = new PrismaIngestLookup(db);
  const facts = { tenantId: mailbox.tenant_id, rawSha256: raw.sha256, recordId: opts.recordId };
  // Refused before parsing (over the size limit): recorded with the header that was kept.
  if (item.oversize) {
    const error = { code: 'MAIL_LIMIT_EXCEEDED' as const, message: `The message is ${item.oversize.size} bytes, over the limit of ${item.oversize.limit}` };
    return store(ctx, { ...common, headerOnly: true, decision: { kind: 'failed', error, warnings: [HEADER_ONLY_WARNING] } });
  }

  let mail;
  try {
    mail = await parseMail(item.raw, ctx.parseLimits);
  } catch (err) {
    const error = isMailroomError(err) ? { code: err.code, message: err.message } : { code: 'MAIL_UNPARSEABLE' as const, message: `The message cannot be parsed: ${describeError(err)}` };
    return store(ctx, { ...common, decision: await decideUnparsed(facts, error, lookup) });
  }

  const tenant = await (ctx.tenants ? ctx.tenants.get(db, mailbox.tenant_id) : loadTenantContext(db, mailbox.tenant_id));
  const attachmentIds = mail.attachments.length > 0 ? await allocateAttachmentIds(db, mail.attachments.length) : [];
  const cidUrls = new Map<string, string>();
  mail.attachments.forEach((a, i) => {
    if (a.contentId !== null) cidUrls.set(a.contentId, unsignedDownloadUrl(ctx.publicUrl, tenant.slug, attachmentIds[i]!));
  });
  const mapped = mapMail(mail, {
    mailbox: { address: mailbox.address, aliases: mailbox.aliases },
    ownAddresses: tenant.ownAddresses,
    receivedAt: item.receivedAt,
    now: ctx.now?.() ?? new Date(),
    cidUrls,
  });
  const decided = await decideIngest(facts, mapped, lookup, ctx.secretKey);
  const decision = { ...decided, warnings: [...mapped.warnings, ...decided.warnings] };

  // Attachment bytes are stored before the transaction; content addressing makes a retry harmless.
  const attachments: StoredAttachment[] = [];
  if (decision.kind === 'conversation') {
    for (const [i, a] of mail.attachments.entries()) {
      const blob = await ctx.blobs.put(a.content);
      attachments.push({ id: attachmentIds[i] ?? 0, attachment: a, storageKey: blob.key });
    }
  }
  return store(ctx, { ...common, decision, mapped, tenant, attachments });
}

async function store(ctx: IngestContext, input: WriteInput): Promise<IngestResult> {
  const written = await writeIngest(ctx.db, { ...input, decision: { ...input.decision, warnings: pgWarnings(input.decision.warnings) } });
  ctx.logger.info(
    { mailboxId: input.mailbox.id, sourceKey: input.sourceKey, recordId: written.recordId, outcome: written.outcome, conversationId: written.conversationId, ticketId: written.ticketId },
    'message ingested',
  );
  return { ...written, alreadyRecorded: false };
}
