// Raw RFC 5322 bytes in, InboundMail out: the one place that knows how real
// mail is broken. The top-level headers are read from the raw bytes here
// (headers.ts: 8-bit names, unknown charsets), the MIME body by mailparser
// with every limit it offers set from ParseLimits; attachments then get safe
// names (filenames.ts), hashes, and the repairs mailparser does not do:
// uuencoded blocks in text, TNEF (winmail.dat) unpacked, forwarded mails named
// after their subject. The text of an HTML-only mail is rendered here with
// the reply renderer (bounded in nodes and depth, no line wrapping), not by
// mailparser: its html-to-text splits an over-long word in time quadratic in
// the word's length, so a body of adjacent images (one "word" of image
// placeholders) held a worker for most of a minute. Junk before the headers
// (an mbox line, a BOM, a filter's wrapper line) is skipped with a warning;
// bytes with no header block at all become a text-only mail from an unknown
// sender (text-only.ts). Malformed mail never throws; only input that is
// empty or not text (MAIL_UNREADABLE) and input over the size or top-level
// header limit (MAIL_LIMIT_EXCEEDED, with what the header said: MailLimitError)
// do, and a large mail's temporary file that cannot be read (RawFile:
// STORAGE_FAILED, the machine's failure, not the mail's). A body over a
// structural limit (MIME parts, a part's header) is not read: the mail keeps
// its headers, no text, and a warning (limits.ts). What becomes of the
// attachments found is in mail-attachments.ts.

import { expandAttachment, finishAttachments, guessType, type Collected } from './mail-attachments.js';
import { BodyDecoder, markedChunks, markedPieces, unmarkTextCharsets } from './body-charset.js';
import { MailroomError, describeError, isMailroomError } from '../errors.js';
import { readMimeBody, type MimeBody } from './mime-body.js';
import { parseAddressValues } from './addresses.js';
import {
  cleanHeaderText,
  decodeWords,
  extractMessageIds,
  findHeaderBlock,
  isKnownCharset,
  isMessageHeader,
  messageStart,
  normaliseLineEndings,
  parseStructured,
  readHeaderBlock,
  redecodeFields,
  startsWithHeaderField,
  valuesOf,
} from './headers.js';
import { HINT_SCAN_BYTES, headerHintOf } from './header-hint.js';
import { RawFile, type RawBytes } from './raw-file.js';
import { textOnlyMail } from './text-only.js';
import { extractUuencoded } from './uuencode.js';

export { extractUuencoded } from './uuencode.js';
import type { RawHeaderField } from './headers.js';
import { DEFAULT_REPLY_LIMITS } from './reply/limits.js';
import { htmlBodyText } from './reply/html.js';
import type { AddressHeaders, AttachmentSink, InboundMail, MailAddress } from './types.js';
import { DEFAULT_PARSE_LIMITS, MailLimitError, type HeaderFacts, type ParseLimits } from './limits.js';

export { DEFAULT_PARSE_LIMITS, MailLimitError, type HeaderFacts, type ParseLimits } from './limits.js';

const ADDRESS_HEADERS: readonly [keyof AddressHeaders, string, boolean][] = [
  // [field, header name, only the first occurrence counts]
  ['from', 'from', true],
  ['sender', 'sender', true],
  ['to', 'to', false],
  ['cc', 'cc', false],
  ['bcc', 'bcc', false],
  ['replyTo', 'reply-to', true],
  ['resentFrom', 'resent-from', false],
  ['resentTo', 'resent-to', false],
  ['xForwardedTo', 'x-forwarded-to', false],
  ['deliveredTo', 'delivered-to', false],
  ['xOriginalTo', 'x-original-to', false],
];

// mailparser's own structural limits: its error message is all it tells us.
const MAILPARSER_LIMIT_ERROR = /max (allowed child nodes|header size)/i;

/** How the warning on a mail whose body was over a limit starts. */
export const BODY_NOT_READ = 'the body was not read, it is over a limit';

/** From, subject and Message-ID of a header block too big to parse, from its first part. */
function headerFacts(fields: readonly RawHeaderField[]): HeaderFacts {
  const from = parseAddressValues(valuesOf(fields, 'from').slice(0, 1), { maxAddresses: 1 }).addresses[0]?.address.trim().toLowerCase() ?? null;
  const subject = cleanHeaderText(decodeWords(valuesOf(fields, 'subject')[0] ?? '')).slice(0, 2000);
  return { from, subject: subject === '' ? null : subject, messageId: extractMessageIds(valuesOf(fields, 'message-id').slice(0, 1), 2000)[0] ?? null };
}

/**
 * Parses one raw message. Throws MailroomError `MAIL_UNREADABLE` when the
 * input is not a mail at all (empty, or bytes that are not text) and
 * `MAIL_LIMIT_EXCEEDED` when it is over the size or top-level header limit
 * (a body over a limit is a warning, headers only); anything else malformed is
 * parsed as well as possible with `warnings` (text without any header block
 * included: a mail from an unknown sender). With a `sink`, attachments over
 * its threshold are written to it while the body is parsed and come back
 * with `stored` instead of `content`; a failing sink rejects with its error.
 * `raw` may be a RawFile (a large mail in a temporary file): parsed from there
 * without reading it whole (STORAGE_FAILED when the file cannot be read).
 */
export async function parseMail(raw: RawBytes, opts: Partial<ParseLimits> = {}, sink: AttachmentSink | null = null): Promise<InboundMail> {
  const limits: ParseLimits = { ...DEFAULT_PARSE_LIMITS, ...opts };
  if (!Buffer.isBuffer(raw) && !(raw instanceof RawFile)) throw new MailroomError('MAIL_UNREADABLE', 'The message is not a byte buffer');
  if (raw.length > limits.maxRawBytes) {
    throw new MailroomError('MAIL_LIMIT_EXCEEDED', `The message is ${raw.length} bytes, over the limit of ${limits.maxRawBytes}`);
  }
  if (Buffer.isBuffer(raw)) return parseBytes(raw, null, limits, sink);
  // A large mail in a file: what is read of the message around its header (where it starts, the header
  // block, the 4 MiB the charset hints scan) comes from its first MiBs; only the body is streamed.
  const headBytes = 16 * 1024 + limits.maxHeaderBytes + HINT_SCAN_BYTES;
  const head = raw.length > 2 * headBytes ? raw.readSync(0, headBytes) : null;
  // Bare-CR line endings (no LF in the head) are converted whole, as in memory.
  return (head?.includes(0x0a) ? await parseBytes(head, raw, limits, sink) : null) ?? parseBytes(await raw.read(), null, limits, sink);
}

/**
 * parseMail on `bytes`: the whole message in memory (`file` null), or the
 * first MiBs of `file`, whose body is then streamed from it; for a file, null
 * where the message needs reading whole after all (no header block where one
 * is expected, mbox lines reaching past the head): parseMail then reads it
 * into memory.
 */
async function parseBytes(bytes: Buffer, file: RawFile, limits: ParseLimits, sink: AttachmentSink | null): Promise<InboundMail | null>;
async function parseBytes(bytes: Buffer, file: null, limits: ParseLimits, sink: AttachmentSink | null): Promise<InboundMail>;
async function parseBytes(whole: Buffer, file: RawFile | null, limits: ParseLimits, sink: AttachmentSink | null): Promise<InboundMail | null> {
  const warnings: string[] = [];
  // A file's head has an LF (parseMail), so only a message in memory can need converting.
  const normalised = file ? whole : normaliseLineEndings(whole);
  if (normalised !== whole) warnings.push('line endings were bare CR; converted to CRLF');
  let start = messageStart(normalised);
  if (start > 0 && /[^\s]/.test(normalised.subarray(0, start).toString('latin1'))) {
    warnings.push('an mbox "From " line or a byte order mark before the header block skipped');
  }
  // A first line like "Name: Jane" starts a header block only when the block is a message's header
  // (or one too big to tell: that is over the limit).
  let block = startsWithHeaderField(normalised, start) ? readHeaderBlock(normalised, start, limits.maxHeaderBytes) : null;
  if (block === null || !(block.truncated || isMessageHeader(block.fields))) {
    const found = findHeaderBlock(normalised, start);
    if (found === null && file) return null;
    if (found === null) return textOnlyMail(whole, normalised.subarray(start), limits.maxTextChars, warnings);
    warnings.push(`${found.skippedLines} line(s) before the header block skipped`);
    start = found.start;
    block = readHeaderBlock(normalised, start, limits.maxHeaderBytes);
  }
  // The head holds everything read up to the body (the block, the 4 MiB of hints after it) only up to here.
  if (file && start + limits.maxHeaderBytes + HINT_SCAN_BYTES > normalised.length) return null;
  if (block.truncated) {
    throw new MailLimitError(`The header block is larger than ${limits.maxHeaderBytes} bytes (MAILROOM_MAX_HEADER_BYTES)`, headerFacts(block.fields));
  }
  if (block.junkLines > 0) warnings.push(`${block.junkLines} malformed header line(s) ignored`);

  // Raw 8-bit header values in a legacy charset: read again with what the whole message says of its charset.
  const hint = headerHintOf(normalised.subarray(start), block.fields);
  const fields = hint.named || hint.detected ? redecodeFields(block.fields, hint) : block.fields;
  const { addresses, badAddresses } = readAddresses(fields, limits, warnings);
  const contentTypeField = parseStructured(valuesOf(fields, 'content-type')[0] ?? 'text/plain');
  const contentType = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(contentTypeField.value) ? contentTypeField.value : 'text/plain';
  warnUnknownCharsets(normalised, fields, warnings);

  const body = await parseBody(file ? markedChunks(file.view(start), hint) : markedPieces(normalised.subarray(start), hint), limits, warnings, sink);
  let text = body?.text == null ? null : unmarkTextCharsets(body.text);
  const html = body?.html == null ? null : unmarkTextCharsets(body.html);
  // mailparser's HTML-to-text is off (see the module comment). Where it made the text, a
  // top-level text/html body or HTML beside blank text parts, the text is the HTML's.
  if (html !== null && (text === null ? contentType === 'text/html' : text.trim() === '')) {
    text = textOfHtml(html, limits, warnings);
  }

  const collected: Collected[] = [];
  if (text !== null) {
    const uu = extractUuencoded(text, { maxBlocks: 20 });
    if (uu.files.length > 0) {
      text = uu.text;
      for (const f of uu.files) collected.push({ filename: f.filename, contentType: guessType(f.filename), content: f.content, stored: null });
    }
  }
  for (const att of body?.attachments ?? []) collected.push(...expandAttachment(att, warnings));
  if (text !== null && text.length > limits.maxTextChars) {
    text = text.slice(0, limits.maxTextChars);
    warnings.push(`text cut to ${limits.maxTextChars} characters`);
  }

  return {
    messageId: extractMessageIds(valuesOf(fields, 'message-id').slice(0, 1), 2000)[0] ?? null,
    inReplyTo: extractMessageIds(valuesOf(fields, 'in-reply-to'), 20_000).slice(0, limits.maxReferences),
    references: capReferences(extractMessageIds(valuesOf(fields, 'references'), 200_000), limits.maxReferences),
    subject: cleanHeaderText(decodeWords(valuesOf(fields, 'subject')[0] ?? '')),
    date: parseDate(valuesOf(fields, 'date')[0]),
    addresses,
    badAddresses,
    text,
    html,
    attachments: finishAttachments(collected, html, limits, warnings),
    headers: headerBag(fields),
    contentType,
    reportType: contentType === 'multipart/report' ? (contentTypeField.params['report-type']?.trim().toLowerCase() ?? null) : null,
    rawSize: file?.length ?? whole.length,
    warnings,
  };
}

/** The body, from the message's bytes after its own header block on (markedPieces). */
async function parseBody(message: Iterable<Buffer> | AsyncIterable<Buffer>, limits: ParseLimits, warnings: string[], sink: AttachmentSink | null): Promise<MimeBody | null> {
  try {
    return await readMimeBody(message, {
      maxHeadSize: limits.maxHeaderBytes,
      maxChildNodes: limits.maxParts,
      // The text of HTML-only mail is rendered by textOfHtml (see the module comment).
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
      keepDeliveryStatus: true,
      ignoreEmbedded: true,
      checksumAlgo: false,
      // Bodies in US-ASCII, no or an unknown charset with 8-bit bytes: read, not replaced (body-charset.ts).
      Iconv: BodyDecoder,
    }, sink);
  } catch (err) {
    // The blob store failed, not the mail: the ingest is retried, the mail is not failed.
    if (isMailroomError(err, 'STORAGE_FAILED')) throw err;
    const message = describeError(err);
    // Over a structural limit the top-level headers (read before) still make a conversation.
    if (MAILPARSER_LIMIT_ERROR.test(message)) {
      const limit = /child nodes/i.test(message)
        ? `it has more than ${limits.maxParts} MIME parts (MAILROOM_MAX_MIME_PARTS)`
        : `a MIME part's header is larger than ${limits.maxHeaderBytes} bytes (MAILROOM_MAX_HEADER_BYTES)`;
      warnings.push(`${BODY_NOT_READ}: ${limit}; only the headers were read, the raw message is kept for reprocess`);
      return null;
    }
    warnings.push(`body could not be parsed (${message.slice(0, 200)}); headers only`);
    return null;
  }
}

/** The text of an HTML-only mail: bounded, unwrapped, the sender's blockquotes as "> " lines. */
function textOfHtml(html: string, limits: ParseLimits, warnings: string[]): string {
  if (html.length > limits.maxHtmlBytes) {
    warnings.push(`HTML not converted to text: ${html.length} characters, over the limit of ${limits.maxHtmlBytes}`);
    return '';
  }
  try {
    const rendered = htmlBodyText(html, { ...DEFAULT_REPLY_LIMITS, maxHtmlChars: limits.maxHtmlBytes });
    if (rendered.truncated) warnings.push(`HTML text cut after ${DEFAULT_REPLY_LIMITS.maxHtmlNodes} elements`);
    return rendered.text;
  } catch (err) {
    warnings.push(`HTML not converted to text: ${describeError(err).slice(0, 200)}`);
    return '';
  }
}

function readAddresses(fields: readonly RawHeaderField[], limits: ParseLimits, warnings: string[]) {
  const addresses = {} as Record<keyof AddressHeaders, MailAddress[]>;
  const badAddresses: InboundMail['badAddresses'] = [];
  for (const [key, name, firstOnly] of ADDRESS_HEADERS) {
    const all = valuesOf(fields, name);
    // Of several From (Sender, Reply-To) headers the first with a usable address counts.
    let chosen = 0;
    if (firstOnly && all.length > 1) {
      const usable = all.findIndex((v) => parseAddressValues([v], { maxAddresses: 1 }).addresses.length > 0);
      chosen = Math.max(0, usable);
      warnings.push(`${all.length} ${name} headers; only the ${chosen === 0 ? 'first' : 'first with a usable address'} is used`);
    }
    const parsed = parseAddressValues(firstOnly ? all.slice(chosen, chosen + 1) : all, { maxAddresses: limits.maxAddressesPerHeader });
    addresses[key] = parsed.addresses;
    for (const value of parsed.bad) badAddresses.push({ header: name, value });
    if (parsed.capped) warnings.push(`more than ${limits.maxAddressesPerHeader} addresses in ${name}; the rest were dropped`);
  }
  return { addresses: addresses as AddressHeaders, badAddresses };
}

function headerBag(fields: readonly RawHeaderField[]): Map<string, string[]> {
  const bag = new Map<string, string[]>();
  for (const f of fields) {
    const list = bag.get(f.name) ?? [];
    list.push(cleanHeaderText(decodeWords(f.value)));
    bag.set(f.name, list);
  }
  return bag;
}

function parseDate(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const cleaned = value.slice(0, 200).trim();
  if (!/\d/.test(cleaned)) return null;
  const ms = Date.parse(cleaned);
  if (Number.isNaN(ms)) return null;
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  return year >= 1900 && year <= 2200 ? date : null;
}

/** Keeps the first id (the thread root) and the most recent ones. */
function capReferences(ids: string[], max: number): string[] {
  if (ids.length <= max) return ids;
  if (max <= 1) return ids.slice(0, max);
  return [...ids.slice(0, 1), ...ids.slice(ids.length - (max - 1))];
}

/** Warns once per charset a part or encoded word declares that nothing can decode. */
function warnUnknownCharsets(raw: Buffer, fields: readonly RawHeaderField[], warnings: string[]): void {
  const found = new Set<string>();
  const scan = (s: string, re: RegExp): void => {
    for (const m of s.matchAll(re)) {
      const cs = (m[1] ?? '').toLowerCase();
      if (found.size < 10 && cs !== '' && !isKnownCharset(cs)) found.add(cs);
    }
  };
  // Part headers sit near the start of each part; the first MiBs hold them in practice. A
  // quoted-printable body's own `charset=3Diso-8859-1` (an HTML meta tag, `=3D` being "=") is not one.
  scan(raw.subarray(0, 4 * 1024 * 1024).toString('latin1'), /charset\s*=\s*"?(?!3D)([A-Za-z0-9_.:+-]{1,64})/gi);
  // Encoded words: UTF-7 is decoded in header text (decodeCharsetBytes), so it is not unknown there.
  for (const f of fields) scan(f.value.replace(/=\?(unicode-1-1-)?utf-?7[*?]/gi, ''), /=\?([^?*\s]{1,64})[*?]/g);
  for (const cs of found) warnings.push(`unknown charset "${cs}"; decoded as UTF-8 where valid, else windows-1252`);
}
