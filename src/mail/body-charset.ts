// Text bodies in the charset they really are in, not only the one they declare.
//
// mailparser decodes a body in a charset nobody knows (`x-unknown`,
// `unknown-8bit`, a typo) as UTF-8 and turns every other byte into U+FFFD, and
// so does it for 8-bit bytes in a body declared US-ASCII (or declaring nothing),
// which old and badly configured clients send every day. Its `Iconv` option
// lets us supply the decoder: a charset libmime knows is decoded exactly as
// mailparser would (aliases, the Japanese charsets); the other cases are read
// as UTF-8 when the bytes are valid UTF-8, else in the legacy charset a
// detector (chardet) is sure of, else as windows-1252, the superset of
// Latin-1 that WHATWG decoders use for "us-ascii" and "iso-8859-1" too.
// A body declared UTF-8 whose 8-bit bytes form not a single valid UTF-8
// sequence is in a legacy charset in disguise and is read the same way; one
// with some valid sequences stays UTF-8 (its bad bytes become U+FFFD).
//
// mailparser never hands UTF-7 (or base64/hex "charsets") to this decoder.
import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import libmime from 'libmime';
import { decodeUnknownBytes, type CharsetHint } from './unknown-bytes.js';

const ASCII = /^(?:us-?ascii|ascii|ansi_x3\.4-19(?:68|86)|iso646-us|us|646|cp367|ibm367|csascii|iso-ir-6)$/;
const UTF8 = /^utf-?8$/;

/** Whether the body needs our reading (ASCII, none, UTF-8) rather than libmime's decoder. */
function ownDecoding(cs: string): boolean {
  return cs === '' || ASCII.test(cs) || UTF8.test(cs);
}

/** The bytes of a body declared `charset`, read as ownDecoding says (known charsets go to libmime's stream). */
export function decodeBodyBytes(charset: string, bytes: Buffer): string {
  const cs = charset.trim().toLowerCase();
  if (UTF8.test(cs)) return decodeUtf8OrLegacy(bytes);
  return decodeUnknownBytes(bytes);
}

/** UTF-8, unless no 8-bit byte of the text takes part in a valid UTF-8 sequence. */
function decodeUtf8OrLegacy(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (!text.includes('\ufffd')) return text;
  // Any character above U+007F other than U+FFFD came from a valid sequence.
  return /[^\u0000-\u007f\ufffd]/.test(text) ? text : decodeUnknownBytes(bytes);
}

/**
 * The `Iconv` class mailparser accepts: `new Iconv(from, to)`, a stream of
 * UTF-8 out. Known charsets stream through libmime's decoder, as mailparser
 * would decode them; the others are decoded once the body has all arrived,
 * which costs no more memory than the text mailparser keeps of it anyway.
 */
export class BodyDecoder extends Transform {
  private readonly chunks: Buffer[] = [];
  private readonly charset: string;
  private readonly inner: Transform | null;

  constructor(charset: string, _to?: string) {
    super();
    const cs = charset.trim().toLowerCase();
    this.charset = cs.startsWith(MARK) ? cs.slice(MARK.length).replace(/^none$/, '') : cs;
    // libmime knows more names than any list here (aliases, ks_c_5601-1987, the Japanese charsets); what it
    // does not support it would read as UTF-8 with replacements, so those are read here instead.
    const inner = ownDecoding(this.charset) ? null : (libmime.createDecodeStream(this.charset) as Transform & { supported?: boolean });
    this.inner = inner && inner.supported !== false ? inner : null;
    this.inner?.on('data', (chunk: Buffer) => this.push(chunk));
    this.inner?.on('error', (err: Error) => this.destroy(err));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.inner) this.inner.write(chunk, () => done());
    else {
      this.chunks.push(chunk);
      done();
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.inner) {
      this.inner.once('end', () => done());
      this.inner.end();
      return;
    }
    try {
      this.push(Buffer.from(decodeBodyBytes(this.charset, Buffer.concat(this.chunks)), 'utf8'));
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

/** The prefix `markTextCharsets` gives the charsets mailparser would otherwise read as plain UTF-8. */
export const MARK = 'x-mailroom-';
const MAX_BLOCKS = 2000;

/** An edit of the bytes handed to the parser: `remove` bytes at `at` replaced by `insert`. */
interface Edit {
  at: number;
  remove: number;
  insert: string | Buffer;
}

/**
 * mailparser hands a body to the `Iconv` decoder only when its charset is not
 * US-ASCII or UTF-8 (or absent); those it turns into a string as UTF-8 itself,
 * replacing every Latin-1 byte. So before parsing, the Content-Type of each
 * text part in those charsets is marked (`charset=x-mailroom-us-ascii`, or
 * `; charset=x-mailroom-none` appended), and BodyDecoder reads the mark. Only
 * header blocks are touched: the message's own, each part's (found by its
 * parent's boundary); never those inside a message/rfc822 part, which becomes
 * an attachment byte for byte. The result
 * is only ever given to the parser; the stored raw bytes stay as received.
 *
 * The message is given as pieces: views of `raw` between the edits (no copy
 * of it; a 50 MB attachment's base64 is never duplicated) and the edits'
 * bytes, `[raw]` when nothing needs marking. Only header blocks and delimiter
 * lines are read as text, never the whole message.
 */
export function markedPieces(raw: Buffer, hint: CharsetHint = {}): Buffer[] {
  const edits = markEdits(bufferBytes(raw), hint);
  if (edits.length === 0) return [raw];
  const pieces: Buffer[] = [];
  let last = 0;
  for (const e of edits) {
    pieces.push(raw.subarray(last, e.at), e.insert);
    last = e.at + e.remove;
  }
  pieces.push(raw.subarray(last));
  return pieces;
}

/**
 * markedPieces for a message that is not in memory (a RawFile's bytes from
 * its header on): the same edits, the bytes between them read as they are
 * wanted, a chunk at a time.
 */
export async function* markedChunks(message: MessageBytes & { chunks(start: number, end: number): AsyncIterable<Buffer> }, hint: CharsetHint = {}): AsyncGenerator<Buffer> {
  let last = 0;
  for (const e of markEdits(message, hint)) {
    yield* message.chunks(last, e.at);
    yield e.insert;
    last = e.at + e.remove;
  }
  yield* message.chunks(last, message.length);
}

/** What markEdits reads of a message: a Buffer (bufferBytes), or a large message's file. */
export interface MessageBytes {
  readonly length: number;
  /** The byte at `i`, undefined past the end. */
  byte(i: number): number | undefined;
  indexOf(value: string | number, from: number): number;
  latin1(start: number, end: number): string;
  bytes(start: number, end: number): Buffer;
}

export function bufferBytes(raw: Buffer): MessageBytes {
  return {
    length: raw.length,
    byte: (i) => raw[i],
    indexOf: (value, from) => raw.indexOf(value, from),
    latin1: (start, end) => raw.toString('latin1', start, end),
    bytes: (start, end) => raw.subarray(start, end),
  };
}

/** The edits markedPieces makes, in order, none overlapping another. */
function markEdits(raw: MessageBytes, hint: CharsetHint): { at: number; remove: number; insert: Buffer }[] {
  const edits = new Map<number, Edit>();
  const delimiters = delimiterLines(raw);
  // Where a header block starts, and whether a missing Content-Type means text/plain (not so in a digest).
  const pending: number[] = [0];
  const inDigest = new Set<number>();
  const seen = new Set<number>();
  while (pending.length > 0 && seen.size < MAX_BLOCKS) {
    const start = pending.pop()!;
    if (seen.has(start)) continue;
    seen.add(start);
    const end = headerEnd(raw, start);
    const block = raw.latin1(start, end);
    if (start > 0) transcodeHeaderLines(raw, block, start, hint, edits);
    const field = /(?:^|\n)content-type[ \t]*:((?:[^\n]*)(?:\n[ \t][^\n]*)*)/i.exec(block);
    if (!field) {
      // No Content-Type: text/plain in US-ASCII. A field is added only to the message's own header
      // block, which surely is one (a part's "headers" may be body text in a malformed message), and
      // not when a Content-Disposition lets mailparser take the type from a file name.
      if (start === 0 && end > 0 && /^[!-9;-~]{1,100}:/.test(block) && !inDigest.has(start) && !/(?:^|\n)content-disposition[ \t]*:/i.test(block)) {
        edits.set(0, { at: 0, remove: 0, insert: `Content-Type: text/plain; charset=${MARK}none\r\n` });
      }
      continue;
    }
    const valueAt = start + field.index + field[0].length - field[1]!.length;
    const value = field[1]!.replace(/\r$/, '');
    // Quoted parameter values (`name="notes; charset=us-ascii"`) are masked, except a quoted charset itself.
    const masked = value.replace(/"(?:[^"\\\r\n]|\\.)*"/g, (m: string, off: number) => (/charset\s*=\s*$/i.test(value.slice(Math.max(0, off - 20), off)) ? m : `"${'x'.repeat(m.length - 2)}"`));
    const type = /^\s*([a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+)/i.exec(value)?.[1]?.toLowerCase() ?? 'text/plain';
    if (type.startsWith('text/')) {
      const cs = /(;\s*charset\s*=\s*"?)([^";\s]*)/i.exec(masked);
      if (!cs) {
        const at = valueAt + value.replace(/\s+$/, '').length;
        edits.set(at, { at, remove: 0, insert: `; charset=${MARK}none` });
      } else if (cs[2] === '' || /^(?:us-?ascii|ascii|utf-?8)$/i.test(cs[2]!)) {
        const at = valueAt + cs.index + cs[1]!.length;
        edits.set(at, { at, remove: cs[2]!.length, insert: `${MARK}${cs[2] || 'none'}` });
      }
    } else if (type.startsWith('multipart/')) {
      // At most 70 characters (RFC 2046), as mailparser's splitter reads them.
      const b = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^;\s"]{1,70}))(?=[;\s]|$)/i.exec(value);
      const boundary = b?.[1] ?? b?.[2];
      const opens = boundary === undefined ? undefined : delimiters.get(`--${boundary}`);
      if (opens) {
        const close = (delimiters.get(`--${boundary}--`) ?? []).find((at) => at >= end) ?? Infinity;
        for (const lineEnd of opens) {
          if (lineEnd < end || lineEnd > close) continue;
          if (seen.size + pending.length >= MAX_BLOCKS) break;
          pending.push(lineEnd);
          if (type === 'multipart/digest') inDigest.add(lineEnd);
        }
      }
    }
    // message/rfc822 parts are not entered: they become .eml attachments, whose bytes must stay as sent.
  }
  const out: { at: number; remove: number; insert: Buffer }[] = [];
  let last = 0;
  for (const e of [...edits.values()].sort((a, b) => a.at - b.at)) {
    if (e.at < last) continue;
    out.push({ at: e.at, remove: e.remove, insert: typeof e.insert === 'string' ? Buffer.from(e.insert, 'latin1') : e.insert });
    last = e.at + e.remove;
  }
  return out;
}

/** markedPieces as one Buffer: `raw` itself when nothing needs marking. */
export function markTextCharsets(raw: Buffer, hint: CharsetHint = {}): Buffer {
  const pieces = markedPieces(raw, hint);
  return pieces.length === 1 && pieces[0] === raw ? raw : Buffer.concat(pieces);
}

/**
 * A part's header lines (`block`, read as Latin-1 from `raw` at `start`) with
 * raw 8-bit bytes that are not UTF-8 (a file name
 * in GBK, Shift_JIS, windows-1252) rewritten as UTF-8, read as
 * decodeUnknownBytes reads them with the message's hint: mailparser reads
 * raw header bytes as UTF-8 and would turn each into U+FFFD. A line is only
 * rewritten when it does not hold a charset parameter, which the text mark
 * may edit at the same place.
 */
function transcodeHeaderLines(raw: MessageBytes, block: string, start: number, hint: CharsetHint, edits: Map<number, Edit>): void {
  if (!/[\x80-\xff]/.test(block)) return;
  let at = start;
  for (const line of block.split('\n')) {
    const lineEnd = at + line.length;
    if (/[\x80-\xff]/.test(line) && !/charset\s*=/i.test(line)) {
      const bytes = raw.bytes(at, lineEnd);
      if (!isUtf8(bytes)) edits.set(at, { at, remove: bytes.length, insert: Buffer.from(decodeUnknownBytes(bytes, hint), 'utf8') });
    }
    at = lineEnd + 1;
  }
}

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

/**
 * Every line that could be a MIME delimiter (`--` + at most 72 characters),
 * by its text without trailing white space, with the offset just past it
 * (for a closing `--b--` the offset of the line end): one pass over the
 * message, so no multipart searches the rest of the message for its boundary.
 */
function delimiterLines(raw: MessageBytes): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (let i = raw.byte(0) === DASH && raw.byte(1) === DASH ? 0 : raw.indexOf('\n--', 0); i >= 0; i = raw.indexOf('\n--', i + 1)) {
    const lineStart = raw.byte(i) === LF ? i + 1 : i;
    const nl = raw.indexOf(LF, lineStart);
    const lineEnd = nl < 0 ? raw.length : nl;
    if (lineEnd - lineStart > 80) continue;
    const key = raw.latin1(lineStart, lineEnd).replace(/[ \t\r]+$/, '');
    const list = out.get(key);
    const next = nl < 0 ? raw.length : nl + 1;
    if (list) list.push(next);
    else out.set(key, [next]);
  }
  return out;
}

/**
 * Takes the marks out of text where a malformed message made the parser read
 * a marked header block as body text, so they never reach a conversation.
 */
export function unmarkTextCharsets(text: string): string {
  if (!text.includes(MARK)) return text;
  return text.replaceAll(`; charset=${MARK}none`, '').replaceAll(MARK, '');
}

/** Offset just past the blank line ending the header block that starts at `start` (or the end). */
function headerEnd(raw: MessageBytes, start: number): number {
  const at = (i: number, byte: number) => raw.byte(i) === byte;
  // No headers at all.
  if ((at(start, CR) && at(start + 1, LF)) || at(start, LF) || (at(start, DASH) && at(start + 1, DASH))) return start;
  // A blank line ends the block; so does a delimiter line (a part whose headers run into the next boundary).
  for (let nl = raw.indexOf(LF, start); nl >= 0; nl = raw.indexOf(LF, nl + 1)) {
    if (at(nl + 1, CR) && at(nl + 2, LF)) return nl + 3;
    if (at(nl + 1, LF)) return nl + 2;
    if (at(nl + 1, DASH) && at(nl + 2, DASH)) return nl + 1;
  }
  return raw.length;
}
