// Which messages a sync downloads, and in which round trips: pure planning
// over the listing (UID, size, INTERNALDATE) so that it is tested without a
// server. Messages are taken in UID order; ones received before the backfill
// start are passed over (the cursor still moves past them); ones over the
// size limit are fetched as their header alone; the rest go in batches of one
// `UID FETCH` each, bounded in bytes and in count, so that memory stays
// bounded however large the backlog is, and one round trip carries many
// small mails.

export interface ListedMessage {
  readonly uid: bigint;
  readonly size: number;
  readonly receivedAt: Date | null;
}

export type PlannedStep =
  | { readonly kind: 'pass'; readonly message: ListedMessage }
  | { readonly kind: 'header'; readonly message: ListedMessage }
  | { readonly kind: 'batch'; readonly messages: readonly ListedMessage[]; readonly bytes: number };

export interface FetchLimits {
  /** Messages larger than this are fetched as their header only. */
  readonly maxRawBytes: number;
  /** Bytes of messages one FETCH asks for (one message over it still goes alone). */
  readonly batchBytes: number;
  /** Messages one FETCH asks for. */
  readonly batchCount: number;
}

export const DEFAULT_BATCH = { batchBytes: 8 * 1024 * 1024, batchCount: 100 } as const;

/** The steps in UID order; `from` is the backfill start at INTERNALDATE precision (whole seconds). */
export function planFetch(listed: readonly ListedMessage[], from: Date, limits: FetchLimits): PlannedStep[] {
  const steps: PlannedStep[] = [];
  let batch: ListedMessage[] = [];
  let bytes = 0;
  const close = () => {
    if (batch.length > 0) steps.push({ kind: 'batch', messages: batch, bytes });
    batch = [];
    bytes = 0;
  };
  for (const m of [...listed].sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0))) {
    if (m.receivedAt !== null && m.receivedAt < from) {
      close();
      steps.push({ kind: 'pass', message: m });
    } else if (m.size > limits.maxRawBytes) {
      close();
      steps.push({ kind: 'header', message: m });
    } else {
      if (batch.length > 0 && (bytes + m.size > limits.batchBytes || batch.length >= limits.batchCount)) close();
      batch.push(m);
      bytes += m.size;
    }
  }
  close();
  return steps;
}

/** A UID set for one command: `4,7,9:12`, ranges where UIDs are consecutive. */
export function uidSet(uids: readonly bigint[]): string {
  const sorted = [...uids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1n) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
