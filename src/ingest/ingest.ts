// Ingest one item a source handed over (PRODUCT.md "Pipeline", "Guarantees"):
// store the raw bytes, parse and map with the mail core, decide what becomes
// of it (decide.ts: duplicate, skipped, thread), then write everything and the
// source's cursor in ONE transaction (store.ts; ingestBatch: several items in
// one, each decided on what the earlier ones wrote). The caller enqueues the
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
import { decideIngest, decideUnparsed, sameMailQuery } from './decide.js';
import type { IngestDecision } from './decide.js';
import { PrismaIngestLookup, type ItemRecord } from './lookup.js';
import { pgWarnings } from '../db/text.js';
import { allocateAttachmentIds, inTransaction, writeIngest, writeIngestIn, type Written } from './store.js';
import { loadTenantContext } from './tenant-context.js';
import { placeholderToken, withAttachmentIds, type Mapper, type MapResponse } from './mapping.js';
import { isLockConflict, isTransientDbError, isUniqueViolation } from '../db/errors.js';
import type { StoredAttachment, WriteInput } from './store.js';
import type { CursorMove, InboundItem, IngestContext, IngestMailbox, IngestOutcome, IngestResult, TenantFacts } from './types.js';
import type { StoredBlob } from '../storage/blob.js';
import type { MappedMail } from '../conversations/from-mail.js';
import type { AttachmentSink, StoredBlobRef } from '../mail/types.js';

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

/** An attachment larger than this is written to the blob store while its mail is parsed, never held whole (mime-body.ts). */
const STREAM_ATTACHMENT_BYTES = 1024 * 1024;

/**
 * Parse and map in this thread (no pool, or a mail over POOL_MAX_BYTES). The mail core is imported on
 * first use: a worker whose mail all goes to the pool never holds mailparser & co. in its main thread.
 */
const inThreadMapper: Mapper = { map: async (req, sink) => (await import('./parse-and-map.js')).parseAndMap(req, sink) };

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
 * tenant's facts, the parse + map (a worker thread, with a pool), and a
 * human's attachments stored with their row ids taken. A sync
 * starts it for the next items while the current one commits; everything that
 * reads what earlier mail stored (duplicates, threading) waits for ingestItem,
 * in order. Never rejects: a failure is kept and raised where ingestItem needs
 * the result.
 */
export interface PreparedItem {
  readonly raw: Promise<StoredBlob>;
  /** For an item over the size limit: its header, parsed. */
  readonly mapped: Promise<{ tenant: TenantFacts; res: MapResponse }>;
  /**
   * A human's attachments, stored and their row ids taken as soon as it is parsed (null for any other mail,
   * whose attachments are stored once it is decided a conversation, see attempt()).
   */
  readonly attachments: Promise<NumberedBlobs | null>;
  /**
   * All have settled, the raw bytes stored, the mail parsed and a human's attachments stored, and it is the
   * kind a batch (ingestBatch) takes (parsed, within the size limit, a human's or without attachments): a
   * batch then never waits for a parse, the blob store or a sequence while it holds locks.
   */
  readonly plain: boolean;
  /** Resolves (never rejects) once `plain` is final. */
  readonly settled: Promise<void>;
}

export function prepareItem(ctx: IngestContext, mailbox: IngestMailbox, item: IngestItem): PreparedItem {
  const raw = putRaw(ctx, item);
  const mapped = mapItem(ctx, mailbox, item);
  // A human's mail nearly always becomes a conversation (or is a copy of one, whose blobs are stored already: content
  // addressing), so its attachments need not wait for the decision: stored here, they are off the path from one commit to
  // the next. Seldom stored for nothing (a copy of a failed mail; an item found recorded already), never for automatic mail.
  const attachments = mapped.then(({ res }) => (res.ok && item.oversize === undefined && res.mapped.classification === 'human' && res.mapped.attachments.length > 0 ? storeNumbered(ctx, res.mapped) : null));
  raw.catch(() => undefined);
  mapped.catch(() => undefined);
  attachments.catch(() => undefined);
  const prepared = { raw, mapped, attachments, plain: false, settled: Promise.resolve() };
  prepared.settled = Promise.all([raw, mapped, attachments]).then(([, m]) => {
    prepared.plain = m.res.ok && item.oversize === undefined && (m.res.mapped.classification === 'human' || m.res.mapped.attachments.length === 0);
  }, () => undefined);
  return prepared;
}

/** The raw bytes into the blob store; a large mail's streamed from its temporary file. */
function putRaw(ctx: IngestContext, item: IngestItem): Promise<StoredBlob> {
  return Buffer.isBuffer(item.raw) ? ctx.blobs.put(item.raw) : ctx.blobs.putStream(item.raw.stream());
}

async function mapItem(ctx: IngestContext, mailbox: IngestMailbox, item: IngestItem): Promise<{ tenant: TenantFacts; res: MapResponse }> {
  const tenant = await (ctx.tenants ? ctx.tenants.get(ctx.db, mailbox.tenant_id) : loadTenantContext(ctx.db, mailbox.tenant_id));
  // Parse and map: the CPU-heavy part, in a worker thread when the context has a pool. A mail
  // over POOL_MAX_BYTES stays in this thread: handing it over copies it (and its attachments
  // back), which costs more memory than the parse. Here its large attachments go straight to
  // the blob store as they are decoded (content addressing makes that harmless should the
  // mail turn out a duplicate or be skipped, as for the raw bytes).
  const pool = ctx.mapper && Buffer.isBuffer(item.raw) && item.raw.length <= POOL_MAX_BYTES ? ctx.mapper : null;
  const sink: AttachmentSink = { thresholdBytes: STREAM_ATTACHMENT_BYTES, store: (content) => ctx.blobs.putStream(content) };
  const res = await (pool ?? inThreadMapper).map({
    raw: item.raw,
    limits: ctx.parseLimits,
    mailbox: { address: mailbox.address, aliases: mailbox.aliases },
    ownAddresses: tenant.ownAddresses,
    receivedAt: item.receivedAt,
    now: ctx.now?.() ?? new Date(),
    attachmentUrl: unsignedDownloadUrl(ctx.publicUrl, tenant.slug, '{id}'),
    token: TOKEN,
  }, pool ? undefined : sink);
  return { tenant, res };
}

export async function ingestItem(ctx: IngestContext, mailbox: IngestMailbox, item: IngestItem, opts: IngestOptions, prepared?: PreparedItem): Promise<IngestResult> {
  // An item already recorded (re-read after the cursor was moved back) is recognised by attempt(), in the
  // statement that asks after the same mail: no round trip of its own for every new item. An item nobody
  // prepared ahead (a big one) is looked up first, before it is stored and parsed for nothing.
  if (prepared === undefined && opts.recordId === undefined) {
    const known = await recorded(ctx.db, mailbox, item, opts.cursor);
    if (known) return known;
  }
  try {
    return await attempt(ctx, mailbox, item, opts, prepared ?? prepareItem(ctx, mailbox, item));
  } catch (err) {
    if (!isUniqueViolation(err) && !isLockConflict(err)) return poisonGuard(ctx, mailbox, item, opts, err);
    // Another process stored the same mail (second mailbox) or this item between our check and commit, or its
    // transaction was chosen to end a deadlock with another writer's (a batch of another mailbox of the tenant):
    // run again, it is recognised now or goes through.
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
  const r = await recordOf(db, mailbox, item);
  return r ? alreadyRecorded(db, mailbox, r, cursor) : null;
}

async function recordOf(db: Db, mailbox: IngestMailbox, item: IngestItem): Promise<ItemRecord | null> {
  const r = await db.ingestRecord.findUnique({
    where: { mailbox_id_source_key: { mailbox_id: mailbox.id, source_key: item.sourceKey } },
    select: { id: true, outcome: true, classification: true, conversation_id: true, ticket_id: true },
  });
  return r ? { id: r.id, outcome: r.outcome, classification: r.classification, conversationId: r.conversation_id, ticketId: r.ticket_id } : null;
}

async function alreadyRecorded(db: Db, mailbox: IngestMailbox, r: ItemRecord, cursor: CursorMove | null): Promise<IngestResult> {
  if (cursor) await moveCursor(db, mailbox.id, cursor);
  return { recordId: r.id, outcome: r.outcome, classification: r.classification, conversationId: r.conversationId, ticketId: r.ticketId, attachments: [], alreadyRecorded: true };
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
  // The item's own record, if it has one, is its result; asking also tells whether the database is fine.
  let known: ItemRecord | null = null;
  try {
    if (opts.recordId === undefined) known = await recordOf(ctx.db, mailbox, item);
    else await ctx.db.$queryRaw`SELECT 1`;
  } catch {
    throw err;
  }
  // Outside the try: a cursor someone else moved meanwhile is CURSOR_MOVED, not this error.
  if (known) return alreadyRecorded(ctx.db, mailbox, known, opts.cursor);
  ctx.logger.error({ mailboxId: mailbox.id, sourceKey: item.sourceKey, err: describeError(err) }, 'processing a message failed; recorded as failed');
  const raw = await putRaw(ctx, item);
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
  const itemKey = opts.recordId === undefined ? { mailboxId: mailbox.id, sourceKey: item.sourceKey } : null;
  if (!res.ok) {
    const known = itemKey ? await recorded(db, mailbox, item, opts.cursor) : null;
    if (known) return known;
    // Not downloaded (over the size limit): the header that was kept is the mail; unreadable, it fails as before.
    if (item.oversize) {
      const error = { code: 'MAIL_LIMIT_EXCEEDED' as const, message: `The message is ${item.oversize.size} bytes, over the limit of ${item.oversize.limit}` };
      return store(ctx, { ...common, headerOnly: true, header: res.header, decision: { kind: 'failed', error, warnings: [HEADER_ONLY_WARNING] } });
    }
    return store(ctx, { ...common, header: res.header, decision: await decideUnparsed(facts, res.error, lookup) });
  }
  const same = await lookup.sameMailAndRecord(sameMailQuery(facts, res.mapped), itemKey);
  if (same.record) return alreadyRecorded(db, mailbox, same.record, opts.cursor);
  const decided = await decideIngest(facts, res.mapped, lookup, ctx.secretKey, same.facts);
  const limitWarnings = item.oversize ? [oversizeWarning(item.oversize), HEADER_ONLY_WARNING] : [];
  const decision = { ...decided, warnings: [...limitWarnings, ...res.mapped.warnings, ...decided.warnings] };
  if (decision.kind !== 'conversation' || res.mapped.attachments.length === 0) {
    return store(ctx, { ...common, headerOnly: item.oversize !== undefined, decision, mapped: res.mapped, tenant, attachments: [] });
  }
  // A human's were stored while it was prepared; anyone else's only now that it is a conversation (an auto-reply's or
  // a bounce's are never stored when it is skipped). A write ahead that failed is tried once more here, as a batch's
  // fallback always did: a blip that has passed must not fail the sync.
  const stored = (await prepared.attachments.catch(() => null)) ?? (await storeNumbered(ctx, res.mapped));
  const rows = attachmentRows(res.mapped, stored);
  return store(ctx, { ...common, headerOnly: item.oversize !== undefined, decision, tenant, ...rows });
}

/** A mail's attachment bytes in the blob store and the ids of their rows-to-be (taken before the transaction, so `cid:` URLs can name them). */
interface NumberedBlobs {
  ids: number[];
  blobs: StoredBlobRef[];
}

/**
 * A mail's attachment bytes written to the blob store, all at once (those streamed while it was parsed are stored
 * already; content addressing makes a retry harmless), while the ids are taken. An id taken for a mail that turns
 * out a duplicate, or is never committed, is a gap in the sequence.
 */
async function storeNumbered(ctx: IngestContext, mail: MappedMail): Promise<NumberedBlobs> {
  const puts = Promise.all(mail.attachments.map((a) => a.stored ?? ctx.blobs.put(a.content ?? Buffer.alloc(0), a.content ? a.sha256 : undefined)));
  puts.catch(() => undefined); // awaited below, after the ids
  const ids = await allocateAttachmentIds(ctx.db, mail.attachments.length);
  return { ids, blobs: await puts };
}

/** The mail with its `cid:` URLs naming the attachment rows' ids, and those rows (their bytes in `blobs`, in the same order). */
function attachmentRows(mail: MappedMail, { ids, blobs }: NumberedBlobs): { mapped: MappedMail; attachments: StoredAttachment[] } {
  const mapped = withAttachmentIds(mail, TOKEN, ids);
  return { mapped, attachments: mapped.attachments.map((a, i) => ({ id: ids[i] ?? 0, attachment: a, storageKey: blobs[i]!.key })) };
}

async function store(ctx: IngestContext, input: WriteInput): Promise<IngestResult> {
  const written = await writeIngest(ctx.db, storable(input));
  logIngested(ctx, input, written);
  return { ...written, alreadyRecorded: false };
}

function storable(input: WriteInput): WriteInput {
  return { ...input, decision: { ...input.decision, warnings: pgWarnings(input.decision.warnings) } };
}

function logIngested(ctx: IngestContext, input: WriteInput, written: Written): void {
  ctx.logger.info(
    { mailboxId: input.mailbox.id, sourceKey: input.sourceKey, recordId: written.recordId, outcome: written.outcome, conversationId: written.conversationId, ticketId: written.ticketId },
    'message ingested',
  );
}

/** An item of a batch: prepared ahead, with the cursor move that goes with it. */
export interface BatchItem {
  item: IngestItem;
  cursor: CursorMove;
  prepared: PreparedItem;
}

/**
 * Several items a sync prepared ahead, in ONE transaction: each commit costs a
 * round trip, PostgreSQL's WAL flush (~1 ms) and Prisma's transaction set-up,
 * which one transaction per mail paid for every mail of a backlog. Inside it
 * the items are decided and written in order, exactly as ingestItem would one
 * by one (each sees what the earlier ones wrote: a reply threads onto a ticket
 * the batch opened, a copy is its duplicate), and the cursor moves item by
 * item, so exactly once holds as before: all of the batch is stored, or none.
 *
 * Only the plain case is batched (PreparedItem.plain): items that parsed,
 * within the size limit, and no automatic mail with attachments (those are
 * stored only once it is a conversation). For anything else, and when the
 * transaction fails for any reason (a message whose processing throws, a
 * concurrent writer, the database), this returns null with nothing written,
 * and the caller ingests the items one by one with ingestItem, which records a
 * bad message as failed on its own, retries a race, and raises an
 * infrastructure failure.
 */
export async function ingestBatch(ctx: IngestContext, mailbox: IngestMailbox, batch: readonly BatchItem[]): Promise<IngestResult[] | null> {
  // A plain item's raw bytes, parse and attachments have all succeeded: awaiting them cannot throw.
  const ready = await Promise.all(
    batch.map(async (b) => {
      await b.prepared.settled;
      if (!b.prepared.plain) return null;
      const [{ tenant, res }, raw, stored] = await Promise.all([b.prepared.mapped, b.prepared.raw, b.prepared.attachments]);
      return res.ok ? { ...b, raw, tenant, mapped: res.mapped, stored: stored ?? { ids: [], blobs: [] } } : null;
    }),
  );
  if (ready.some((r) => r === null)) return null;
  const items = ready.filter((r) => r !== null);
  try {
    const inputs: WriteInput[] = [];
    const results = await inTransaction(ctx.db, async (tx) => {
      // Batches of a tenant take turns: the tenant's row (its ticket counter) first, waiting while holding
      // nothing, so two batches never deadlock. Past it, a wait for a row that another writer holds (a
      // contact or ticket of a one-by-one ingest, which may be waiting for this batch) is given up after
      // 200 ms, well before PostgreSQL's deadlock check (1 s by default): the batch's items then go one by
      // one, and a one-by-one ingest that still loses a deadlock runs once more (ingestItem).
      await tx.$queryRaw`SELECT id FROM tenants WHERE id = ${mailbox.tenant_id}::int FOR NO KEY UPDATE`;
      await tx.$executeRaw`SET LOCAL lock_timeout = '200ms'`;
      const lookup = new PrismaIngestLookup(tx);
      const out: IngestResult[] = [];
      for (const [i, r] of items.entries()) {
        const common = base(mailbox, r.item, { cursor: r.cursor }, r.raw);
        const facts = { tenantId: mailbox.tenant_id, rawSha256: r.raw.sha256 };
        const same = await lookup.sameMailAndRecord(sameMailQuery(facts, r.mapped), { mailboxId: mailbox.id, sourceKey: r.item.sourceKey });
        if (same.record) {
          out.push(await alreadyRecorded(tx, mailbox, same.record, r.cursor));
          continue;
        }
        const decided = await decideIngest(facts, r.mapped, lookup, ctx.secretKey, same.facts);
        const decision = { ...decided, warnings: [...r.mapped.warnings, ...decided.warnings] };
        const rows = decision.kind === 'conversation' ? attachmentRows(r.mapped, r.stored) : { mapped: r.mapped, attachments: [] };
        const input = storable({ ...common, decision, tenant: r.tenant, ...rows });
        inputs[i] = input;
        out.push({ ...(await writeIngestIn(tx, input)), alreadyRecorded: false });
      }
      return out;
    });
    results.forEach((written, i) => {
      const input = inputs[i];
      if (input && !written.alreadyRecorded) logIngested(ctx, input, written);
    });
    return results;
  } catch (err) {
    ctx.logger.info({ mailboxId: mailbox.id, items: batch.length, err: describeError(err) }, 'a batch was not stored; its items are ingested one by one');
    return null;
  }
}
