// Shared types of the mail core: what a raw RFC 5322 message becomes once
// parsed (InboundMail), before it is mapped onto a DTO_ticket_conversation.
// Everything here is plain data: no database, Redis or IMAP.
import type { Readable } from 'node:stream';

/** One address as written in a header. `address` is as parsed (not yet lower-cased). */
export interface MailAddress {
  address: string;
  name: string;
}

/** The address headers Mailroom reads, each flattened (groups expanded). */
export interface AddressHeaders {
  from: MailAddress[];
  sender: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  replyTo: MailAddress[];
  resentFrom: MailAddress[];
  resentTo: MailAddress[];
  xForwardedTo: MailAddress[];
  deliveredTo: MailAddress[];
  xOriginalTo: MailAddress[];
}

export interface InboundAttachment {
  /** Safe, non-empty, unique within the mail; never a path. */
  filename: string;
  /** Declared MIME type, lower-case (e.g. `application/pdf`). */
  contentType: string;
  /** The bytes; null when the parser streamed them into a sink (`stored`). */
  content: Buffer | null;
  /** The blob a large attachment was written to while the mail was parsed (AttachmentSink), else null. */
  stored: StoredBlobRef | null;
  size: number;
  /** Hex sha256 of the bytes. */
  sha256: string;
  /** Content-ID without angle brackets, or null. */
  contentId: string | null;
  /** True for parts shown inline (cid: images, Content-Disposition: inline images). */
  inline: boolean;
}

/** A blob as the store answers for it: its key, the sha256 and the size of its bytes. */
export interface StoredBlobRef {
  readonly key: string;
  readonly sha256: string;
  readonly size: number;
}

/**
 * Where parseMail writes an attachment over `thresholdBytes` as it is
 * decoded, instead of holding it in memory (the blob store's putStream).
 * A failure to store fails the parse with the store's error.
 */
export interface AttachmentSink {
  readonly thresholdBytes: number;
  store(content: Readable): Promise<StoredBlobRef>;
}

/** Header values by lower-case name, in order of appearance, unfolded and decoded. */
export type HeaderBag = ReadonlyMap<string, readonly string[]>;

export interface InboundMail {
  /** Message-ID without angle brackets, or null when absent/unusable. */
  messageId: string | null;
  /** In-Reply-To ids, without angle brackets. */
  inReplyTo: string[];
  /** References ids, without angle brackets, in header order. */
  references: string[];
  subject: string;
  /** Date header, or null when absent or unparseable. */
  date: Date | null;
  addresses: AddressHeaders;
  /** Addresses present in a header that could not be parsed (for warnings). */
  badAddresses: { header: string; value: string }[];
  text: string | null;
  html: string | null;
  attachments: InboundAttachment[];
  headers: HeaderBag;
  /** Top-level MIME type, lower-case, e.g. `multipart/report`. */
  contentType: string;
  /** `report-type` parameter of a multipart/report, lower-case, or null. */
  reportType: string | null;
  /** Size of the raw message in bytes. */
  rawSize: number;
  /** Non-fatal problems noticed while parsing (shown on the ingest record). */
  warnings: string[];
}
