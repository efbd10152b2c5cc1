// Addresses, in two steps. parseAddressValues reads an address header as
// written (groups flattened, RFC 2047 names decoded) and sets aside what is
// not a usable `local@domain`. mapEmailAddresses turns a parsed mail into the
// conversation's `email_addresses` with their directions, including the
// PRODUCT.md rule that records the mailbox itself as BCC when the mail reached
// it without naming it in To or Cc.

import addressparser from 'nodemailer/lib/addressparser';
import { uniqueAddresses } from '../wire/addresses.js';
import { EmailAddressDirection } from '../wire/enums.js';
import { ENCODED_WORD, cleanHeaderText, decodeWords } from './headers.js';
import type { InboundMail, MailAddress } from './types.js';

export interface AddressLimits {
  /** Characters of one header value read for addresses (default 64 KiB). */
  maxValueChars: number;
  /** Addresses kept per header (default 500); the rest are dropped. */
  maxAddresses: number;
}

export const DEFAULT_ADDRESS_LIMITS: AddressLimits = { maxValueChars: 64 * 1024, maxAddresses: 500 };

export interface ParsedAddressValues {
  addresses: MailAddress[];
  bad: string[];
  /** True when addresses beyond `maxAddresses` were dropped. */
  capped: boolean;
}

const LOCAL_ATOM = /^[^\s<>()[\]\\,;:@"\u0000-\u001f\u007f]{1,64}$/u;
const LOCAL_QUOTED = /^"[^"\\\r\n]{1,62}"$/;
// Letters may carry combining marks (Thai, Devanagari, ...): ตัวอย่าง.ไทย, डाटामेल.भारत.
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u;
const DOMAIN_LITERAL = /^\[[0-9a-fA-F:.]{2,45}\]$/;

/** True for `local@domain` with a plausible local part and a host name or address literal. */
export function isValidAddress(address: string): boolean {
  if (address.length > 320) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (!LOCAL_ATOM.test(local) && !LOCAL_QUOTED.test(local)) return false;
  // An encoded word in the address part names some other address; never take it at its word.
  if (local.includes('=?') || local.includes('?=')) return false;
  if (DOMAIN_LITERAL.test(domain)) return true;
  if (domain.length > 255) return false;
  return domain.replace(/\.$/, '').split('.').every((label) => DOMAIN_LABEL.test(label));
}

// Encoded words holding characters that mean something in an address list
// (`=?us-ascii?Q?ABC / 123, West?=`: a comma, a space, `<`) are put aside as
// placeholders while the list is split, and put back into the names after.
const SPECIALS = /[\s,;:<>()"@[\]\\]/;
const PLACEHOLDER = /\uE000(\d{1,4})\uE001/g;

function protectWords(value: string): { value: string; words: string[] } {
  const words: string[] = [];
  if (!value.includes('=?')) return { value, words };
  const out = value.replace(ENCODED_WORD, (word: string) => {
    if (!SPECIALS.test(word) || words.length >= 1000) return word;
    words.push(word);
    return `\uE000${words.length - 1}\uE001`;
  });
  return { value: out, words };
}

function restoreWords(text: string, words: readonly string[]): string {
  return words.length === 0 ? text : text.replace(PLACEHOLDER, (_, i: string) => words[Number(i)] ?? '');
}

// `Jane Doe (jane@example.com)`: an address written only as a comment, as some
// web forms and old mailers do. Read when the value holds no other address.
const COMMENT_ADDRESS = /^\s*("?)([^"<>()]{0,200})\1\s*\(\s*([^\s()<>,;:"]{1,64}@[^\s()<>,;:"@]{1,255})\s*\)\s*$/;

function commentAddress(value: string): string | null {
  const m = COMMENT_ADDRESS.exec(value.slice(0, 2000));
  if (!m || !isValidAddress(m[3] ?? '')) return null;
  const name = (m[2] ?? '').trim();
  return name === '' ? `<${m[3]}>` : `"${name.replace(/["\\]/g, '')}" <${m[3]}>`;
}

/**
 * Parses the values of one address header (all its occurrences). Never throws:
 * an entry that is not a valid address is returned in `bad`.
 */
export function parseAddressValues(values: readonly string[], limits: Partial<AddressLimits> = {}): ParsedAddressValues {
  const lim: AddressLimits = { ...DEFAULT_ADDRESS_LIMITS, ...limits };
  const addresses: MailAddress[] = [];
  const bad: string[] = [];
  let capped = false;
  for (const raw of values) {
    const original = raw.slice(0, lim.maxValueChars);
    const { value, words } = protectWords(original);
    let entries: { name: string; address: string }[];
    try {
      entries = addressparser(value, { flatten: true });
      if (!entries.some((e) => isValidAddress(e.address.trim().replace(/^<|>$/g, '')))) {
        const fromComment = commentAddress(value);
        if (fromComment !== null) entries = addressparser(fromComment, { flatten: true });
      }
    } catch {
      bad.push(cleanHeaderText(original).slice(0, 200));
      continue;
    }
    for (const entry of entries) {
      const address = restoreWords(entry.address, words).trim().replace(/^<|>$/g, '');
      const name = cleanHeaderText(decodeWords(restoreWords(entry.name ?? '', words)));
      if (!isValidAddress(address)) {
        const shown = address === '' ? name : name === '' ? address : `${name} <${address}>`;
        if (shown !== '') bad.push(shown.slice(0, 200));
        continue;
      }
      if (addresses.length >= lim.maxAddresses) {
        capped = true;
        break;
      }
      addresses.push({ address, name: name === address ? '' : name });
    }
  }
  return { addresses, bad, capped };
}

export interface DirectedAddress {
  email: string;
  name: string;
  direction: EmailAddressDirection;
}

export interface MailboxIdentity {
  address: string;
  aliases?: string[];
}

/**
 * The conversation's `email_addresses`: From→FROM, To→TO, Cc→CC, Bcc→BCC,
 * Reply-To→REPLY_TO, Resent-From→RESENT_FROM, Resent-To and X-Forwarded-To →
 * FORWARDED_TO, in that order; lower-cased, de-duplicated per direction. When
 * `mailbox` is given and neither it nor an alias is in To/Cc and the mail is
 * not from it, the mailbox address is added as BCC. Unusable addresses are
 * dropped with a warning each.
 */
export function mapEmailAddresses(
  mail: Pick<InboundMail, 'addresses' | 'badAddresses'>,
  mailbox?: MailboxIdentity,
): { email_addresses: DirectedAddress[]; warnings: string[] } {
  const out: DirectedAddress[] = [];
  const warnings: string[] = [];
  const add = (list: readonly MailAddress[], direction: EmailAddressDirection, header: string): void => {
    for (const entry of list) {
      const email = entry.address.trim().toLowerCase();
      if (!isValidAddress(email)) {
        warnings.push(`dropped unusable address in ${header}: ${JSON.stringify(entry.address.slice(0, 200))}`);
        continue;
      }
      out.push({ email, name: cleanHeaderText(entry.name), direction });
    }
  };
  for (const bad of mail.badAddresses) {
    warnings.push(`dropped unusable address in ${bad.header}: ${JSON.stringify(bad.value.slice(0, 200))}`);
  }

  const a = mail.addresses;
  add(a.from, EmailAddressDirection.FROM, 'From');
  add(a.to, EmailAddressDirection.TO, 'To');
  add(a.cc, EmailAddressDirection.CC, 'Cc');
  add(a.bcc, EmailAddressDirection.BCC, 'Bcc');
  if (mailbox) addMailboxAsBcc(out, mailbox);
  add(a.replyTo, EmailAddressDirection.REPLY_TO, 'Reply-To');
  add(a.resentFrom, EmailAddressDirection.RESENT_FROM, 'Resent-From');
  add(a.resentTo, EmailAddressDirection.FORWARDED_TO, 'Resent-To');
  add(a.xForwardedTo, EmailAddressDirection.FORWARDED_TO, 'X-Forwarded-To');
  return { email_addresses: uniqueAddresses(out), warnings };
}

function addMailboxAsBcc(out: DirectedAddress[], mailbox: MailboxIdentity): void {
  const own = mailbox.address.trim().toLowerCase();
  if (!isValidAddress(own)) return;
  const mine = new Set([own, ...(mailbox.aliases ?? []).map((x) => x.trim().toLowerCase())]);
  const named = out.some(
    (e) =>
      mine.has(e.email) &&
      (e.direction === EmailAddressDirection.TO ||
        e.direction === EmailAddressDirection.CC ||
        e.direction === EmailAddressDirection.FROM ||
        e.direction === EmailAddressDirection.BCC),
  );
  if (named) return;
  out.push({ email: own, name: '', direction: EmailAddressDirection.BCC });
}
