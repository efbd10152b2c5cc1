// One parsed mail → what its conversation will be (PRODUCT.md "Mapping a mail
// onto a conversation"): classification, directed addresses, requester, the
// extracted reply, rich content, the attachments list, the threading hints and
// the exactly-once key. Pure: no database, Redis or IMAP. Ingestion stores the
// result; `mailroom parse` prints it.

import { createHash } from 'node:crypto';
import { mapEmailAddresses, isValidAddress } from '../mail/addresses.js';
import { cleanHeaderText } from '../mail/headers.js';
import type { DirectedAddress, MailboxIdentity } from '../mail/addresses.js';
import { classifyMail } from '../mail/classify.js';
import type { Classification } from '../mail/classify.js';
import { extractReply } from '../mail/reply/extract.js';
import type { ReplyLimits } from '../mail/reply/extract.js';
import { buildRichText } from '../mail/rich/index.js';
import type { DTO_rich_text } from '../mail/rich/index.js';
import type { InboundAttachment, InboundMail } from '../mail/types.js';
import type { ThreadInput } from '../threading/decide.js';
import { findSubjectTag } from '../threading/subject-tag.js';

export interface MapLimits {
  reply?: Partial<ReplyLimits>;
  /** Characters of HTML handed to the sanitizer / Editor.js conversion. */
  maxRichInputChars?: number;
  /** Editor.js blocks kept. */
  maxBlocks?: number;
}

export interface MapOptions {
  /** The receiving mailbox (address + aliases): the BCC rule. */
  mailbox?: MailboxIdentity;
  /** Every mailbox address and alias of the tenant: own-address mail is skipped. */
  ownAddresses?: readonly string[];
  /** IMAP INTERNALDATE; null or absent in `mailroom parse`. */
  receivedAt?: Date | null;
  /** When the mail was fetched: `created` when no other date is usable. */
  now?: Date;
  /** Content-ID → URL of the stored inline part, for `cid:` images. */
  cidUrls?: ReadonlyMap<string, string>;
  limits?: MapLimits;
}

export interface ThreadHints {
  message_id: string | null;
  in_reply_to: string | null;
  references: string[];
  subject: string;
  /** The ticket number of a `[#123]` tag in the subject, or null. */
  subject_tag: number | null;
}

export interface MappedMail {
  classification: Classification;
  /** The rule that classified it (e.g. `header:auto-submitted=auto-replied`). */
  classification_reason: string;
  email_addresses: DirectedAddress[];
  /** The From address (lower-case) and its display name, or null when the mail has no usable From. */
  requester: { email: string; name: string } | null;
  last_message_extracted: string;
  sys_content_rich: DTO_rich_text;
  attachments: InboundAttachment[];
  thread: ThreadHints;
  /** What the thread decision reads (src/threading/decide.ts), for this tenant's lookup. */
  threadInput: Omit<ThreadInput, 'tenantId'>;
  created: Date;
  /** Where `created` came from. */
  created_source: 'internaldate' | 'date_header' | 'received';
  /** Exactly-once key of "the same mail" within a tenant (hex sha256). */
  dedupe_key: string;
  warnings: string[];
}

/** Dates before this are clock errors (epoch zero, two-digit years), not when a mail was written. */
const EARLIEST_PLAUSIBLE = Date.UTC(1990, 0, 1);
/** A Date header this far in the future is a wrong clock. */
const FUTURE_SLACK_MS = 24 * 60 * 60 * 1000;

function usableDate(d: Date | null | undefined, now: Date): d is Date {
  if (!d || Number.isNaN(d.getTime())) return false;
  return d.getTime() >= EARLIEST_PLAUSIBLE && d.getTime() <= now.getTime() + FUTURE_SLACK_MS;
}

/**
 * "The same mail" (PRODUCT.md "Guarantees"): the same Message-ID with the same
 * From and subject; without a Message-ID, the same From, Date, subject and body.
 */
export function dedupeKey(mail: Pick<InboundMail, 'messageId' | 'addresses' | 'subject' | 'date' | 'text' | 'html'>): string {
  const from = (mail.addresses.from[0]?.address ?? '').trim().toLowerCase();
  const subject = mail.subject.trim();
  const h = createHash('sha256');
  if (mail.messageId !== null) {
    h.update(['mid', mail.messageId.toLowerCase(), from, subject].join('\u0000'));
  } else {
    const body = createHash('sha256').update(mail.text ?? '').update('\u0000').update(mail.html ?? '').digest('hex');
    h.update(['nomid', from, mail.date ? mail.date.toISOString() : '', subject, body].join('\u0000'));
  }
  return h.digest('hex');
}

/** Warning codes on the ingest record when the requester is not the From address. */
export const REQUESTER_WARNINGS = {
  /** From had no usable address; the requester is Reply-To's (web forms, some list software). */
  fromReplyTo: 'requester_from_reply_to',
  /** From had no usable address; the requester is Sender's. */
  fromSender: 'requester_from_sender',
  /** No usable From, Reply-To or Sender: the conversation has no requester (an unknown sender). */
  unknown: 'requester_unknown',
} as const;

/**
 * The requester: the first usable From address; when From has none (empty,
 * `<>`, a bare name), the first usable Reply-To, then Sender, with a warning
 * that names the fallback and the From as it was written. The conversation's
 * addresses still record exactly what the headers say. Without any of them
 * the requester is null: an unknown sender (PRODUCT.md's DTO allows a null
 * requester), with a warning.
 */
export function requesterOf(mail: Pick<InboundMail, 'addresses' | 'badAddresses'>): { requester: { email: string; name: string } | null; warning: string | null } {
  const usable = (list: readonly { address: string; name: string }[]) => list.find((a) => isValidAddress(a.address.trim().toLowerCase()));
  const as = (a: { address: string; name: string }) => ({ email: a.address.trim().toLowerCase(), name: cleanHeaderText(a.name) });
  const from = usable(mail.addresses.from);
  if (from) return { requester: as(from), warning: null };
  const written = mail.badAddresses.filter((b) => b.header === 'from').map((b) => b.value).join(', ');
  const fromText = written === '' ? 'the mail has no usable From address' : `the From header ${JSON.stringify(written.slice(0, 200))} has no usable address`;
  for (const [list, code, header] of [
    [mail.addresses.replyTo, REQUESTER_WARNINGS.fromReplyTo, 'Reply-To'],
    [mail.addresses.sender, REQUESTER_WARNINGS.fromSender, 'Sender'],
  ] as const) {
    const entry = usable(list);
    if (entry) return { requester: as(entry), warning: `${code}: ${fromText}; the requester is the ${header} address ${entry.address.trim().toLowerCase()}` };
  }
  return { requester: null, warning: `${REQUESTER_WARNINGS.unknown}: ${fromText}, nor a usable Reply-To or Sender; the conversation has no requester` };
}

export function mapMail(mail: InboundMail, opts: MapOptions = {}): MappedMail {
  const now = opts.now ?? new Date();
  const warnings = [...mail.warnings];
  const { classification, reason } = classifyMail(mail, opts.ownAddresses ?? []);
  const mapped = mapEmailAddresses(mail, opts.mailbox);
  warnings.push(...mapped.warnings);

  const { requester, warning } = requesterOf(mail);
  if (warning !== null) warnings.push(warning);

  let created: Date;
  let created_source: MappedMail['created_source'];
  if (usableDate(opts.receivedAt, now)) {
    created = opts.receivedAt;
    created_source = 'internaldate';
  } else if (usableDate(mail.date, now)) {
    created = mail.date;
    created_source = 'date_header';
  } else {
    created = now;
    created_source = 'received';
  }

  const extracted = extractReply({ text: mail.text, html: mail.html }, opts.limits?.reply);
  const rich = buildRichText({
    html: mail.html,
    text: mail.text,
    extracted,
    cidUrls: opts.cidUrls,
    time: created.getTime(),
    maxInputChars: opts.limits?.maxRichInputChars,
    maxBlocks: opts.limits?.maxBlocks,
  });

  const inReplyTo = mail.inReplyTo[0] ?? null;
  return {
    classification,
    classification_reason: reason,
    email_addresses: mapped.email_addresses,
    requester,
    last_message_extracted: extracted,
    sys_content_rich: rich,
    attachments: mail.attachments,
    thread: {
      message_id: mail.messageId,
      in_reply_to: inReplyTo,
      references: mail.references,
      subject: mail.subject,
      subject_tag: findSubjectTag(mail.subject),
    },
    threadInput: { fromAddress: requester?.email ?? null, inReplyTo: mail.inReplyTo, references: mail.references, subject: mail.subject },
    created,
    created_source,
    dedupe_key: dedupeKey(mail),
    warnings,
  };
}
