// The MIME body of a message read with mailparser's streaming MailParser:
// what its simpleParser returns (the text, the HTML, the attachments), except
// that an attachment over the sink's threshold is not buffered: its bytes go
// to the sink (the blob store) as they are decoded, hashed on the way, and
// the attachment carries the stored blob instead of its content. simpleParser
// holds every attachment's chunks and then a concatenated copy of them: a
// 50 MB attachment cost over 100 MB while its mail was parsed.
//
// Attachments the mail core reads into after parsing stay whole in memory: a
// TNEF file (winmail.dat, unpacked into its files). Of an attached message
// (message/rfc822 and kin) only its beginning is kept beside the stored
// bytes: its subject names the attachment (HEAD_BYTES covers what that reads).
import { Readable } from 'node:stream';
import { MailParser } from 'mailparser';
import type { AttachmentStream, MailParserOptions, MessageText } from 'mailparser';
import type { AttachmentSink, StoredBlobRef } from './types.js';

export interface MimeAttachment {
  filename: string | null;
  contentType: string;
  /** The bytes; for a stored attachment, only its first HEAD_BYTES when it is an attached message, else null. */
  content: Buffer | null;
  /** Where the bytes went when they were over the sink's threshold. */
  stored: StoredBlobRef | null;
  cid: string | null;
  contentDisposition: string | null;
}

export interface MimeBody {
  text: string | null;
  html: string | null;
  attachments: MimeAttachment[];
}

/** The start of an attached message kept when its bytes are stored: its header and the 4 MiB its charset hint reads, with room. */
export const HEAD_BYTES = 5 * 1024 * 1024;

const ATTACHED_MESSAGE = new Set(['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers']);

/** A TNEF file: unpacked after parsing, so it is held whole. */
export function isTnefFile(contentType: string, filename: string | null | undefined): boolean {
  const type = contentType.toLowerCase();
  return type === 'application/ms-tnef' || type === 'application/vnd.ms-tnef' || (filename ?? '').toLowerCase() === 'winmail.dat';
}

/**
 * Parses the message (its bytes in `pieces`, in memory or read from a file as
 * they are wanted, handed to the parser as views of at most CHUNK_BYTES, as a
 * socket delivers mail: never one copy of the whole message) as simpleParser
 * would with `options` and keepCidLinks, attachments over `sink.thresholdBytes` going to the sink
 * (none without a sink). Rejects with the parser's error, or with the sink's:
 * a failed store fails the parse (the caller tells the two apart).
 */
export function readMimeBody(pieces: Iterable<Buffer> | AsyncIterable<Buffer>, options: MailParserOptions, sink: AttachmentSink | null): Promise<MimeBody> {
  const input = chunked(pieces);
  return new Promise((resolve, reject) => {
    const body: MimeBody = { text: null, html: null, attachments: [] };
    const parser = new MailParser(options);
    let settled = false;
    /** The attachment being read: a failure must end its stream too, or the sink waits on it forever (a temp file, a handle). */
    let current: AttachmentStream | null = null;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      current?.content.destroy(err instanceof Error ? err : new Error(String(err)));
      input.unpipe(parser);
      input.destroy();
      parser.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    // As simpleParser: one object at a time, the next only once an attachment is released.
    let reading = false;
    const next = (): void => {
      reading = true;
      for (;;) {
        if (settled) return;
        const data = parser.read() as MessageText | AttachmentStream | null;
        if (data === null) {
          reading = false;
          return;
        }
        if (data.type === 'text') {
          if (typeof data.text === 'string') body.text = data.text;
          if (typeof data.html === 'string') body.html = data.html;
          continue;
        }
        current = data;
        collect(data, sink).then((attachment) => {
          current = null;
          body.attachments.push(attachment);
          data.release?.();
          next();
        }, fail);
        return;
      }
    };
    parser.on('readable', () => {
      if (!reading) next();
    });
    parser.on('error', fail);
    parser.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(body);
    });
    input.once('error', fail).pipe(parser);
  });
}

/** One attachment's bytes: in memory up to the threshold (or whole where the core reads them), else into the sink. */
async function collect(att: AttachmentStream, sink: AttachmentSink | null): Promise<MimeAttachment> {
  const contentType = att.contentType.toLowerCase();
  const base = { filename: att.filename ?? null, contentType, cid: att.cid ?? null, contentDisposition: att.contentDisposition ?? null };
  const attachedMessage = ATTACHED_MESSAGE.has(contentType);
  // An attached message is held up to HEAD_BYTES before it goes to the sink: that much of it is kept.
  const limit = sink === null || isTnefFile(contentType, att.filename) ? Infinity : attachedMessage ? Math.max(sink.thresholdBytes, HEAD_BYTES) : sink.thresholdBytes;
  const chunks = att.content[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const held: Buffer[] = [];
  let size = 0;
  for (;;) {
    const r = await chunks.next();
    if (r.done) return { ...base, content: Buffer.concat(held, size), stored: null };
    held.push(r.value);
    size += r.value.length;
    if (size > limit) break;
  }
  const head = attachedMessage ? Buffer.concat(held, size).subarray(0, HEAD_BYTES) : null;
  // What was read, then the rest as it is decoded; nothing is held once handed on.
  const rest = async function* (): AsyncGenerator<Buffer> {
    while (held.length > 0) yield held.shift()!;
    for (let r = await chunks.next(); !r.done; r = await chunks.next()) yield r.value;
  };
  const stored = await sink!.store(Readable.from(rest()));
  return { ...base, content: head, stored };
}

/** How much of the message the parser is handed at a time: its own buffers stay a chunk's size. */
const CHUNK_BYTES = 64 * 1024;

function chunked(pieces: Iterable<Buffer> | AsyncIterable<Buffer>): Readable {
  return Readable.from(
    Symbol.iterator in pieces
      ? (function* () {
          for (const piece of pieces) for (let at = 0; at < piece.length; at += CHUNK_BYTES) yield piece.subarray(at, at + CHUNK_BYTES);
        })()
      : (async function* () {
          for await (const piece of pieces) for (let at = 0; at < piece.length; at += CHUNK_BYTES) yield piece.subarray(at, at + CHUNK_BYTES);
        })(),
  );
}
