// The mail parser's limits, in a leaf module: the configuration
// (src/config/config.ts) names their defaults without loading the parser.
// Over a structural limit (MIME parts, a part's header) a mail keeps its
// top-level headers and becomes a conversation with a warning; over the
// top-level header limit or the raw size it fails (MAIL_LIMIT_EXCEEDED).

import { MailroomError } from '../errors.js';

export interface ParseLimits {
  /** Largest raw message accepted, in bytes (default 64 MiB). */
  maxRawBytes: number;
  /** Largest header block of the message and of each MIME part, in bytes (default 256 KiB). */
  maxHeaderBytes: number;
  /** Most MIME parts (this also bounds the nesting depth) (default 500). */
  maxParts: number;
  /** The HTML of an HTML-only mail longer than this (characters) is not converted to text (default 2 MiB). */
  maxHtmlBytes: number;
  /** Plain text kept, in characters; longer text is cut with a warning (default 1,000,000). */
  maxTextChars: number;
  /** Attachments kept; the rest are dropped with a warning (default 100). */
  maxAttachments: number;
  /** References ids kept: the first and the most recent (default 50). */
  maxReferences: number;
  /** Addresses kept per address header (default 500). */
  maxAddressesPerHeader: number;
  /** Longest attachment file name, in characters (default 150). */
  maxFilenameChars: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxRawBytes: 64 * 1024 * 1024,
  maxHeaderBytes: 256 * 1024,
  maxParts: 500,
  maxHtmlBytes: 2 * 1024 * 1024,
  maxTextChars: 1_000_000,
  maxAttachments: 100,
  maxReferences: 50,
  maxAddressesPerHeader: 500,
  maxFilenameChars: 150,
});

/** What the top-level header says of a mail, read even when the mail is refused. */
export interface HeaderFacts {
  from: string | null;
  subject: string | null;
  messageId: string | null;
}

/**
 * MAIL_LIMIT_EXCEEDED with what could still be read of the header (from the
 * first maxHeaderBytes of it), so a refused mail's ingest record says whose
 * and which mail it was.
 */
export class MailLimitError extends MailroomError {
  constructor(
    message: string,
    readonly header: HeaderFacts | null,
  ) {
    super('MAIL_LIMIT_EXCEEDED', message);
  }
}
