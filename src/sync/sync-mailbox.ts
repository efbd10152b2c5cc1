// One sync run of one mailbox (PRODUCT.md "Mailbox sync"): take the mailbox's
// lock, connect, read every message past the cursor by UID (never by \Seen),
// ingest each (src/ingest), then enqueue its attachment jobs and run the
// post-action, all only after the ingest transaction committed. Where the
// server offers IDLE the run stays connected for `idleMs` and syncs again on
// every EXISTS, so new mail shows up within seconds; the poll schedule and
// the follow-up job the worker requests cover the rest.
//
// The backfill start is `since`, else the moment the mailbox was added: a
// message whose INTERNALDATE is older is never ingested, on the first run, on
// a UIDVALIDITY change (the folder is re-read from that date and every
// message already ingested is recognised) or after a crash mid-scan.

import { ImapFlow } from 'imapflow';
import type { FetchMessageObject } from 'imapflow';
import type { Db } from '../db/prisma.js';
import { describeError, isMailroomError } from '../errors.js';
import type { Mailbox } from '../generated/prisma/client.js';
import { ingestMessage } from '../ingest/ingest.js';
import { HEADER_ONLY_WARNING } from '../ingest/reprocess.js';
import type { IngestContext, IngestResult } from '../ingest/ingest.js';
import type { Logger } from '../logging/logger.js';
import { encryptSecret } from '../crypto/secrets.js';
import { imapClientOptions } from '../mailboxes/imap.js';
import { accessTokenCache } from '../mailboxes/oauth.js';
import type { ImapTimeouts } from '../mailboxes/imap.js';
import type { Metrics } from '../metrics/metrics.js';
import type { AttachmentJobData } from '../queues/queues.js';
import { nextDelayMs } from './backoff.js';
import type { FailureKind } from './backoff.js';
import { tryLockMailbox } from './lock.js';

export interface SyncDeps {
  db: Db;
  databaseUrl: string;
  ingest: IngestContext;
  /** Current MAILROOM_SECRET_KEY first (decrypts mailbox secrets). */
  secretKeys: readonly Buffer[];
  logger: Logger;
  metrics?: Metrics;
  enqueueAttachments: (rows: AttachmentJobData[]) => Promise<void>;
  imapTimeouts?: Partial<ImapTimeouts>;
  /** Messages larger than this are not downloaded; they are recorded as failed. */
  maxRawBytes: number;
}

export interface SyncOptions {
  /** How long to stay connected in IDLE after syncing (0: sync and leave). */
  idleMs: number;
  /** Shutdown: stops idling; the message in hand is finished first. */
  signal: AbortSignal;
}

export type SyncOutcome =
  | { status: 'busy' }
  | { status: 'disabled' }
  | { status: 'backoff'; retryInMs: number }
  | { status: 'ok'; ingested: number; idled: boolean }
  | { status: 'failed'; kind: FailureKind; message: string; retryInMs: number };

export async function syncMailbox(deps: SyncDeps, mailboxId: number, opts: SyncOptions): Promise<SyncOutcome> {
  const lock = await tryLockMailbox(deps.databaseUrl, mailboxId);
  if (lock === null) return { status: 'busy' };
  const stop = AbortSignal.any([opts.signal, lock.lost]);
  const log = deps.logger.child({ mailboxId });
  const started = performance.now();
  try {
    const mailbox = await deps.db.mailbox.findUnique({ where: { id: mailboxId } });
    if (!mailbox || !mailbox.enabled) return { status: 'disabled' };
    const wait = (mailbox.next_attempt_at?.getTime() ?? 0) - Date.now();
    if (wait > 0) return { status: 'backoff', retryInMs: wait };

    await setHealth(deps.db, mailboxId, { state: 'connecting' });
    let client: ImapFlow;
    try {
      client = new ImapFlow({
        ...(await imapClientOptions(mailbox, {
          secretKeys: deps.secretKeys,
          logger: false,
          timeouts: deps.imapTimeouts,
          oauth: { onRotated: (refreshToken) => storeRotatedRefreshToken(deps, mailbox.id, refreshToken) },
        })),
        // IDLE right after each sync, not after imapflow's default 15 s of quiet.
        autoIdleDelay: 200,
      });
      client.on('error', (err: Error) => log.warn({ err: err.message }, 'IMAP connection error'));
      await client.connect();
    } catch (err) {
      return await recordFailure(deps, mailbox, err, started, log);
    }

    const session = new FolderSession(deps, mailbox, client, log, stop);
    try {
      await client.mailboxOpen(mailbox.folder);
      await setHealth(deps.db, mailboxId, { state: 'syncing' });
      let ingested = await session.syncOnce();
      await setHealth(deps.db, mailboxId, { state: 'idle', last_success_at: new Date(), last_error: null, consecutive_failures: 0, next_attempt_at: null });
      deps.metrics?.observeSync('ok', (performance.now() - started) / 1000);

      const canIdle = opts.idleMs > 0 && client.capabilities.has('IDLE');
      if (canIdle) ingested += await session.idleLoop(Date.now() + opts.idleMs);
      return { status: 'ok', ingested, idled: canIdle };
    } catch (err) {
      return await recordFailure(deps, mailbox, err, started, log);
    } finally {
      await client.logout().catch(() => client.close());
    }
  } finally {
    await lock.release();
  }
}

class FolderSession {
  private dirty = false;
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly deps: SyncDeps,
    private readonly mailbox: Mailbox,
    private readonly client: ImapFlow,
    private readonly log: Logger,
    private readonly stop: AbortSignal,
  ) {
    client.on('exists', () => this.poke(true));
    client.on('close', () => {
      this.closed = true;
      this.poke(false);
    });
    stop.addEventListener('abort', () => this.poke(false), { once: true });
  }

  private poke(dirty: boolean): void {
    if (dirty) this.dirty = true;
    this.wake?.();
  }

  /** Waits in IDLE until the deadline, syncing on every new message. */
  async idleLoop(deadline: number): Promise<number> {
    let ingested = 0;
    while (!this.stop.aborted && !this.closed && Date.now() < deadline) {
      if (this.dirty) {
        this.dirty = false;
        ingested += await this.syncOnce({ afterExists: true });
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    return ingested;
  }

  /** Ingests every message past the cursor; returns how many new records were written. */
  async syncOnce(opts: { afterExists?: boolean } = {}): Promise<number> {
    const { db } = this.deps;
    const box = this.client.mailbox;
    if (!box) throw new Error(`folder ${this.mailbox.folder} is not open`);
    const uidValidity = BigInt(box.uidValidity);
    const uidNext = BigInt(box.uidNext);
    const cursor = await db.mailbox.findUniqueOrThrow({ where: { id: this.mailbox.id }, select: { uid_validity: true, last_uid: true, since: true, created: true } });
    // INTERNALDATE has whole seconds: compare at that precision, or mail arriving in the second the mailbox was added is lost.
    const fromDate = cursor.since ?? cursor.created;
    const from = new Date(Math.floor(fromDate.getTime() / 1000) * 1000);

    let lastUid = cursor.last_uid ?? 0n;
    if (cursor.uid_validity !== uidValidity) {
      if (cursor.uid_validity !== null) this.log.warn({ old: String(cursor.uid_validity), new: String(uidValidity) }, 'UIDVALIDITY changed: re-reading the folder');
      // The new cursor is written before anything is fetched, so each ingest moves it under the new UIDVALIDITY.
      await db.mailbox.update({ where: { id: this.mailbox.id }, data: { uid_validity: uidValidity, last_uid: 0n, highest_modseq: null } });
      lastUid = 0n;
    } else {
      if (!opts.afterExists) await this.catchUpPostActions(uidValidity);
      // Nothing new since the SELECT (an EXISTS does not update UIDNEXT, so this only holds before one).
      if (!opts.afterExists && uidNext - 1n <= lastUid) return 0;
    }
    if (box.exists === 0) return 0;

    const list = await this.client.fetchAll(`${lastUid + 1n}:*`, { uid: true, size: true, internalDate: true }, { uid: true });
    const pending = list.filter((m) => BigInt(m.uid) > lastUid).sort((a, b) => a.uid - b.uid);
    let written = 0;
    let highestSeen = lastUid;
    for (const meta of pending) {
      if (this.stop.aborted) break;
      const uid = BigInt(meta.uid);
      const internalDate = toDate(meta.internalDate);
      if (internalDate !== null && internalDate < from) {
        highestSeen = uid;
        continue;
      }
      const result = await this.fetchAndIngest(meta, uidValidity, internalDate);
      highestSeen = uid;
      if (result === null) continue;
      if (!result.alreadyRecorded) written += 1;
      await this.afterCommit(result, uid);
    }
    // Messages passed over (older than the backfill start, or expunged meanwhile) still move the cursor.
    if (highestSeen > lastUid) {
      await db.mailbox.updateMany({ where: { id: this.mailbox.id, uid_validity: uidValidity, OR: [{ last_uid: null }, { last_uid: { lt: highestSeen } }] }, data: { last_uid: highestSeen } });
    }
    if (box.highestModseq !== undefined) await db.mailbox.update({ where: { id: this.mailbox.id }, data: { highest_modseq: box.highestModseq } });
    return written;
  }

  private async fetchAndIngest(meta: FetchMessageObject, uidValidity: bigint, internalDate: Date | null): Promise<IngestResult | null> {
    const uid = BigInt(meta.uid);
    const mailbox = { id: this.mailbox.id, tenant_id: this.mailbox.tenant_id, address: this.mailbox.address, aliases: this.mailbox.aliases };
    const size = meta.size ?? 0;
    if (size > this.deps.maxRawBytes) {
      // Not downloaded: the headers are kept as the raw so the record says what the mail was.
      const head = await this.client.fetchOne(String(meta.uid), { uid: true, headers: true }, { uid: true });
      const headers = head && head.headers ? head.headers : Buffer.from('');
      return ingestMessage(this.deps.ingest, mailbox, { uidValidity, uid, raw: headers, internalDate }, {
        failWith: { code: 'MAIL_LIMIT_EXCEEDED', message: `The message is ${size} bytes, over the limit of ${this.deps.maxRawBytes}`, warnings: [HEADER_ONLY_WARNING] },
      });
    }
    const msg = await this.client.fetchOne(String(meta.uid), { uid: true, source: true, internalDate: true }, { uid: true });
    if (!msg || !msg.source) return null; // expunged between the listing and the download
    const started = performance.now();
    const result = await ingestMessage(this.deps.ingest, mailbox, { uidValidity, uid, raw: msg.source, internalDate: toDate(msg.internalDate) ?? internalDate });
    this.deps.metrics?.ingestDuration.observe((performance.now() - started) / 1000);
    if (!result.alreadyRecorded) this.deps.metrics?.countIngest(result.outcome, result.classification ?? 'none');
    return result;
  }

  /** Attachment jobs and the post-action, once the message's transaction has committed. */
  private async afterCommit(result: IngestResult, uid: bigint): Promise<void> {
    if (result.attachments.length > 0) {
      try {
        await this.deps.enqueueAttachments(result.attachments.map((a) => ({ attachmentId: a.id, tenantId: a.tenantId, storageKey: a.storageKey })));
      } catch (err) {
        // The rows stay UNAVAILABLE; the attachment sweeper re-queues them.
        this.log.error({ err: describeError(err), recordId: result.recordId }, 'could not enqueue attachment jobs');
      }
    }
    // A failed message stays untouched in the mailbox, for a person to look at.
    if (result.outcome === 'failed' || this.mailbox.post_action === 'none') return;
    await this.postAction(result.recordId, uid);
  }

  /** \Seen or move, then marked done on the record: a crash before it is caught up by catchUpPostActions. */
  private async postAction(recordId: number, uid: bigint): Promise<void> {
    try {
      if (this.mailbox.post_action === 'seen') {
        await this.client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
      } else if (this.mailbox.post_action === 'move' && this.mailbox.post_action_folder) {
        await this.client.messageMove(String(uid), this.mailbox.post_action_folder, { uid: true });
      }
    } catch (err) {
      // Marked done anyway: a missing folder would otherwise be retried on every sync. The mail is ingested.
      this.log.warn({ err: describeError(err), uid: String(uid), action: this.mailbox.post_action }, 'post-action failed; the message is ingested');
    }
    await this.deps.db.ingestRecord.update({ where: { id: recordId }, data: { post_action_at: new Date() } });
  }

  /** Post-actions of messages committed by a sync that died before running them. */
  async catchUpPostActions(uidValidity: bigint): Promise<void> {
    if (this.mailbox.post_action === 'none') return;
    const pending = await this.deps.db.ingestRecord.findMany({
      where: { mailbox_id: this.mailbox.id, uid_validity: uidValidity, post_action_at: null, outcome: { not: 'failed' } },
      select: { id: true, uid: true },
      orderBy: { uid: 'asc' },
      take: 500,
    });
    for (const r of pending) {
      if (this.stop.aborted) return;
      await this.postAction(r.id, r.uid);
    }
  }
}

function toDate(value: Date | string | undefined): Date | null {
  if (value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

async function storeRotatedRefreshToken(deps: SyncDeps, mailboxId: number, refreshToken: string): Promise<void> {
  const key = deps.secretKeys[0];
  if (!key) return;
  await deps.db.mailbox.updateMany({ where: { id: mailboxId, auth: 'oauth2' }, data: { secret_encrypted: encryptSecret(refreshToken, key) } });
}

type Health = Partial<Pick<Mailbox, 'state' | 'last_success_at' | 'last_error' | 'consecutive_failures' | 'next_attempt_at'>>;

async function setHealth(db: Db, mailboxId: number, health: Health): Promise<void> {
  // updateMany: a mailbox removed meanwhile is not an error.
  await db.mailbox.updateMany({ where: { id: mailboxId, enabled: true }, data: health });
}

/** What failed, in one sentence without secrets, and whether it is the credentials. */
export function describeFailure(mailbox: Pick<Mailbox, 'host' | 'port' | 'username' | 'folder'>, err: unknown): { kind: FailureKind; message: string } {
  const e = err as { authenticationFailed?: boolean; responseText?: string; code?: string; mailboxMissing?: boolean; serverResponseCode?: string };
  const where = `${mailbox.host}:${mailbox.port}`;
  if (e?.authenticationFailed || isMailroomError(err, 'OAUTH_FAILED') || isMailroomError(err, 'MAILBOX_AUTH_FAILED')) {
    const detail = e.responseText ? `: ${e.responseText}` : '';
    return { kind: 'auth', message: `The server ${where} rejected the login of ${mailbox.username}${detail}` };
  }
  if (e?.serverResponseCode === 'NONEXISTENT' || /mailbox doesn't exist|nonexistent/i.test(e?.responseText ?? '')) {
    // A missing folder needs an admin, like wrong credentials: back off as long.
    return { kind: 'auth', message: `The folder "${mailbox.folder}" does not exist on ${where}` };
  }
  const code = e?.code ? ` (${e.code})` : '';
  return { kind: 'connect', message: `Syncing ${where} failed${code}: ${e?.responseText ?? describeError(err)}` };
}

async function recordFailure(deps: SyncDeps, mailbox: Mailbox, err: unknown, started: number, log: Logger): Promise<SyncOutcome> {
  const { kind, message } = describeFailure(mailbox, err);
  // A rejected access token may be revoked before its expiry: the next attempt refreshes it.
  if (kind === 'auth' && mailbox.auth === 'oauth2') accessTokenCache.invalidate(mailbox.id);
  const failures = mailbox.consecutive_failures + 1;
  const retryInMs = nextDelayMs(failures, kind);
  await deps.db.mailbox.updateMany({
    where: { id: mailbox.id, enabled: true },
    data: {
      state: kind === 'auth' ? 'auth_error' : 'connect_error',
      last_error: message.slice(0, 2000),
      consecutive_failures: failures,
      next_attempt_at: new Date(Date.now() + retryInMs),
    },
  });
  deps.metrics?.observeSync(kind === 'auth' ? 'auth_error' : 'connect_error', (performance.now() - started) / 1000);
  log.warn({ kind, failures, retryInMs, err: message }, 'mailbox sync failed');
  return { status: 'failed', kind, message, retryInMs };
}
