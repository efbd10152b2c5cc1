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

import type { Db } from '../db/prisma.js';
import { describeError, isMailroomError } from '../errors.js';
import { unsignedDownloadUrl } from '../attachments/signing.js';
import { moveCursor } from './cursor.js';
import { decideIngest, decideUnparsed } from './decide.js';
import type { IngestDecision } from './decide.js';
import { PrismaIngestLookup } from './lookup.js';
import { pgWarnings } from '../db/text.js';
import { allocateAttachmentIds, writeIngest } from './store.js';
import { loadTenantContext } from './tenant-context.js';
import { placeholderToken, withAttachmentIds, type Mapper, type MapResponse } from './mapping.js';
import { isTransientDbError, isUniqueViolation } from '../db/errors.js';
import type { StoredAttachment, WriteInput } from './store.js';
import type { CursorMove, InboundItem, IngestContext, IngestMailbox, IngestOutcome, IngestResult, TenantFacts } from './types.js';
import type { StoredBlob } from '../storage/blob.js';

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

/** Largest mail handed to the parse threads (see mapItem). */
const POOL_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Parse and map in this thread (no pool, or a mail over POOL_MAX_BYTES). The mail core is imported on
 * first use: a worker whose mail all goes to the pool never holds mailparser & co. in its main thread.
 */
const inThreadMapper: Mapper = { map: async (req) => (await import('./parse-and-map.js')).parseAndMap(req) };

/** Marks the `cid:` placeholders of this process (see mapping.ts). */
const TOKEN = placeholderToken();

/** Warning on a record whose message was over the size limit: only its header was stored. */
export const HEADER_ONLY_WARNING = 'raw message not downloaded (over the size limit): only its header is stored';

/** The warning that says why a conversation has no body: the message was over MAILROOM_MAX_MESSAGE_BYTES. */
export function oversizeWarning(oversize: NonNullable<IngestItem['oversize']>): string {
  return `the message is ${oversize.size} bytes, over the limit of ${oversize.limit} (MAILROOM_MAX_MESSAGE_BYTES); only its header was read`;
}

/**
 * The part of an ingest that depends on nothing stored yet: the raw bytes
 * stored (content-addressed, so harmless if the item turns out known), the
 * tenant's facts, and the parse + map (a worker thread, with a pool). A sync
 * starts it for the next items while the current one commits; everything that
 * reads what earlier mail stored (duplicates, threading) waits for ingestItem,
 * in order. Never rejects: a failure is kept and raised where ingestItem needs
 * the result.
 */
export interface PreparedItem {
  readonly raw: Promise<StoredBlob>;
  /** For an item over the size limit: its header, parsed. */
  readonly mapped: Promise<{ tenant: TenantFacts; res: MapResponse }>;
}

export function prepareItem(ctx: IngestContext, mailbox: IngestMailbox, item: IngestItem): PreparedItem {
  const raw = ctx.blobs.put(item.raw);
  const mapped = mapItem(ctx, mailbox, item);
  raw.catch(() => undefined);
  mapped.catch(() => undefined);
  return { raw, mapped };
}

async function mapItem(ctx: IngestContext, mailbox: IngestMailbox, item: IngestItem): Promise<{ tenant: TenantFacts; res: MapResponse }> {
  const tenant = await (ctx.tenants ? ctx.tenants.get(ctx.db, mailbox.tenant_id) : loadTenantContext(ctx.db, mailbox.tenant_id));
  // Parse and map: the CPU-heavy part, in a worker thread when the context has a pool. A mail
  // over POOL_MAX_BYTES stays in this thread: handing it over copies it (and its attachments
  // back), which costs more memory than the parse; streaming large parts is the cure for both.
  const mapper = ctx.mapper && item.raw.length <= POOL_MAX_BYTES ? ctx.mapper : inThreadMapper;
  const res = await mapper.map({
    raw: item.raw,
    limits: ctx.parseLimits,
    mailbox: { address: mailbox.address, aliases: mailbox.aliases },
    ownAddresses: tenant.ownAddresses,
    receivedAt: item.receivedAt,
    now: ctx.now?.() ?? new Date(),
    attachmentUrl: unsignedDownloadUrl(ctx.publicUrl, tenant.slug, '{id}'),
    token: TOKEN,
  });
  return { tenant, res };
}

export async function ingestItem(ctx: IngestContext, mailbox: IngestMailbox, item: IngestItem, opts: IngestOptions, prepared?: PreparedItem): Promise<IngestResult> {
  const known = opts.recordId === undefined ? await recorded(ctx.db, mailbox, item, opts.cursor) : null;
  if (known) return known;
  try {
    return await attempt(ctx, mailbox, item, opts, prepared ?? prepareItem(ctx, mailbox, item));
  } catch (err) {
    if (!isUniqueViolation(err)) return poisonGuard(ctx, mailbox, item, opts, err);
    // Another process stored the same mail (second mailbox) or this item between our check and commit: run again, it is recognised now.
    ctx.logger.info({ mailboxId: mailbox.id, sourceKey: item.sourceKey }, 'ingest raced with another writer; retrying once');
    const now = opts.recordId === undefined ? await recorded(ctx.db, mailbox, item, opts.cursor) : null;
    if (now) return now;
    try {
      return await attempt(ctx, mailbox, item, opts, prepareItem(ctx, mailbox, item));
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

async function attempt(ctx: IngestContext, mailbox: IngestMailbox, item: IngestItem, opts: IngestOptions, prepared: PreparedItem): Promise<IngestResult> {
  const { db } = ctx;
  const raw = await prepared.raw;
  const common = base(mailbox, item, opts, raw);
  const lookup = new PrismaIngestLookup(db);
  const facts = { tenantId: mailbox.tenant_id, rawSha256: raw.sha256, recordId: opts.recordId };
  const { tenant, res } = await prepared.mapped;
  // Not downloaded (over the size limit): the header that was kept is the mail; unreadable, it fails as before.
  if (item.oversize && !res.ok) {
    const error = { code: 'MAIL_LIMIT_EXCEEDED' as const, message: `The message is ${item.oversize.size} bytes, over the limit of ${item.oversize.limit}` };
    return store(ctx, { ...common, headerOnly: true, header: res.header, decision: { kind: 'failed', error, warnings: [HEADER_ONLY_WARNING] } });
  }
  if (!res.ok) return store(ctx, { ...common, header: res.header, decision: await decideUnparsed(facts, res.error, lookup) });
  const attachmentIds = res.mapped.attachments.length > 0 ? await allocateAttachmentIds(db, res.mapped.attachments.length) : [];
  const mapped = withAttachmentIds(res.mapped, TOKEN, attachmentIds);
  const decided = await decideIngest(facts, mapped, lookup, ctx.secretKey);
  const limitWarnings = item.oversize ? [oversizeWarning(item.oversize), HEADER_ONLY_WARNING] : [];
  const decision = { ...decided, warnings: [...limitWarnings, ...mapped.warnings, ...decided.warnings] };

  // Attachment bytes are stored before the transaction; content addressing makes a retry harmless.
  const attachments: StoredAttachment[] = [];
  if (decision.kind === 'conversation') {
    for (const [i, a] of mapped.attachments.entries()) {
      const blob = await ctx.blobs.put(a.content);
      attachments.push({ id: attachmentIds[i] ?? 0, attachment: a, storageKey: blob.key });
    }
  }
  return store(ctx, { ...common, headerOnly: item.oversize !== undefined, decision, mapped, tenant, attachments });
}

async function store(ctx: IngestContext, input: WriteInput): Promise<IngestResult> {
  const written = await writeIngest(ctx.db, { ...input, decision: { ...input.decision, warnings: pgWarnings(input.decision.warnings) } });
  ctx.logger.info(
    { mailboxId: input.mailbox.id, sourceKey: input.sourceKey, recordId: written.recordId, outcome: written.outcome, conversationId: written.conversationId, ticketId: written.ticketId },
    'message ingested',
  );
  return { ...written, alreadyRecorded: false };
}
