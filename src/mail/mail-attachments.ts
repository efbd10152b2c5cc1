// A parsed mail's attachments as Mailroom keeps them: what mailparser found,
// with TNEF (winmail.dat) unpacked, an attached message named after its
// subject, safe unique file names (filenames.ts), the limit on their number,
// hashes, and which are inline (a `cid:` the HTML refers to, an inline image).
import { createHash } from 'node:crypto';
import libmime from 'libmime';
import { describeError } from '../errors.js';
import { safeAttachmentNames } from './filenames.js';
import { headerHintOf } from './header-hint.js';
import { cleanHeaderText, decodeWords, messageStart, readHeaderBlock, redecodeFields, valuesOf } from './headers.js';
import type { ParseLimits } from './limits.js';
import { isTnefFile, type MimeAttachment } from './mime-body.js';
import { decodeTnef } from './tnef.js';
import type { InboundAttachment, StoredBlobRef } from './types.js';

export interface Collected {
  filename: string | null;
  contentType: string;
  /** For a stored attached message: its beginning (see mime-body.ts). */
  content: Buffer | null;
  stored: StoredBlobRef | null;
  contentId?: string | null;
  disposition?: string | null;
  subject?: string;
}

export function guessType(filename: string): string {
  try {
    return libmime.detectMimeType(filename).toLowerCase();
  } catch {
    return 'application/octet-stream';
  }
}

/** One mailparser attachment as one or more collected files (TNEF unpacked, forwarded mail named). */
export function expandAttachment(att: MimeAttachment, warnings: string[]): Collected[] {
  const contentType = att.contentType;
  const base: Collected = {
    filename: att.filename,
    contentType,
    content: att.content,
    stored: att.stored,
    contentId: att.cid,
    disposition: att.contentDisposition,
  };
  if (contentType === 'message/rfc822' || contentType === 'message/global' || contentType === 'text/rfc822-headers' || contentType === 'message/global-headers') {
    return [{ ...base, subject: innerSubject(att.content ?? Buffer.alloc(0)) }];
  }
  // A TNEF file is never stored while parsing (mime-body.ts): its content is all here.
  if (att.content === null || !isTnefFile(contentType, att.filename)) return [base];
  try {
    const decoded = decodeTnef(att.content);
    if (decoded.attachments.length === 0) return [base];
    return decoded.attachments.map((a) => ({
      filename: a.filename,
      contentType: (a.contentType ?? guessType(a.filename)).toLowerCase(),
      content: a.content,
      stored: null,
      disposition: 'attachment',
    }));
  } catch (err) {
    warnings.push(`winmail.dat could not be decoded (${describeError(err).slice(0, 200)}); kept as is`);
    return [base];
  }
}

/** The subject of an attached message (or its headers), read as the message's own subject is. */
function innerSubject(content: Buffer): string {
  const start = messageStart(content);
  const inner = readHeaderBlock(content, start, 64 * 1024);
  const hint = headerHintOf(content.subarray(start), inner.fields);
  const fields = hint.named || hint.detected ? redecodeFields(inner.fields, hint) : inner.fields;
  return cleanHeaderText(decodeWords(valuesOf(fields, 'subject')[0] ?? ''));
}

function cidReferences(html: string | null): Set<string> {
  const refs = new Set<string>();
  if (html === null) return refs;
  for (const m of html.matchAll(/cid:([^"'\s<>)]{1,500})/gi)) {
    const id = m[1] ?? '';
    let decoded = id;
    try {
      decoded = decodeURIComponent(id);
    } catch {
      // keep as written
    }
    refs.add(decoded.toLowerCase());
  }
  return refs;
}

export function finishAttachments(collected: Collected[], html: string | null, limits: ParseLimits, warnings: string[]): InboundAttachment[] {
  let kept = collected;
  if (kept.length > limits.maxAttachments) {
    warnings.push(`${kept.length} attachments; only the first ${limits.maxAttachments} are kept`);
    kept = kept.slice(0, limits.maxAttachments);
  }
  const names = safeAttachmentNames(
    kept.map((c) => ({ filename: c.filename, contentType: c.contentType, subject: c.subject ?? null, contentId: c.contentId ?? null })),
    { maxChars: limits.maxFilenameChars },
  );
  const cids = cidReferences(html);
  return kept.map((c, i) => {
    const contentId = c.contentId ? c.contentId.replace(/^<|>$/g, '').trim() || null : null;
    const referenced = contentId !== null && cids.has(contentId.toLowerCase());
    const inlineImage = (c.disposition ?? '').toLowerCase() === 'inline' && c.contentType.startsWith('image/');
    // A stored attachment's bytes are in the blob store; the content it may have is only its beginning.
    const content = c.stored === null ? (c.content ?? Buffer.alloc(0)) : null;
    return {
      filename: names[i] ?? 'attachment.bin',
      contentType: c.contentType,
      content,
      stored: c.stored,
      size: c.stored === null ? content!.length : c.stored.size,
      sha256: c.stored === null ? createHash('sha256').update(content!).digest('hex') : c.stored.sha256,
      contentId,
      inline: referenced || inlineImage,
    };
  });
}
