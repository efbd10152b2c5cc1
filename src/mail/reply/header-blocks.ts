// Reply header blocks in plain text ("From: … / Sent: … / To: … / Subject: …",
// in the languages of patterns.ts): which lines start one and where it ends.
// A block only counts when a client evidently wrote it (an address or a time
// in its headers, or a rule above it) and quoted history follows it, so an
// order that reads "From: Berlin / To: Paris / Date: 12 June" stays prose.

import { hasAddress, hasClockTime } from './classify.js';
import type { LineClass } from './classify.js';
import { headerKindOf } from './patterns.js';
import type { HeaderKind } from './patterns.js';

/** A reply header block is at most this many lines (wrapped subjects included). */
const MAX_HEADER_BLOCK_LINES = 30;
/** A header value this long may wrap onto the next lines ("Subject: … long"). */
const MIN_WRAPPED_HEADER_CHARS = 40;

/** For each line that starts a reply header block ("From:/Sent:/To:"), its last line; else -1. */
export function findHeaderBlocks(lines: readonly string[], cls: readonly LineClass[], scan: number): Int32Array {
  const n = lines.length;
  const end = new Int32Array(n).fill(-1);
  const head = (k: number): string => {
    const raw = lines[k] as string;
    return raw.length > scan ? raw.slice(0, scan) : raw;
  };
  const kindAt = (k: number): HeaderKind | null => (cls[k] === 'text' ? headerKindOf(head(k)) : null);
  // signs[k]: header lines up to k that carry an address, or a time in Sent/Date
  // (counted once per line, so checking a block costs O(1) however often it is tried).
  const signs = new Int32Array(n + 1);
  // filled[k]: first non-empty line at or after k (n if none).
  const filled = new Int32Array(n + 1).fill(n);
  for (let k = n - 1; k >= 0; k--) filled[k] = cls[k] === 'empty' ? (filled[k + 1] as number) : k;
  for (let k = 0; k < n; k++) {
    const kind = kindAt(k);
    const sign = kind !== null && (hasAddress(head(k)) || (kind === 'date' && hasClockTime(head(k))));
    signs[k + 1] = (signs[k] as number) + (sign ? 1 : 0);
  }
  // A client wrote it: an address in a header, a time in Sent/Date, or a rule above it.
  // ("From: Berlin / To: Paris / Date: 12 June" in an order is prose.)
  const looksSent = (first: number, last: number): boolean => {
    if ((signs[last + 1] as number) > (signs[first] as number)) return true;
    let p = first - 1;
    while (p >= 0 && cls[p] === 'empty') p--;
    const above = p >= 0 ? cls[p] : undefined;
    return above === 'deco' || above === 'underscore' || above === 'separator';
  };
  // The quoted mail follows the block after a blank line (or as a quote), as clients write it.
  const historyBelow = (last: number): boolean => {
    let k = last + 1;
    for (let wrapped = 0; wrapped < 2 && k < n && kindAt(k) === null && cls[k] === 'text'; wrapped++) {
      if ((lines[k - 1] as string).length < MIN_WRAPPED_HEADER_CHARS) break;
      k++;
    }
    if (k >= n || (cls[k] !== 'empty' && cls[k] !== 'quote')) return false;
    return (filled[k] as number) < n;
  };
  for (let i = 0; i < n; i++) {
    if (kindAt(i) === null) continue;
    const kinds = new Set<HeaderKind>();
    let last = i;
    let continuation = 0;
    for (let j = i; j < n && j < i + MAX_HEADER_BLOCK_LINES; j++) {
      const kind = kindAt(j);
      if (kind !== null) {
        kinds.add(kind);
        last = j;
        continuation = 0;
      } else if (cls[j] === 'text' && continuation < 2) {
        continuation++; // a wrapped header value, e.g. a long Subject
      } else {
        break;
      }
    }
    // A block with Sent/Date and Subject lines and an address or a time in its headers
    // is a client's: rendered HTML puts the quoted mail right below it, without a blank line.
    const client = kinds.has('date') && kinds.has('subject') && (signs[last + 1] as number) > (signs[i] as number);
    const below = client ? (filled[last + 1] as number) < n : historyBelow(last);
    if (kinds.has('from') && kinds.size >= 3 && looksSent(i, last) && below) {
      end[i] = last;
      i = last;
    }
  }
  return end;
}
