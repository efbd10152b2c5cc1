// IMAP-shaped ingest for tests: a fetched message (UIDVALIDITY, UID) goes
// through the source-neutral ingestItem the way the IMAP source hands it
// over — source key `uidvalidity:uid`, and the cursor moved to it when it
// is past the mailbox's cursor under the same UIDVALIDITY, as a sync moves it.
import { ingestItem, prepareItem } from '../../src/ingest/ingest.js';
import type { IngestContext, IngestMailbox, IngestResult } from '../../src/ingest/types.js';
import { formatCursor, formatSourceKey, parseCursor } from '../../src/sources/imap/cursor.js';

export type { IngestContext, IngestMailbox };

export interface FetchedMessage {
  uidValidity: bigint;
  uid: bigint;
  raw: Buffer;
  internalDate: Date | null;
}

/** `prepared`: prepare the item first (stored raw, parsed) as a sync's read-ahead does, instead of leaving it to ingest. */
export async function ingestMessage(ctx: IngestContext, mailbox: IngestMailbox, msg: FetchedMessage, opts: { recordId?: number; prepared?: boolean } = {}): Promise<IngestResult> {
  const row = await ctx.db.mailbox.findUnique({ where: { id: mailbox.id }, select: { cursor: true } });
  const current = parseCursor(row?.cursor ?? null);
  const moves = opts.recordId === undefined && current !== null && current.uidValidity === msg.uidValidity && current.lastUid < msg.uid;
  const cursor = moves ? { from: row?.cursor ?? null, to: formatCursor({ uidValidity: msg.uidValidity, lastUid: msg.uid, highestModseq: null }) } : null;
  const item = { sourceKey: formatSourceKey(msg.uidValidity, msg.uid), raw: msg.raw, receivedAt: msg.internalDate };
  return ingestItem(ctx, mailbox, item, { cursor, recordId: opts.recordId }, opts.prepared ? prepareItem(ctx, mailbox, item) : undefined);
}

/** The mailbox cursor as the IMAP source writes it. */
export const imapCursor = (uidValidity: bigint, lastUid: bigint): string => formatCursor({ uidValidity, lastUid, highestModseq: null });
