// Reply extraction on plain text: a single forward pass over classified
// lines that keeps the new text of a mail and stops at the first sign of
// history (an attribution, a reply header block, a separator, a signature).
// Interleaved answers ("> question" then the answer below) keep their quotes;
// a trailing quote is dropped. Returns '' when the mail holds no new text,
// so the caller decides what to show instead (see extract.ts).
//
// Losing a customer's words is worse than keeping some quote, so a line that
// merely looks like history only cuts when the evidence is there: an
// attribution needs quoted lines or other history below it unless a client
// wrote it (an address, or a date with a time); a header block needs an
// address, a time or a rule above it, and history below it; "--" without
// its trailing space only starts a signature among the last few short lines;
// phone footers are dropped only where the new text ends.

import {
  MAX_ATTRIBUTION_CHARS,
  MAX_ATTRIBUTION_LINES,
  attributionStart,
  classifyLine,
  isAttribution,
  isBareAttribution,
  isClientAttribution,
} from './classify.js';
import type { LineClass } from './classify.js';
import type { ReplyLimits } from './limits.js';
import { findHeaderBlocks } from './header-blocks.js';
import { prefaceName } from './preface.js';

/** Continuation lines of a wrapped attribution are short ("info@x.org> wrote:"). */
const MAX_CONTINUATION_CHARS = 80;
/** A signature after a bare "--" has at most this many non-empty lines… */
const MAX_SIGNATURE_LINES = 6;
/** …each at most this long. */
const MAX_SIGNATURE_LINE_CHARS = 80;

/** Outlook wraps plain text near 76 characters: a preface answer this long may go on below. */
const MIN_WRAPPED_ANSWER_CHARS = 60;

const CONTINUATION_EDGES = new Set([...' \t\u00a0>-']);

/** Split into lines after normalising line endings and applying the input caps. */
export function toLines(text: string, limits: ReplyLimits): string[] {
  let t = text;
  if (t.length > limits.maxInputChars) {
    // Cut at the last line break before the cap so no line is split mid-way.
    const cut = t.lastIndexOf('\n', limits.maxInputChars);
    t = t.slice(0, cut > limits.maxInputChars / 2 ? cut : limits.maxInputChars);
  }
  const lines = t.replace(/\r\n?/g, '\n').split('\n', limits.maxLines);
  return lines;
}

interface Attributions {
  /** For each line that starts an attribution, the index of its last line; else -1. */
  end: Int32Array;
  /** 1 where that attribution has a mail client's shape (isClientAttribution). */
  client: Uint8Array;
}

function findAttributions(lines: readonly string[], cls: readonly LineClass[], scan: number): Attributions {
  const n = lines.length;
  const end = new Int32Array(n).fill(-1);
  const client = new Uint8Array(n);
  // A line as part of an attribution: quote marks and dashes stripped in front only.
  const part = (k: number): string => {
    const raw = lines[k] as string;
    const s = raw.length > scan ? raw.slice(0, scan) : raw;
    let a = 0;
    while (a < s.length && CONTINUATION_EDGES.has(s[a] as string)) a++;
    return s.slice(a).trimEnd();
  };
  const joinedMatches = (from: number, to: number): boolean => {
    let joined = '';
    for (let k = from; k <= to; k++) {
      const p = part(k);
      if (p.length > 0) joined = joined.length > 0 ? `${joined} ${p}` : p;
    }
    return isAttribution(joined);
  };
  const quoteFollows = (i: number): boolean => {
    for (let k = i + 1; k < n && k <= i + 3; k++) {
      if (cls[k] === 'quote') return true;
      if (cls[k] !== 'empty') return false;
    }
    return false;
  };
  for (let i = 0; i < n; i++) {
    if (cls[i] !== 'text') continue;
    const first = lines[i] as string;
    const head = first.length > scan ? first.slice(0, scan) : first;
    const start = attributionStart(head);
    if (start === null) {
      // Lines that start with neither a date, an opener nor an address can
      // still be a one-line attribution ("понедельник, … пользователь X написал:").
      if (isAttribution(head)) {
        end[i] = i;
        client[i] = isClientAttribution(head) ? 1 : 0;
      } else if (isBareAttribution(head) && quoteFollows(i)) {
        end[i] = i;
      }
      continue;
    }
    let joined = part(i);
    let found = -1;
    for (let j = i; j < n && j < i + MAX_ATTRIBUTION_LINES; j++) {
      if (j > i) {
        const c = cls[j];
        if (c === 'sigdelim' || c === 'dashdash' || c === 'underscore' || c === 'separator') break;
        const p = part(j);
        if (p.length > MAX_CONTINUATION_CHARS) break;
        if (p.length === 0) continue;
        joined = `${joined} ${p}`;
        if (joined.length > MAX_ATTRIBUTION_CHARS) break;
      }
      if (isAttribution(joined)) {
        found = j;
        break;
      }
    }
    if (found < 0) {
      if (isBareAttribution(head) && quoteFollows(i)) end[i] = i;
      continue;
    }
    if (found > i && start === 'weak') {
      // A later line alone starts the same attribution: this line is text.
      let later = false;
      for (let s = i + 1; s <= found && !later; s++) later = cls[s] === 'text' && joinedMatches(s, found);
      if (later) continue;
    }
    end[i] = found;
    client[i] = isClientAttribution(joined) ? 1 : 0;
    i = found;
  }
  return { end, client };
}

/**
 * The new text of a plain-text mail body, or '' when it has none (the whole
 * body is quoted history, a forward, or a signature).
 *
 * Long on purpose: one pass over precomputed line tables (attributions,
 * header blocks, next significant line), whose branches share the scan
 * position and whether new text was seen; split up, each part would need all
 * of that state handed back and forth, and the order of the rules (which is
 * the behaviour) would be harder to read.
 */
export function trimReplyText(text: string, limits: ReplyLimits): string {
  const lines = toLines(text, limits);
  const n = lines.length;
  const scan = limits.maxLineScanChars;
  const cls = lines.map((l) => classifyLine(l, scan));
  const { end: attrEnd, client: clientAttr } = findAttributions(lines, cls, scan);
  const headerEnd = findHeaderBlocks(lines, cls, scan);

  const isPlainText = (k: number): boolean => cls[k] === 'text' && attrEnd[k] === -1 && headerEnd[k] === -1;
  // nextSig[i]: first line at or after i that is neither empty nor quoted (n if none).
  const nextSig = new Int32Array(n + 1).fill(n);
  // nextNonEmpty[i]: first non-empty line at or after i (n if none).
  const nextNonEmpty = new Int32Array(n + 1).fill(n);
  // interleaved[i]: some quote at or after i is followed by plain text.
  const interleaved = new Uint8Array(n + 1);
  for (let k = n - 1; k >= 0; k--) {
    const c = cls[k];
    nextSig[k] = c === 'empty' || c === 'quote' ? (nextSig[k + 1] as number) : k;
    nextNonEmpty[k] = c === 'empty' ? (nextNonEmpty[k + 1] as number) : k;
    const follows = nextSig[k] as number;
    interleaved[k] = (interleaved[k + 1] as number) | (c === 'quote' && follows < n && isPlainText(follows) ? 1 : 0);
  }

  // History that an attribution without quoted lines below it may introduce.
  const historyAt = (k: number): boolean =>
    k < n &&
    (cls[k] === 'separator' ||
      cls[k] === 'underscore' ||
      (headerEnd[k] as number) >= 0 ||
      ((attrEnd[k] as number) >= 0 && clientAttr[k] === 1));
  // A bare "--" starts a signature only when few short lines follow it up to
  // the end of the mail or the next history, and it does not continue a list
  // ("steps:" / "--" / "reboot").
  const signatureBelow = (d: number): boolean => {
    let p = d - 1;
    while (p >= 0 && cls[p] === 'empty') p--;
    if (p >= 0 && endsWithColon(lines[p] as string, scan)) return false;
    let count = 0;
    for (let k = d + 1; k < n; k++) {
      const c = cls[k];
      if (c === 'empty') continue;
      if (c === 'quote' || c === 'separator' || c === 'underscore' || c === 'sigdelim') break;
      if ((attrEnd[k] as number) >= 0 || (headerEnd[k] as number) >= 0) break;
      const line = lines[k] as string;
      if (line.length > MAX_SIGNATURE_LINE_CHARS || ++count > MAX_SIGNATURE_LINES) return false;
      if (count === 1 && startsLowerCase(line)) return false;
    }
    return true;
  };

  // The history starting at k is a quote answered inline: its first quoted
  // block (after blank lines) is followed by the sender's own text.
  const answeredBelow = (k: number): boolean => {
    const q = nextNonEmpty[k] as number;
    if (q >= n || cls[q] !== 'quote') return false;
    const blockEnd = nextSig[q] as number;
    return blockEnd < n && isPlainText(blockEnd);
  };

  // Outlook plain text: the original follows the header block unquoted, and
  // answers typed into it start with "[Name]". The end of that quoted mail
  // (next header block or separator), when answers are found there; else -1.
  const prefacedUntil = (k: number): number => {
    let name: string | null = null;
    let asked = false;
    let answered = false;
    let e = k;
    for (; e < n && (headerEnd[e] as number) < 0 && cls[e] !== 'separator'; e++) {
      if (cls[e] === 'empty') continue;
      const found = cls[e] === 'text' ? prefaceName(lines[e] as string) : null;
      if (found === null) asked = true;
      else if (!asked || (name !== null && name !== found)) return -1; // not one person answering questions
      else {
        name = found;
        answered = true;
      }
    }
    return answered ? e : -1;
  };

  const out: string[] = [];
  let hasText = false;
  // Keep a quoted mail's "[Name]" answers as text and quote the rest (text.ts drops a trailing quote).
  const keepPrefaced = (from: number, to: number): void => {
    let answer = false;
    for (let k = from; k < to; k++) {
      const line = lines[k] as string;
      if (cls[k] === 'empty') {
        out.push(line);
        answer = false;
      } else if (prefaceName(line) !== null || (answer && (lines[k - 1] as string).length >= MIN_WRAPPED_ANSWER_CHARS)) {
        // An answer, or its next line where Outlook wrapped a long one.
        out.push(line);
        hasText = true;
        answer = true;
      } else {
        out.push(`> ${line}`);
        answer = false;
      }
    }
  };
  let i = 0;
  scan_: while (i < n) {
    const aEnd = attrEnd[i] as number;
    if (aEnd >= 0) {
      // A client's attribution is always dropped; one without that shape
      // ("On 3 June 2024 Anna wrote:") only together with the history it introduces.
      const byClient = clientAttr[i] === 1;
      const after = nextNonEmpty[aEnd + 1] as number;
      if (after < n && cls[after] === 'quote') {
        const blockEnd = nextSig[after] as number;
        if (hasText) {
          // Answer written between quotes: keep the quotes (and the customer's intro line).
          if (!(blockEnd < n && isPlainText(blockEnd))) break;
          if (byClient) {
            i = aEnd + 1;
            continue;
          }
        } else if (interleaved[blockEnd] !== 1) {
          // Nothing new above and no answers between quotes: a bottom-posted
          // reply; drop the attribution and its quote.
          i = blockEnd;
          continue;
        } else if (byClient) {
          i = aEnd + 1; // interleaved answers follow: keep the quotes
          continue;
        }
      } else if (byClient || historyAt(after)) {
        if (hasText) break;
        i = aEnd + 1; // an attribution on top of unquoted text (some mobile clients)
        continue;
      }
      // Otherwise the line is prose that reads like an attribution: text.
    }
    if ((headerEnd[i] as number) >= 0) {
      const hEnd = headerEnd[i] as number;
      // The quoted mail below is answered inline ("[Name]" answers in the unquoted
      // original, or answers between "> " lines): the header block goes like an
      // "On … wrote:" line (PRODUCT.md), the answers and their questions stay.
      const prefaced = prefacedUntil(hEnd + 1);
      if (prefaced >= 0) {
        keepPrefaced(hEnd + 1, prefaced);
        i = prefaced;
        continue;
      }
      if (answeredBelow(hEnd + 1)) {
        i = hEnd + 1;
        continue;
      }
      if (hasText) break;
      return ''; // a forwarded or pasted mail with nothing written above it
    }
    if (!hasText && cls[i] === 'quote' && (i === 0 || cls[i - 1] !== 'quote') && quotedAttribution(lines[i] as string, scan)) {
      // A quote that opens with its own attribution ("> On … wrote:", as Gmail
      // and Apple Mail nest it): bottom-posted unless answers are interleaved.
      const blockEnd = nextSig[i] as number;
      if (interleaved[blockEnd] !== 1) {
        i = blockEnd;
        continue;
      }
    }
    switch (cls[i]) {
      case 'sigdelim':
      case 'underscore':
        if (hasText) break scan_;
        break;
      case 'dashdash':
        if (!signatureBelow(i)) out.push(lines[i] as string);
        else if (hasText) break scan_;
        break;
      case 'separator': {
        // "-----Original Message-----" over a header block whose quote is answered inline: dropped with it.
        const h = nextNonEmpty[i + 1] as number;
        const below = h < n ? (headerEnd[h] as number) + 1 : 0;
        if (below > 0 && (answeredBelow(below) || prefacedUntil(below) >= 0)) break;
        if (hasText) break scan_;
        return ''; // forward without new text: the caller keeps the whole mail
      }
      case 'mobilesig':
        out.push(lines[i] as string); // dropped below when it ends the new text
        break;
      case 'text':
        hasText = true;
        out.push(lines[i] as string);
        break;
      default:
        out.push(lines[i] as string);
    }
    i++;
  }
  if (!hasText) return '';

  // Drop trailing quotes, rules, phone footers and blank lines (history or
  // signature below the reply).
  let last = out.length;
  while (last > 0) {
    const c = classifyLine(out[last - 1] as string, scan);
    if (c !== 'empty' && c !== 'quote' && c !== 'deco' && c !== 'dashdash' && c !== 'mobilesig') break;
    last--;
  }
  return normaliseLines(out.slice(0, last));
}

function endsWithColon(line: string, scan: number): boolean {
  const s = (line.length > scan ? line.slice(0, scan) : line).trimEnd();
  return s.endsWith(':') || s.endsWith('：');
}

/** Does the line's first letter read as the continuation of a sentence or list ("reboot")? */
function startsLowerCase(line: string): boolean {
  const t = line.trimStart();
  const ch = t.codePointAt(0);
  if (ch === undefined) return false;
  const c = String.fromCodePoint(ch);
  return c !== c.toUpperCase() && c === c.toLowerCase();
}

/** Is this quoted line an attribution once its quote marks are removed? */
function quotedAttribution(line: string, scan: number): boolean {
  const s = line.length > scan ? line.slice(0, scan) : line;
  let a = 0;
  while (a < s.length && (s[a] === '>' || s[a] === ' ' || s[a] === '\t')) a++;
  const content = s.slice(a);
  return isAttribution(content) || isBareAttribution(content);
}

/** Trim line ends, turn no-break spaces into spaces, keep at most one blank line in a row. */
export function normaliseLines(lines: readonly string[]): string {
  const out: string[] = [];
  let blank = 0;
  for (const raw of lines) {
    const line = raw.replace(/\u00a0/g, ' ').trimEnd();
    if (line.length === 0) {
      blank++;
      continue;
    }
    if (blank > 0 && out.length > 0) out.push('');
    blank = 0;
    out.push(line);
  }
  return out.join('\n');
}
