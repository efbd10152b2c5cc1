// Ingest one fetched message (PRODUCT.md "Pipeline", "Guarantees"): store the
// raw bytes, parse and map with the mail core, recognise a mail already
// ingested, decide the thread, then write everything — contact, ticket,
// conversation, addresses, attachments (UNAVAILABLE), ingest record and the
// mailbox cursor — in ONE transaction (store.ts). The caller enqueues the
// attachment jobs and runs the post-action only after this returns.
//
// Exactly once: the ingest record is unique per (mailbox, UIDVALIDITY, UID),
// the conversation per (tenant, dedupe key). A mail seen again — after a
// crash, a UIDVALIDITY change or in a second mailbox of the tenant — becomes a
// `duplicate` record pointing at the first one; without a conversation to
// match (skipped, failed) the raw sha256 recognises it.

import { mapMail } from '../conversations/from-mail.js';
import type { MappedMail } from '../conversations/from-mail.js';
import type { Db } from '../db/prisma.js';
import { MailroomError, describeError, isMailroomError } from '../errors.js';
import { unsignedDownloadUrl } from '../attachments/signing.js';
import type { Logger } from '../logging/logger.js';
import { parseMail } from '../mail/parse.js';
import type { ParseLimits } from '../mail/parse.js';
import type { BlobStore } from '../storage/blob-store.js';
import { decideThread } from '../threading/decide.js';
import type { ThreadDecision } from '../threading/decide.js';
import { pgWarnings } from './pg-text.js';
import { allocateAttachmentIds, isUniqueViolation, writeIngest } from './store.js';
import type { IngestOutcome, StoredOutcome } from './store.js';
import { PrismaThreadLookup } from './thread-lookup.js';

export interface IngestContext {
  db: Db;
  blobs: BlobStore;
  /** MAILROOM_SECRET_KEY: verifies Mailroom's signed Message-IDs. */
  secretKey: Buffer;
  /** MAILROOM_PUBLIC_URL: base of the URLs `cid:` images point at. */
  publicUrl: string;
  logger: Logger;
  parseLimits?: Partial<ParseLimits>;
  now?: () => Date;
}

export interface IngestMailbox {
  id: number;
  tenant_id: number;
  address: string;
  aliases: string[];
}

export interface FetchedMessage {
  uidValidity: bigint;
  uid: bigint;
  raw: Buffer;
  /** IMAP INTERNALDATE. */
  internalDate: Date | null;
}

export interface IngestResult {
  recordId: number;
  outcome: IngestOutcome;
  classification: MappedMail['classification'] | null;
  conversationId: number | null;
  ticketId: number | null;
  /** Attachments to enqueue (new conversations only). */
  attachments: { id: number; tenantId: number; storageKey: string }[];
  /** True when this UID was already recorded (nothing was written). */
  alreadyRecorded: boolean;
}

/** Ingest one message; `recordId` re-runs an existing ingest record (reprocess) instead of creating one. */
export async function ingestMessage(
  ctx: IngestContext,
  mailbox: IngestMailbox,
  msg: FetchedMessage,
  opts: { recordId?: number; failWith?: { code: string; message: string; warnings?: string[] } } = {},
): Promise<IngestResult> {
  const { db } = ctx;
  if (opts.recordId === undefined) {
    const seen = await db.ingestRecord.findUnique({
      where: { mailbox_id_uid_validity_uid: { mailbox_id: mailbox.id, uid_validity: msg.uidValidity, uid: msg.uid } },
    });
    if (seen) return alreadyRecorded(seen);
  }
  try {
    return await attempt(ctx, mailbox, msg, opts.recordId, opts.failWith);
  } catch (err) {
    if (!isUniqueViolation(err)) return poisonGuard(ctx, mailbox, msg, opts.recordId, err);
    // Another process stored the same mail (second mailbox) or this UID between our check and commit: run again, it is recognised now.
    ctx.logger.info({ mailboxId: mailbox.id, uid: String(msg.uid) }, 'ingest raced with another writer; retrying once');
    if (opts.recordId === undefined) {
      const seen = await db.ingestRecord.findUnique({
        where: { mailbox_id_uid_validity_uid: { mailbox_id: mailbox.id, uid_validity: msg.uidValidity, uid: msg.uid } },
      });
      if (seen) return alreadyRecorded(seen);
    }
    return attempt(ctx, mailbox, msg, opts.recordId, opts.failWith);
  }
}

/**
 * One bad message must never block a mailbox: when processing it throws and
 * the database is fine, the error is about this message, so it is recorded as
 * failed (raw kept, reprocess later) and the cursor moves on. When the
 * database itself is unreachable the error propagates: the sync fails, backs
 * off, and the message is fetched again.
 */
async function poisonGuard(ctx: IngestContext, mailbox: IngestMailbox, msg: FetchedMessage, recordId: number | undefined, err: unknown): Promise<IngestResult> {
  try {
    await ctx.db.$queryRaw`SELECT 1`;
  } catch {
    throw err;
  }
  ctx.logger.error({ mailboxId: mailbox.id, uid: String(msg.uid), err: describeError(err) }, 'processing a message failed; recorded as failed');
  const raw = await ctx.blobs.put(msg.raw);
  return store(
    { ctx, mailbox, msg, raw, recordId },
    { kind: 'failed', error: { code: 'INTERNAL', message: `Processing the message failed: ${describeError(err)}` }, warnings: [] },
  );
}

function alreadyRecorded(r: { id: number; outcome: IngestOutcome; classification: MappedMail['classification'] | null; conversation_id: number | null; ticket_id: number | null }): IngestResult {
  return { recordId: r.id, outcome: r.outcome, classification: r.classification, conversationId: r.conversation_id, ticketId: r.ticket_id, attachments: [], alreadyRecorded: true };
}

async function attempt(
  ctx: IngestContext,
  mailbox: IngestMailbox,
  msg: FetchedMessage,
  recordId: number | undefined,
  failWith: { code: string; message: string; warnings?: string[] } | undefined,
): Promise<IngestResult> {
  const { db } = ctx;
  const now = ctx.now?.() ?? new Date();
  const raw = await ctx.blobs.put(msg.raw);
  const base = { ctx, mailbox, msg, raw, recordId };
  // Refused before parsing (e.g. over the size limit): recorded with what was kept of it.
  if (failWith) return store(base, { kind: 'failed', error: { code: failWith.code, message: failWith.message }, warnings: failWith.warnings ?? [] });

  let mail;
  try {
    mail = await parseMail(msg.raw, ctx.parseLimits);
  } catch (err) {
    const error = isMailroomError(err) ? { code: err.code, message: err.message } : { code: 'MAIL_UNPARSEABLE', message: `The message cannot be parsed: ${describeError(err)}` };
    const earlier = await sameRawRecord(db, mailbox.tenant_id, raw.sha256, recordId);
    if (earlier) return store(base, { kind: 'duplicate', of: earlier, warnings: [] });
    return store(base, { kind: 'failed', error, warnings: [] });
  }

  const tenant = await tenantContext(db, mailbox.tenant_id);
  const attachmentIds = mail.attachments.length > 0 ? await allocateAttachmentIds(db, mail.attachments.length) : [];
  const cidUrls = new Map<string, string>();
  mail.attachments.forEach((a, i) => {
    if (a.contentId !== null) cidUrls.set(a.contentId, unsignedDownloadUrl(ctx.publicUrl, tenant.slug, attachmentIds[i]!));
  });
  const mapped = mapMail(mail, {
    mailbox: { address: mailbox.address, aliases: mailbox.aliases },
    ownAddresses: tenant.ownAddresses,
    receivedAt: msg.internalDate,
    now,
    cidUrls,
  });
  const warnings = [...mapped.warnings];

  // The same mail already ingested (any mailbox of the tenant, any UIDVALIDITY)?
  const sameMail = await db.conversation.findUnique({
    where: { tenant_id_dedupe_key: { tenant_id: mailbox.tenant_id, dedupe_key: mapped.dedupe_key } },
    select: { id: true, ticket_id: true, ingests: { select: { id: true }, orderBy: { id: 'asc' }, take: 1 } },
  });
  if (sameMail) {
    const of = { recordId: sameMail.ingests[0]?.id ?? null, conversationId: sameMail.id, ticketId: sameMail.ticket_id };
    return store(base, { kind: 'duplicate', of, mapped, warnings });
  }
  const earlier = await sameRawRecord(db, mailbox.tenant_id, raw.sha256, recordId);
  if (earlier) return store(base, { kind: 'duplicate', of: earlier, mapped, warnings });

  if (mapped.thread.message_id !== null) {
    const reused = await db.conversation.count({ where: { tenant_id: mailbox.tenant_id, message_id: mapped.thread.message_id.toLowerCase() } });
    if (reused > 0) warnings.push(`Message-ID <${mapped.thread.message_id}> was already used by a different mail (other From or subject); ingested as a new mail`);
  }

  if (mapped.classification === 'own_address') {
    return store(base, { kind: 'skipped', mapped, warnings: [...warnings, 'skipped: sent from one of the tenant\'s own mailbox addresses'] });
  }

  const thread: ThreadDecision = await decideThread(
    {
      tenantId: mailbox.tenant_id,
      fromAddress: mapped.requester?.email ?? null,
      inReplyTo: mail.inReplyTo,
      references: mail.references,
      subject: mail.subject,
    },
    new PrismaThreadLookup(db),
    ctx.secretKey,
  );
  const automatic = mapped.classification === 'auto_reply' || mapped.classification === 'bounce';
  if (automatic && thread.kind === 'new') {
    // Loop protection: an auto-reply or bounce never opens a ticket.
    return store(base, { kind: 'skipped', mapped, thread, warnings: [...warnings, `skipped: ${mapped.classification} that threads onto no ticket`] });
  }

  // Attachment bytes are stored before the transaction; content addressing makes a retry harmless.
  const storedAttachments = [];
  for (const [i, a] of mail.attachments.entries()) {
    const blob = await ctx.blobs.put(a.content);
    storedAttachments.push({ id: attachmentIds[i] ?? 0, attachment: a, storageKey: blob.key });
  }
  return store(base, { kind: 'conversation', mapped, thread, attachments: storedAttachments, tenant, warnings });
}

async function store(
  base: { ctx: IngestContext; mailbox: IngestMailbox; msg: FetchedMessage; raw: { key: string; sha256: string; size: number }; recordId: number | undefined },
  outcome: StoredOutcome,
): Promise<IngestResult> {
  const written = await writeIngest(base.ctx.db, {
    mailbox: base.mailbox,
    msg: base.msg,
    raw: base.raw,
    recordId: base.recordId,
    outcome: { ...outcome, warnings: pgWarnings(outcome.warnings) },
  });
  base.ctx.logger.info(
    { mailboxId: base.mailbox.id, uid: String(base.msg.uid), recordId: written.recordId, outcome: written.outcome, conversationId: written.conversationId, ticketId: written.ticketId },
    'message ingested',
  );
  return { ...written, alreadyRecorded: false };
}

async function sameRawRecord(db: Db, tenantId: number, sha256: string, exceptRecordId: number | undefined) {
  const r = await db.ingestRecord.findFirst({
    where: { tenant_id: tenantId, raw_sha256: sha256, outcome: { not: 'duplicate' }, ...(exceptRecordId === undefined ? {} : { id: { not: exceptRecordId } }) },
    orderBy: { id: 'asc' },
    select: { id: true, conversation_id: true, ticket_id: true },
  });
  return r ? { recordId: r.id, conversationId: r.conversation_id, ticketId: r.ticket_id } : null;
}

export interface TenantContext {
  id: number;
  slug: string;
  reopenOnReply: boolean;
  systemUserId: number;
  statusIds: Map<string, { id: number; isClosed: boolean }>;
  ownAddresses: string[];
}

async function tenantContext(db: Db, tenantId: number): Promise<TenantContext> {
  const tenant = await db.tenant.findUnique({
    where: { id: tenantId },
    select: {
      id: true,
      slug: true,
      reopen_on_reply: true,
      users: { where: { is_system: true }, select: { id: true }, take: 1 },
      statuses: { select: { id: true, key: true, is_closed: true } },
      mailboxes: { select: { address: true, aliases: true } },
    },
  });
  const system = tenant?.users[0];
  if (!tenant || !system) throw new MailroomError('INTERNAL', `Tenant ${tenantId} or its system user is missing`);
  return {
    id: tenant.id,
    slug: tenant.slug,
    reopenOnReply: tenant.reopen_on_reply,
    systemUserId: system.id,
    statusIds: new Map(tenant.statuses.map((s) => [s.key, { id: s.id, isClosed: s.is_closed }])),
    ownAddresses: tenant.mailboxes.flatMap((m) => [m.address, ...m.aliases]),
  };
}
