// What a message says about the charset of its raw 8-bit header bytes, read
// before any header is decoded for good: the legacy charsets its parts name
// (`charset=` in any part's Content-Type, or an HTML body's meta tag), and the
// 8-bit header text to hand a detector all at once (the top-level values and
// the part headers' file names). Also the test for "is this text at all",
// for a message in which no header block can be found.
import { isAscii } from 'node:buffer';
import type { RawHeaderField } from './headers.js';
import { headerCharsetHint, type CharsetHint } from './unknown-bytes.js';

/** How much of a message its charset hints read (the first 4 MiB after the header block starts). */
export const HINT_SCAN_BYTES = 4 * 1024 * 1024;
const NAMED = /charset\s*=\s*["']?([A-Za-z0-9_.:+-]{1,64})/gi;
// A part header line carrying a file name with raw 8-bit bytes. (The lookahead after the leading blanks
// changes no match, it only keeps a long run of blanks from being tried 200 times over.)
const NAME_LINE = /^[ \t]*(?![ \t])[^\n]{0,200}?\bname\*?[0-9*]{0,4}\s*=[^\n]*[\x80-\xff][^\n]*$/gim;
const EIGHT_BIT = /[\x80-\xff]/g;
/** A line that goes on from a `name` above it. */
const CONTINUED = /^\s*=/;
const BLANK = /^\s*$/;
const MAX_NAME_LINES = 200;
/** 8-bit lines tried one by one before the pattern runs over the whole text instead (an 8-bit body: one per line). */
const MAX_TRIED_LINES = 1000;

export function headerHintOf(message: Buffer, fields: readonly RawHeaderField[]): CharsetHint {
  const eightBit = fields.map((f) => f.raw).filter((b) => b.some((x) => x >= 0x80));
  const scanned = message.subarray(0, HINT_SCAN_BYTES);
  // Most mail is 7-bit (base64 attachments included): no line to look for, and no text to make.
  if (eightBit.length === 0 && isAscii(scanned)) return {};
  const text = scanned.toString('latin1');
  const nameLines = eightBitNameLines(text);
  if (eightBit.length === 0 && nameLines.length === 0) return {};
  const named = [...text.matchAll(NAMED)].slice(0, 50).map((m) => (m[1] ?? '').toLowerCase());
  return headerCharsetHint(named, [...eightBit, ...nameLines]);
}

/**
 * The lines NAME_LINE matches over the whole text, found by trying only the
 * lines with an 8-bit byte: run over the whole text, the pattern tried every
 * position of every base64 line (~2 ms of a typical mail's parse, a fifth of
 * it). Its `\s*` before the `=` may cross line breaks (`name` folded away
 * from its `=`), so a line that starts with `=` is tried together with the
 * lines above it up to the one that names it.
 */
export function eightBitNameLines(text: string): Buffer[] {
  const lines: Buffer[] = [];
  let matchedTo = 0;
  let tried = 0;
  EIGHT_BIT.lastIndex = 0;
  while (lines.length < MAX_NAME_LINES && EIGHT_BIT.exec(text) !== null) {
    // Text that is 8-bit through and through: one pass of the pattern costs less than a try per line.
    if (++tried > MAX_TRIED_LINES) return [...text.matchAll(NAME_LINE)].slice(0, MAX_NAME_LINES).map((m) => Buffer.from(m[0], 'latin1'));
    const at = EIGHT_BIT.lastIndex - 1;
    let start = text.lastIndexOf('\n', at) + 1;
    const newline = text.indexOf('\n', at);
    const end = newline === -1 ? text.length : newline;
    if (CONTINUED.test(text.slice(start, end))) start = nameLineAbove(text, start);
    // A match already taken is not taken twice.
    start = Math.max(start, matchedTo);
    for (const m of text.slice(start, end).matchAll(NAME_LINE)) {
      lines.push(Buffer.from(m[0], 'latin1'));
      matchedTo = start + m.index + m[0].length;
    }
    EIGHT_BIT.lastIndex = end;
  }
  return lines.slice(0, MAX_NAME_LINES);
}

/** The start of the first line above `lineStart` that is not blank (or of the text). */
function nameLineAbove(text: string, lineStart: number): number {
  let start = lineStart;
  while (start > 0) {
    const prevEnd = start - 1;
    start = prevEnd === 0 ? 0 : text.lastIndexOf('\n', prevEnd - 1) + 1;
    if (!BLANK.test(text.slice(start, prevEnd))) break;
  }
  return start;
}

/**
 * Whether bytes are text in some charset, not a binary file: something
 * visible, and at most 1% control characters (NUL included) other than TAB,
 * LF, CR, FF, VT and ESC (ISO-2022). A stray NUL at the end of a file is text;
 * an image or an archive is not.
 */
export function readableText(bytes: Buffer): boolean {
  const sample = bytes.subarray(0, 64 * 1024);
  if (sample.length === 0) return false;
  let controls = 0;
  let visible = 0;
  for (const b of sample) {
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x0b && b !== 0x1b) || b === 0x7f) controls++;
    else if (b > 0x20) visible++;
  }
  return visible > 0 && controls * 100 <= sample.length;
}
