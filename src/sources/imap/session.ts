// One IMAP sync pass (PRODUCT.md "Mailbox sync"): SELECT the folder, compare
// UIDVALIDITY with the cursor, list every message whose UID is past it (never
// by \Seen, so a person reading the mailbox hides nothing) and hand each over
// with the cursor that is true once it is stored. Messages older than the
// backfill start (`since`, else when the mailbox was added, by INTERNALDATE)
// are passed over; a message over the size limit is handed over as its header
// alone. A changed UIDVALIDITY resets the cursor first, so the folder is
// re-read and ingest recognises what it already has.
import type { ImapFlow } from 'imapflow';
import { MailroomError } from '../../errors.js';
import { RawFile, type RawBytes } from '../../mail/raw-file.js';
import type { Mailbox } from '../../generated/prisma/client.js';
import type { Logger } from '../../logging/logger.js';
import type { AckResult, InboundItem, ItemAck, SourceContext, SourceEvent, SourceSession, SourceSilence } from '../types.js';
import { connectImap, DEFAULT_IMAP_TIMEOUTS } from './client.js';
import { formatCursor, formatSourceKey, parseCursor, parseSourceKey } from './cursor.js';
import { classified } from './errors.js';
import { AckQueue } from './acks.js';
import { DEFAULT_BATCH, planFetch, uidSet, type FetchLimits, type PlannedStep } from './fetch-plan.js';
import { ServerSilence } from './silence.js';

/**
 * A sync's socket is quiet only while one item is being stored (bounded by
 * the ingest transaction's 60 s and the parse limits; a slow batch sends a
 * NOOP every quarter of the timeout, see keepAlive): a minute of silence
 * (MAILROOM_IMAP_TIMEOUT_SECONDS) is a dead or black-holed connection, and
 * the sync fails (connect_error, backoff) instead of hanging with the mailbox
 * `syncing` for imapflow's default five. Connecting and the greeting get no
 * longer than that either.
 */
export const SYNC_SOCKET_TIMEOUT_MS = 60_000;
const KEEPALIVE_MAX_MS = 30_000;
/** The pieces a mail larger than a batch is downloaded in (fetchLarge). */
const LARGE_CHUNK_BYTES = 1024 * 1024;

/** Connects, logs in and opens the folder; failures come out classified (see errors.ts). */
export async function openImapSession(mailbox: Mailbox, ctx: SourceContext): Promise<SourceSession> {
  const silence = ctx.silenceTimeoutMs ?? SYNC_SOCKET_TIMEOUT_MS;
  const timeouts = { socketTimeout: silence, connectionTimeout: Math.min(DEFAULT_IMAP_TIMEOUTS.connectionTimeout, silence), greetingTimeout: Math.min(DEFAULT_IMAP_TIMEOUTS.greetingTimeout, silence) };
  const client = await connectImap(mailbox, ctx, { disableAutoIdle: true }, { timeouts });
  try {
    await client.mailboxOpen(mailbox.folder);
  } catch (err) {
    await client.logout().catch(() => client.close());
    throw classified(mailbox, err, 'folder');
  }
  return new ImapSession(mailbox, client, { maxRawBytes: ctx.maxRawBytes, ...DEFAULT_BATCH }, ctx.logger.child({ mailboxId: mailbox.id }), { keepAliveMs: Math.min(KEEPALIVE_MAX_MS, silence / 4), giveUpMs: silence });
}

class ImapSession implements SourceSession {
  readonly acks: boolean;
  private readonly ackQueue: AckQueue;
  /** Large mails this session downloaded to temporary files, until the sync is done with them (release) or the session ends. */
  private readonly spooled = new Set<RawFile>();
  private lastCommandAt = Date.now();
  private readonly keepAliveTimer: NodeJS.Timeout;
  /** A NOOP after this much quiet while a batch is stored. */
  private readonly keepAliveMs: number;
  /** The silence timeout: the connection fails after this long without a word. */
  private readonly giveUpMs: number;
  /** Every command this session sends is tracked here (see silence()). */
  private readonly server: ServerSilence;

  constructor(
    private readonly mailbox: Mailbox,
    private readonly client: ImapFlow,
    private readonly limits: FetchLimits,
    private readonly log: Logger,
    timing: { keepAliveMs: number; giveUpMs: number },
  ) {
    this.keepAliveMs = timing.keepAliveMs;
    this.giveUpMs = timing.giveUpMs;
    this.server = new ServerSilence(() => client.stats().received);
    this.acks = mailbox.post_action !== 'none';
    this.ackQueue = new AckQueue(client, mailbox, log);
    // A timer, not a step of the loop: one slow item (a big mail parsed here, a slow commit) must not starve it.
    this.keepAliveTimer = setInterval(() => this.keepAlive(), Math.max(1_000, this.keepAliveMs / 2));
    this.keepAliveTimer.unref();
  }

  silence(): SourceSilence {
    return { silentMs: this.server.silentMs(), giveUpMs: this.giveUpMs };
  }

  private get uidValidity(): bigint {
    const box = this.client.mailbox;
    if (!box) throw new MailroomError('MAILBOX_FOLDER_FAILED', `Folder "${this.mailbox.folder}" is not open.`);
    return BigInt(box.uidValidity);
  }

  async *pull(cursorText: string | null, signal: AbortSignal): AsyncIterable<SourceEvent> {
    const box = this.client.mailbox;
    if (!box) throw new MailroomError('MAILBOX_FOLDER_FAILED', `Folder "${this.mailbox.folder}" is not open.`);
    const uidValidity = BigInt(box.uidValidity);
    const modseq = box.highestModseq ?? null;
    let cursor = parseCursor(cursorText);
    if (cursor === null || cursor.uidValidity !== uidValidity) {
      if (cursor !== null) this.log.warn({ old: String(cursor.uidValidity), new: String(uidValidity) }, 'UIDVALIDITY changed: re-reading the folder');
      // Stored before anything is fetched: every item then moves the cursor under the new UIDVALIDITY.
      cursor = { uidValidity, lastUid: 0n, highestModseq: null };
      yield { type: 'cursor', cursor: formatCursor(cursor) };
    }
    const lastUid = cursor.lastUid;
    let highestSeen = lastUid;
    // Nothing new since the cursor: UIDNEXT is fresh, this pass just selected the folder.
    if (box.exists > 0 && BigInt(box.uidNext) - 1n > lastUid) {
      const plan = await this.plan(lastUid);
      const items = plan.reduce((n, step) => n + (step.kind === 'batch' ? step.messages.length : step.kind === 'header' ? 1 : 0), 0);
      if (items > 0) yield { type: 'backlog', items };
      for await (const step of this.steps(plan, signal)) {
        if (signal.aborted) break;
        highestSeen = step.uid;
        if (step.item) yield { type: 'item', item: { ...step.item, cursor: formatCursor({ uidValidity, lastUid: step.uid, highestModseq: null }) } };
      }
    }
    // Passed-over and expunged messages move the cursor too; the modseq is the folder's as selected.
    const final = formatCursor({ uidValidity, lastUid: highestSeen, highestModseq: signal.aborted ? null : modseq });
    if (final !== cursorText) yield { type: 'cursor', cursor: final };
  }

  /**
   * Every message of the plan, in UID order, as planned by planFetch: the
   * next batch downloads while the current one is being stored, and queued
   * acks run between downloads. `item` is absent for passed-over or expunged ones.
   */
  private async *steps(plan: PlannedStep[], signal: AbortSignal): AsyncIterable<{ uid: bigint; item?: Omit<InboundItem, 'cursor'> }> {
    const uidValidity = this.uidValidity;
    const downloads = new Map<number, Promise<Map<bigint, Omit<InboundItem, 'cursor'>>>>();
    const download = (i: number) => {
      const step = plan[i];
      if (step?.kind !== 'batch') return;
      const p = this.fetchBatch(step.messages, uidValidity);
      p.catch(() => undefined); // awaited on its turn; a failure surfaces there
      downloads.set(i, p);
    };
    /**
     * Starts the download of the first batch after step `i`, so it arrives while step `i` is
     * stored; not a batch that is one mail larger than a batch (memory: it downloads on its turn).
     */
    const prefetchAfter = (i: number) => {
      const j = plan.findIndex((step, k) => k > i && step.kind === 'batch');
      const next = plan[j];
      if (signal.aborted || next?.kind !== 'batch' || next.bytes > this.limits.batchBytes || downloads.has(j)) return;
      download(j);
    };
    prefetchAfter(-1);
    for (const [i, step] of plan.entries()) {
      if (signal.aborted) return;
      if (step.kind === 'pass') {
        yield { uid: step.message.uid };
      } else if (step.kind === 'header') {
        yield { uid: step.message.uid, item: await this.fetchHeader(step.message, uidValidity) };
      } else {
        if (!downloads.has(i)) download(i);
        const got = await downloads.get(i);
        downloads.delete(i);
        // The next batch starts downloading while this one is stored; the acks queued so far
        // run after that download (imapflow runs commands in turn). Not awaited: their
        // promises settle each ack, and the driver awaits those.
        prefetchAfter(i);
        void this.server.track(this.ackQueue.flush());
        for (const m of step.messages) {
          if (signal.aborted) return;
          const item = got?.get(m.uid);
          yield item ? { uid: m.uid, item } : { uid: m.uid }; // absent: expunged since the listing
        }
      }
    }
  }

  /** The listing of every message past `lastUid`, planned (fetch-plan.ts). */
  private async plan(lastUid: bigint): Promise<PlannedStep[]> {
    // INTERNALDATE has whole seconds: compare at that precision, or mail arriving in the second the mailbox was added is lost.
    const start = this.mailbox.since ?? this.mailbox.created;
    const from = new Date(Math.floor(start.getTime() / 1000) * 1000);
    const list = await this.server.track(this.client.fetchAll(`${lastUid + 1n}:*`, { uid: true, size: true, internalDate: true }, { uid: true }));
    const listed = list.filter((m) => BigInt(m.uid) > lastUid).map((m) => ({ uid: BigInt(m.uid), size: m.size ?? 0, receivedAt: toDate(m.internalDate) }));
    return planFetch(listed, from, this.limits);
  }

  /**
   * While a batch is being stored the connection is quiet; after keepAliveMs
   * of that, a NOOP (queued behind anything in flight) keeps it from timing
   * out as dead (the silence timeout) however slow the storing is. A server
   * that does not answer it is what the timeout is for.
   */
  private keepAlive(): void {
    if (Date.now() - this.lastCommandAt < this.keepAliveMs) return;
    this.lastCommandAt = Date.now();
    this.server.track(this.client.noop()).catch(() => undefined); // a dead connection surfaces at the next fetch or ack
  }

  private async fetchBatch(messages: readonly { uid: bigint; size: number; receivedAt: Date | null }[], uidValidity: bigint): Promise<Map<bigint, Omit<InboundItem, 'cursor'>>> {
    this.lastCommandAt = Date.now();
    const only = messages.length === 1 ? messages[0] : undefined;
    if (only && only.size > this.limits.batchBytes) return this.fetchLarge(only, uidValidity);
    const wanted = new Map(messages.map((m) => [m.uid, m]));
    const rows = await this.server.track(this.client.fetchAll(uidSet([...wanted.keys()]), { uid: true, source: true, internalDate: true }, { uid: true }));
    const out = new Map<bigint, Omit<InboundItem, 'cursor'>>();
    for (const row of rows) {
      const uid = BigInt(row.uid);
      const listed = wanted.get(uid);
      if (!listed || !row.source) continue;
      out.set(uid, { sourceKey: formatSourceKey(uidValidity, uid), raw: row.source, receivedAt: toDate(row.internalDate) ?? listed.receivedAt });
    }
    return out;
  }

  /**
   * A mail larger than a batch, downloaded in LARGE_CHUNK_BYTES pieces into
   * a temporary file (RawFile): never in memory whole. A FETCH of the whole
   * message gathers the literal's socket chunks and concatenates them: twice
   * the mail at once, the chunks lingering until a garbage collection. The
   * INTERNALDATE is the listing's (the same FETCH attribute).
   */
  private async fetchLarge(m: { uid: bigint; size: number; receivedAt: Date | null }, uidValidity: bigint): Promise<Map<bigint, Omit<InboundItem, 'cursor'>>> {
    const out = new Map<bigint, Omit<InboundItem, 'cursor'>>();
    // One tracked command for all its pieces: the server owes an answer from the first FETCH to the last.
    const pieces = async () => {
      const download = await this.client.download(String(m.uid), undefined, { uid: true, chunkSize: LARGE_CHUNK_BYTES });
      if (!download.content) return null; // expunged since the listing
      const file = await RawFile.spool(download.content as AsyncIterable<Buffer>);
      this.spooled.add(file);
      return file;
    };
    let raw: RawBytes | null;
    try {
      raw = await this.server.track(pieces());
    } catch (err) {
      // A server whose RFC822.SIZE is only an estimate (imapflow stops a download that runs past twice
      // it) or that answers a piece oddly: the whole message in one FETCH, as every other mail is read.
      const code = (err as { code?: unknown } | null)?.code;
      if (code !== 'DownloadOverflow' && code !== 'DownloadIncomplete') throw err;
      this.log.warn({ uid: String(m.uid), size: m.size, err: code }, 'downloading a large message in pieces failed; fetching it whole');
      const whole = await this.server.track(this.client.fetchOne(String(m.uid), { uid: true, source: true }, { uid: true }));
      raw = whole && whole.source ? whole.source : null;
    }
    if (raw) out.set(m.uid, { sourceKey: formatSourceKey(uidValidity, m.uid), raw, receivedAt: m.receivedAt });
    return out;
  }

  /** Not downloaded: the header is kept as the raw so the record says what the mail was. */
  private async fetchHeader(m: { uid: bigint; size: number; receivedAt: Date | null }, uidValidity: bigint): Promise<Omit<InboundItem, 'cursor'>> {
    const head = await this.server.track(this.client.fetchOne(String(m.uid), { uid: true, headers: true }, { uid: true }));
    const raw = head && head.headers ? head.headers : Buffer.alloc(0);
    return { sourceKey: formatSourceKey(uidValidity, m.uid), raw, receivedAt: m.receivedAt, oversize: { size: m.size, limit: this.limits.maxRawBytes } };
  }

  async ack(ack: ItemAck): Promise<AckResult> {
    const key = parseSourceKey(ack.sourceKey);
    if (key === null || key.uidValidity !== this.uidValidity) return 'stale';
    // A failed message stays untouched in the mailbox, for a person to look at.
    if (ack.outcome === 'failed') return 'kept';
    await this.ackQueue.add(key.uid);
    return 'done';
  }

  async flush(): Promise<void> {
    await this.server.track(this.ackQueue.flush());
  }

  async release(item: InboundItem): Promise<void> {
    if (item.raw instanceof RawFile && this.spooled.delete(item.raw)) await item.raw.close();
  }

  async close(): Promise<void> {
    clearInterval(this.keepAliveTimer);
    // Large mails read ahead and never handled (the sync stopped): their files go with the session.
    await Promise.all([...this.spooled].map((f) => f.close()));
    this.spooled.clear();
    await this.client.logout().catch(() => this.client.close());
  }
}

function toDate(value: Date | string | undefined): Date | null {
  if (value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}
