// Reads a message's top-level header block straight from the raw bytes.
//
// mailparser turns raw 8-bit header bytes into a string as UTF-8 and replaces
// anything else with U+FFFD, which loses the Latin-1 names old clients still
// send ("Heinz M\xFCller") and the GBK, Shift_JIS or KOI8-R subjects of
// clients that never learnt RFC 2047. Here each header value keeps its bytes
// and is decoded by decodeUnknownBytes (unknown-bytes.ts): UTF-8 when valid,
// else the charset the message names or a detector finds over all its header
// text (parse.ts reads the fields again with that hint), else windows-1252;
// RFC 2047 encoded words, as leniently as senders write them, after that. The
// block is cut at a byte limit so a header bomb costs bounded work. Also home
// of the small byte-level helpers parse.ts needs before mailparser sees the
// message (line-ending repair, mbox postmark, wrapper lines before the headers).

import libmime from 'libmime';
import { decodeUnknownBytes, type CharsetHint } from './unknown-bytes.js';

export { decodeCp1252 } from './unknown-bytes.js';
import { CP1252_HIGH } from './unknown-bytes.js';

/** One header field as written: lower-case name, value unfolded and charset-decoded (encoded words left as is). */
export interface RawHeaderField {
  name: string;
  value: string;
  /** The value's bytes as received (unfolded), for a second reading with a better charset hint. */
  raw: Buffer;
}

export interface HeaderBlock {
  fields: RawHeaderField[];
  /** Byte offset where the body starts (after the blank line), or the buffer length. */
  bodyOffset: number;
  /** True when the block was longer than the byte limit and was cut. */
  truncated: boolean;
  /** Lines inside the block that are neither a field nor a continuation (dropped). */
  junkLines: number;
}

/**
 * Decodes raw header bytes (no RFC 2047): decodeUnknownBytes with the
 * message's hint; without one, UTF-8 when valid, else windows-1252. Never throws.
 */
export function decodeHeaderBytes(bytes: Buffer, hint: CharsetHint = {}): string {
  return decodeUnknownBytes(bytes, hint);
}

/** The fields read again with a charset hint (only those with 8-bit bytes change). */
export function redecodeFields(fields: readonly RawHeaderField[], hint: CharsetHint): RawHeaderField[] {
  return fields.map((f) => (f.raw.some((b) => b >= 0x80) ? { ...f, value: decodeHeaderBytes(f.raw, hint).trim() } : f));
}

// charset ? B|Q ? text — every piece bounded, no nested quantifiers. The text
// may hold spaces and other characters RFC 2047 forbids there: Outlook and
// Exchange write `=?us-ascii?Q?ABC / 123 / West?=` and `=?UTF-8?Q? Personal=C3=A4nderung?=`.
// It cannot hold `?`, so a match never runs from one word into the next.
export const ENCODED_WORD = /=\?([^?\s]{1,64})\?([bBqQ])\?([^?\r\n]{0,4000})\?=/g;

function wordBytes(charset: string, encoding: string, text: string): Buffer {
  if (encoding.toLowerCase() === 'b') return Buffer.from(text.replace(/\s+/g, ''), 'base64');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '_') bytes.push(0x20);
    else if (c === '=' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const code = text.charCodeAt(i);
      // Raw 8-bit text inside a Q word has already been read as text: back to bytes in the word's charset
      // (UTF-8 for a UTF-8 word; else the byte it was read from, windows-1252's 0x80-0x9F included).
      if (code < 0x80) bytes.push(code);
      else if (/^utf-?8$/.test(charset)) bytes.push(...Buffer.from(text[i] ?? '', 'utf8'));
      else if (code <= 0xff) bytes.push(code);
      else {
        const high = CP1252_HIGH.indexOf(text[i] ?? '');
        if (high >= 0) bytes.push(0x80 + high);
        else bytes.push(...Buffer.from(text[i] ?? '', 'utf8'));
      }
    }
  }
  return Buffer.from(bytes);
}

/** True when `charset` is one libmime/iconv-lite or the WHATWG decoder knows. */
export function isKnownCharset(charset: string): boolean {
  const name = charset.trim().replace(/\*.*$/, '');
  if (name === '') return false;
  try {
    new TextDecoder(name);
    return true;
  } catch {
    // fall through to libmime's own table (Japanese charsets, aliases)
  }
  try {
    const normalised = libmime.normalizeCharset(name).toLowerCase();
    return /^(utf-?8|us-?ascii|ascii|iso-8859-\d+|windows-\d+|koi8-[ru]|shift_jis|euc-(jp|kr)|iso-2022-jp|gb2312|gbk|big5|ks_c_5601-1987|utf-16(le|be)?)$/.test(normalised);
  } catch {
    return false;
  }
}

/**
 * Decodes RFC 2047 encoded words. Words in a charset nobody knows
 * (`unknown-8bit`, `x-user-defined`, typos) are decoded from their bytes as
 * UTF-8 when valid, else windows-1252, instead of turning into U+FFFD.
 * White space between two encoded words is dropped (RFC 2047 6.2). Never throws.
 */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  let out = '';
  let last = 0;
  // Consecutive words of one charset are joined before decoding, so a
  // multi-byte character split across two words survives.
  let pending: { charset: string; chunks: Buffer[] } | null = null;
  const flush = (): void => {
    if (pending) out += decodeCharsetBytes(pending.charset, Buffer.concat(pending.chunks));
    pending = null;
  };
  for (const m of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, m.index);
    const [whole, charset = '', encoding = 'q', text = ''] = m;
    const cs = charset.replace(/\*.*$/, '').toLowerCase();
    if (!(pending && /^[ \t\r\n]*$/.test(between))) {
      flush();
      out += between;
    } else if (pending.charset !== cs) flush();
    pending ??= { charset: cs, chunks: [] };
    pending.chunks.push(wordBytes(cs, encoding, text));
    last = m.index + whole.length;
  }
  flush();
  return out + value.slice(last);
}

/**
 * UTF-7 (RFC 2152), which some old clients used in encoded words. Only for
 * header text: bodies stay undecoded from UTF-7 (mailparser refuses it, as
 * `+ADw-script+AD4-` would become markup).
 */
export function decodeUtf7(input: string): string {
  return input.replace(/\+([A-Za-z0-9+/]{0,4000})-?/g, (whole: string, b64: string) => {
    if (b64 === '') return whole === '+-' ? '+' : whole;
    const bytes = Buffer.from(b64, 'base64');
    let out = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
    return out;
  });
}

/** Decodes bytes in a declared charset; unknown charsets as UTF-8 when valid, else windows-1252. */
export function decodeCharsetBytes(charset: string, bytes: Buffer): string {
  if (/^(unicode-1-1-)?utf-?7$/.test(charset)) return decodeUtf7(bytes.toString('latin1'));
  if (isKnownCharset(charset)) {
    // libmime (iconv-lite) first: Node's TextDecoder treats windows-1252 and
    // its aliases as ISO-8859-1.
    try {
      return libmime.decodeWord(charset, 'B', bytes.toString('base64'));
    } catch {
      // try the WHATWG decoder below
    }
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      // fall through
    }
  }
  return decodeHeaderBytes(bytes);
}

/** Removes control characters (except TAB) and collapses runs of white space. */
export function cleanHeaderText(value: string): string {
  return value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ' ').replace(/[ \t]+/g, ' ').trim();
}

/**
 * Repairs line endings before parsing: a message with bare CRs and no LF at all
 * (classic Mac OS, sisimai `maildir/mac`) gets CRLF. Other messages are returned unchanged.
 */
export function normaliseLineEndings(raw: Buffer): Buffer {
  if (raw.includes(0x0a) || !raw.includes(0x0d)) return raw;
  const out = Buffer.allocUnsafe(raw.length * 2);
  let j = 0;
  for (const b of raw) {
    out[j++] = b;
    if (b === 0x0d) out[j++] = 0x0a;
  }
  return out.subarray(0, j);
}

/**
 * Skips a UTF-8 BOM, leading white space and blank lines (at most 4 KiB), and
 * mbox `From ` / `>From ` postmark lines, in any order.
 */
export function messageStart(raw: Buffer): number {
  let pos = 0;
  if (raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) pos = 3;
  const stop = Math.min(raw.length, pos + 4096);
  for (let lines = 0; lines < 8; lines++) {
    while (pos < stop && (raw[pos] === 0x20 || raw[pos] === 0x09 || raw[pos] === 0x0d || raw[pos] === 0x0a)) pos++;
    const head = raw.subarray(pos, pos + 6).toString('latin1');
    if (!head.startsWith('From ') && !head.startsWith('>From ')) break;
    const nl = raw.indexOf(0x0a, pos);
    pos = nl === -1 ? raw.length : nl + 1;
  }
  return pos;
}

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]{1,200}$/;

/** True when the line at `pos` looks like `Name: value` (what every message must start with). */
export function startsWithHeaderField(raw: Buffer, pos: number): boolean {
  const window = raw.subarray(pos, pos + 256).toString('latin1');
  const colon = window.indexOf(':');
  if (colon <= 0) return false;
  return FIELD_NAME.test(window.slice(0, colon).replace(/[ \t]+$/, ''));
}

// Fields that only a message's own header block starts with: a line of text
// ("Name: Jane", "Note: see below") is not taken for one.
export const MESSAGE_FIELDS: ReadonlySet<string> = new Set(['from', 'sender', 'to', 'subject', 'date', 'message-id', 'received', 'return-path', 'delivered-to', 'mime-version', 'reply-to', 'x-original-to']);

/**
 * Whether fields are a message's (or a MIME entity's) header: one of them is a
 * message field or a Content-* / MIME-Version field. "Name: Jane" and
 * "Phone: 555" at the top of a form mailer's text are not.
 */
export function isMessageHeader(fields: readonly { name: string }[]): boolean {
  return fields.some((f) => MESSAGE_FIELDS.has(f.name) || f.name.startsWith('content-') || f.name.startsWith('resent-'));
}

// A line a forwarder or filter puts above a message: a separator, or a few
// words between runs of dashes ("---- Original email message ----",
// "-----Original Message-----"), or "Begin forwarded message:". Only such lines
// are skipped: a line a person wrote ("This is a reply from Outlook!") means the
// header-like lines below it are quoted text, and the mail is read as text.
const WRAPPER_LINE = /^\s*(?:[-=_*~#+.]{3,}|[-=_*~<>[(]{2,}[^\n]{0,80}?[-=_*~<>\])]{2,}|(?:begin )?forwarded message:?|original message:?)\s*$/i;

/**
 * A well-formed header block after wrapper lines (at most `maxLines` of
 * them, within 8 KiB of `from`): at least two fields follow one another with
 * no stray line, one of them a message field (From, Subject, Date, Received,
 * ...). Returns its offset and how many lines came before it, or null.
 */
export function findHeaderBlock(raw: Buffer, from: number, maxLines = 3): { start: number; skippedLines: number } | null {
  const stop = Math.min(raw.length, from + 8192);
  let pos = from;
  let skipped = 0;
  for (let i = 0; i <= maxLines && pos < stop; i++) {
    if (startsWithHeaderField(raw, pos)) {
      const block = readHeaderBlock(raw, pos, 16 * 1024);
      if (block.junkLines === 0 && block.fields.length >= 2 && isMessageHeader(block.fields)) return { start: pos, skippedLines: skipped };
    }
    const nl = raw.indexOf(0x0a, pos);
    if (nl === -1) return null;
    const line = raw.subarray(pos, nl).toString('latin1');
    if (line.trim() !== '') {
      if (!WRAPPER_LINE.test(line)) return null;
      skipped++;
    }
    pos = nl + 1;
  }
  return null;
}

/**
 * Splits the header block starting at `start` into fields. Reads at most
 * `maxBytes` bytes; a block longer than that is cut (`truncated`).
 */
export function readHeaderBlock(raw: Buffer, start: number, maxBytes: number): HeaderBlock {
  const fields: RawHeaderField[] = [];
  let junkLines = 0;
  let pos = start;
  const limit = Math.min(raw.length, start + maxBytes);
  let current: { name: string; chunks: Buffer[] } | null = null;
  let bodyOffset = raw.length;
  let truncated = false;

  const flush = (): void => {
    if (!current) return;
    const bytes = Buffer.concat(current.chunks);
    fields.push({ name: current.name, value: decodeHeaderBytes(bytes).trim(), raw: bytes });
    current = null;
  };

  for (;;) {
    if (pos >= limit) {
      truncated = limit < raw.length;
      if (truncated) bodyOffset = limit;
      break;
    }
    let nl = raw.indexOf(0x0a, pos);
    if (nl === -1 || nl >= limit) {
      if (limit < raw.length) {
        truncated = true;
        bodyOffset = limit;
        break;
      }
      nl = raw.length;
    }
    let end = nl;
    if (end > pos && raw[end - 1] === 0x0d) end--;
    const line = raw.subarray(pos, end);
    pos = nl + 1;
    if (line.length === 0) {
      bodyOffset = Math.min(pos, raw.length);
      break;
    }
    const first = line[0];
    if (first === 0x20 || first === 0x09) {
      if (current) current.chunks.push(line);
      else junkLines++;
      continue;
    }
    const colon = line.indexOf(0x3a);
    // A field name is short: never run a regex over a long line with no early colon.
    const name = colon > 0 && colon <= 256 ? line.subarray(0, colon).toString('latin1').replace(/[ \t]+$/, '') : '';
    if (!FIELD_NAME.test(name)) {
      junkLines++;
      continue;
    }
    flush();
    current = { name: name.toLowerCase(), chunks: [line.subarray(colon + 1)] };
  }
  flush();
  return { fields, bodyOffset, truncated, junkLines };
}

/** All values of one header (lower-case name), in order. */
export function valuesOf(fields: readonly RawHeaderField[], name: string): string[] {
  return fields.filter((f) => f.name === name).map((f) => f.value);
}

/** Parses `type/subtype; param=value` into a lower-case type and its params (RFC 2231 handled by libmime). */
export function parseStructured(value: string): { value: string; params: Record<string, string> } {
  try {
    const parsed = libmime.parseHeaderValue(value);
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed.params)) params[k.toLowerCase()] = String(v);
    return { value: String(parsed.value).trim().toLowerCase(), params };
  } catch {
    return { value: value.split(';')[0]?.trim().toLowerCase() ?? '', params: {} };
  }
}

const MSG_ID = /<([^<>\s]{1,998})>/g;

/**
 * Extracts message ids from In-Reply-To / References / Message-ID values,
 * without angle brackets, de-duplicated in order. Ids written without brackets
 * are taken as white-space separated tokens containing `@`.
 */
export function extractMessageIds(values: readonly string[], maxChars: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (id: string): void => {
    const clean = id.trim();
    if (clean === '' || seen.has(clean)) return;
    seen.add(clean);
    out.push(clean);
  };
  for (const raw of values) {
    const value = raw.slice(0, maxChars);
    let found = false;
    for (const m of value.matchAll(MSG_ID)) {
      found = true;
      add(m[1] ?? '');
    }
    if (!found) {
      for (const token of value.split(/[\s,]+/)) if (token.includes('@')) add(token.replace(/^<|>$/g, ''));
    }
  }
  return out;
}
