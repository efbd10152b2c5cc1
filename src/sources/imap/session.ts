// One IMAP sync pass (PRODUCT.md "Mailbox sync"): SELECT the folder, compare
// UIDVALIDITY with the cursor, list every message whose UID is past it (never
// by \Seen, so a person reading the mailbox hides nothing) and hand each over
// with the cursor that is true once it is stored. Messages older than the
// backfill start (`since`, else when the mailbox was added, by INTERNALDATE)
// are passed over; a message over the size limit is handed over as its header
// alone. A changed UIDVALIDITY resets the cursor first, so the folder is
// re-read and ingest recognises what it already has.
import type { FetchMessageObject, ImapFlow } from 'imapflow';
import { MailroomError } from '../../errors.js';
import type { Mailbox } from '../../generated/prisma/client.js';
import type { Logger } from '../../logging/logger.js';
import type { AckResult, ItemAck, SourceContext, SourceEvent, SourceSession } from '../types.js';
import { createImapClient, type ImapTimeouts } from './client.js';
import { formatCursor, formatSourceKey, parseCursor, parseSourceKey } from './cursor.js';
import { classifyImapError, STAGE_CODES } from './errors.js';
import { runPostAction } from './post-action.js';

/**
 * A sync's socket is quiet only while one item is being stored (bounded by
 * the ingest transaction's 60 s and the parse limits): two minutes of silence
 * is a dead or black-holed connection, and the sync fails (connect_error,
 * backoff) instead of hanging with the mailbox `syncing` for imapflow's
 * default five.
 */
export const SYNC_SOCKET_TIMEOUT_MS = 120_000;

/** Connects, logs in and opens the folder; failures come out classified (see errors.ts). */
export async function openImapSession(mailbox: Mailbox, ctx: SourceContext): Promise<SourceSession> {
  const client = await connectImap(mailbox, ctx, { disableAutoIdle: true }, { timeouts: { socketTimeout: SYNC_SOCKET_TIMEOUT_MS } });
  try {
    await client.mailboxOpen(mailbox.folder);
  } catch (err) {
    await client.logout().catch(() => client.close());
    throw classified(mailbox, err, 'folder');
  }
  return new ImapSession(mailbox, client, ctx.maxRawBytes, ctx.logger.child({ mailboxId: mailbox.id }));
}

/**
 * A logged-in client (no folder open yet), shared by syncing and watching.
 * Aborting `signal` while it connects closes the socket at once (a disabled
 * mailbox must not wait out a connection timeout).
 */
export async function connectImap(
  mailbox: Mailbox,
  ctx: SourceContext,
  extra: Parameters<typeof createImapClient>[2],
  opts: { signal?: AbortSignal; timeouts?: Partial<ImapTimeouts> } = {},
): Promise<ImapFlow> {
  const { signal } = opts;
  let client: ImapFlow;
  try {
    client = await createImapClient(
      mailbox,
      {
        secretKeys: ctx.secretKeys,
        logger: false,
        timeouts: { ...opts.timeouts, ...(ctx.timeouts as Partial<ImapTimeouts> | undefined) },
        oauth: { cache: ctx.tokens, onRotated: ctx.onSecretRotated ? (secret) => ctx.onSecretRotated!(mailbox.id, secret) : undefined },
      },
      extra,
    );
  } catch (err) {
    throw classified(mailbox, err, 'connect');
  }
  client.on('error', (err: Error) => ctx.logger.warn({ mailboxId: mailbox.id, err: err.message }, 'IMAP connection error'));
  const abort = () => client.close();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    await client.connect();
  } catch (err) {
    client.close();
    throw classified(mailbox, err, 'connect');
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  return client;
}

/** The registry error for an imapflow failure, the original as its cause. */
export function classified(mailbox: Mailbox, err: unknown, during: 'connect' | 'folder' | 'session'): MailroomError {
  if (err instanceof MailroomError && Object.values(STAGE_CODES).includes(err.code)) return err;
  const f = classifyImapError(mailbox, err, during);
  return new MailroomError(f.code, f.message, { cause: err });
}

class ImapSession implements SourceSession {
  readonly acks: boolean;

  constructor(
    private readonly mailbox: Mailbox,
    private readonly client: ImapFlow,
    private readonly maxRawBytes: number,
    private readonly log: Logger,
  ) {
    this.acks = mailbox.post_action !== 'none';
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
      // INTERNALDATE has whole seconds: compare at that precision, or mail arriving in the second the mailbox was added is lost.
      const start = this.mailbox.since ?? this.mailbox.created;
      const from = new Date(Math.floor(start.getTime() / 1000) * 1000);
      const list = await this.client.fetchAll(`${lastUid + 1n}:*`, { uid: true, size: true, internalDate: true }, { uid: true });
      const pending = list.filter((m) => BigInt(m.uid) > lastUid).sort((a, b) => a.uid - b.uid);
      for (const meta of pending) {
        if (signal.aborted) break;
        const uid = BigInt(meta.uid);
        const receivedAt = toDate(meta.internalDate);
        const next = formatCursor({ uidValidity, lastUid: uid, highestModseq: null });
        highestSeen = uid;
        if (receivedAt !== null && receivedAt < from) continue;
        const item = await this.download(meta, uidValidity, receivedAt, next);
        if (item) yield { type: 'item', item };
      }
    }
    // Passed-over and expunged messages move the cursor too; the modseq is the folder's as selected.
    const final = formatCursor({ uidValidity, lastUid: highestSeen, highestModseq: signal.aborted ? null : modseq });
    if (final !== cursorText) yield { type: 'cursor', cursor: final };
  }

  private async download(meta: FetchMessageObject, uidValidity: bigint, receivedAt: Date | null, cursor: string) {
    const uid = String(meta.uid);
    const sourceKey = formatSourceKey(uidValidity, BigInt(meta.uid));
    const size = meta.size ?? 0;
    if (size > this.maxRawBytes) {
      // Not downloaded: the header is kept as the raw so the record says what the mail was.
      const head = await this.client.fetchOne(uid, { uid: true, headers: true }, { uid: true });
      const raw = head && head.headers ? head.headers : Buffer.alloc(0);
      return { sourceKey, raw, receivedAt, cursor, oversize: { size, limit: this.maxRawBytes } };
    }
    const msg = await this.client.fetchOne(uid, { uid: true, source: true, internalDate: true }, { uid: true });
    if (!msg || !msg.source) return null; // expunged between the listing and the download
    return { sourceKey, raw: msg.source, receivedAt: toDate(msg.internalDate) ?? receivedAt, cursor };
  }

  async ack(ack: ItemAck): Promise<AckResult> {
    const key = parseSourceKey(ack.sourceKey);
    if (key === null || key.uidValidity !== this.uidValidity) return 'stale';
    // A failed message stays untouched in the mailbox, for a person to look at.
    if (ack.outcome === 'failed') return 'kept';
    await runPostAction(this.client, this.mailbox, key.uid, this.log);
    return 'done';
  }

  async close(): Promise<void> {
    await this.client.logout().catch(() => this.client.close());
  }
}

function toDate(value: Date | string | undefined): Date | null {
  if (value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}
