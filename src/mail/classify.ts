// Classifies an inbound mail as human, auto-reply, bounce or own-address
// (PRODUCT.md "Loops and automatic mail"). Ingest uses the result to skip mail
// from the tenant's own mailboxes and to keep automatic mail from opening
// tickets, reopening them or moving their last activity, which is what stops
// mail loops between a support mailbox and an autoresponder.
//
// Pure: header values in, a label and the name of the rule that fired out.
// Rules are checked in a fixed order: own address, then bounce (bounces often
// carry Auto-Submitted too, so they must win over auto-reply), then auto-reply.
// Every string looked at is cut to a bounded length first and matched with
// startsWith/includes, never with a backtracking regex.

import type { InboundMail, MailAddress } from './types.js';

export type Classification = 'human' | 'auto_reply' | 'bounce' | 'own_address';

export interface ClassifyLimits {
  /** Characters of any header value (and the subject) that are looked at. */
  maxValueLength?: number;
  /** Values of one header, and From addresses, that are looked at. */
  maxValues?: number;
}

export type ClassifiableMail = Pick<InboundMail, 'headers' | 'addresses' | 'contentType' | 'reportType' | 'subject'> & {
  /** The message's own parts (not those inside an attached message): a delivery-status part marks a DSN wrapped in another type. */
  readonly attachments?: readonly { readonly contentType: string }[];
  /** Address header values that are no usable address (a From of `MAILER-DAEMON` without a domain still says who sent it). */
  readonly badAddresses?: readonly { readonly header: string; readonly value: string }[];
};

interface Result {
  classification: Classification;
  reason: string;
}

const DEFAULTS = { maxValueLength: 2048, maxValues: 20 } as const;

/** Local parts (and display names) of MTA senders, compared with `-`, `_`, `.` and spaces removed. */
const DAEMON_SENDERS: ReadonlyMap<string, string> = new Map([
  ['mailerdaemon', 'mailer-daemon'],
  ['maildaemon', 'mailer-daemon'],
  ['maildeliverysubsystem', 'mailer-daemon'],
  ['maildeliverysystem', 'mailer-daemon'],
  ['postmaster', 'postmaster'],
]);

// Subjects MTAs give their non-delivery reports, including the localised ones
// Exchange and the big providers send. They must start the subject: a human
// forwarding or replying to a bounce has "Fwd:"/"Re:" in front, and that mail
// is a human's. These exact MTA phrasings count on their own.
const BOUNCE_SUBJECTS: readonly string[] = [
  'undelivered mail returned to sender', // Postfix
  'undeliverable:', // Exchange / Outlook
  'delivery status notification', // Gmail, Exchange, OpenSMTPD (also delays and relays)
  'mail delivery failed:', // Exim
  'delivery notification: delivery has failed', // Lotus Notes
  'returned mail:', // Sendmail
  'returned mail -',
  'non-delivery report',
  'mail system error - returned mail',
  'warning: could not send message',
  'unzustellbar:', // de
  'nicht zustellbar:',
  'non remis :', // fr
  'non remis:',
  'non recapitabile:', // it
  'no se puede entregar:', // es
  'onbestelbaar:', // nl
  'não é possível entregar:', // pt
  'kan ikke leveres:', // no, da
  'ej levererbart:', // sv
  'nie można dostarczyć:', // pl
  'недоставлено:', // ru
  'не удается доставить:',
  'メールエラー通知', // ja (mobile carriers)
  'メール送信エラー',
  '配信エラー',
  '配送エラー',
  '配信不能',
];

// Subjects MTAs use that customers write too ("Delivery failure - order 4711
// never arrived", "Undelivered mail from your shop"): a bounce only with
// another sign of a machine (a null sender, Auto-Submitted, the returned
// message or its headers attached). qmail's "failure notice" counts alone
// only as the whole subject.
const WEAK_BOUNCE_SUBJECTS: readonly string[] = [
  'undelivered mail',
  'undeliverable mail',
  'undeliverable message',
  'mail delivery failed',
  'mail delivery failure',
  'message delivery failure',
  'delivery failure',
  'delivery has failed',
  'failure notice',
  'non delivery notification',
  'non-delivery notification',
  'nondeliverable mail',
  'message not delivered',
  'impossible de remettre',
];

// Weaker words: a bounce only when the mail also has a null sender.
const BOUNCE_WORDS: readonly string[] = [
  'undeliver',
  'not delivered',
  'could not be delivered',
  "couldn't be delivered",
  'delivery fail',
  'failed delivery',
  'delivery status',
  'delivery notification',
  'delivery problem',
  'returned mail',
  'returning message',
  'returning to sender',
  'mail failed',
  'failure notice',
  'error sending',
  'non-delivery',
  'nondelivery',
  'bounce',
  'mail error',
];

// Subject prefixes autoresponders use (Outlook/Exchange in many languages,
// Gmail, Apple, Zimbra, Notes). Each must be followed by ':' (or end the
// subject), so "Out of office next week?" from a person stays human.
const AUTO_REPLY_SUBJECTS: readonly string[] = [
  'automatic reply',
  'auto reply',
  'auto-reply',
  'autoreply',
  'auto response',
  'auto-response',
  'autoresponse',
  'automated response',
  'automated reply',
  'out of office autoreply',
  'out of office reply',
  'out of office',
  'out of the office',
  'out-of-office',
  'vacation reply',
  'automatische antwort', // de
  'abwesenheitsnotiz',
  'réponse automatique', // fr
  'reponse automatique',
  'absence du bureau',
  "message d'absence",
  'respuesta automática', // es
  'respuesta automatica',
  'risposta automatica', // it
  'automatisch antwoord', // nl
  'resposta automática', // pt
  'resposta automatica',
  'automatiskt svar', // sv
  'automatisk svar', // no, da
  'automatyczna odpowiedź', // pl
  'automaattinen vastaus', // fi
  'automatická odpověď', // cs
  'otomatik yanıt', // tr
  'автоматический ответ', // ru
  '自動応答', // ja
  '自動返信',
  '自动回复', // zh
];

// Weaker prefixes and words: auto-reply only with a supporting header.
const WEAK_AUTO_SUBJECTS: readonly string[] = ['auto:'];
const AUTO_WORDS: readonly string[] = ['automatic', 'auto reply', 'autoreply', 'out of office', 'abwesen', 'absence', 'vacation', 'automatique', 'automatisch'];

/** Headers whose presence (with a value other than no/false/0) marks an autoresponder. */
const AUTO_REPLY_HEADERS: readonly string[] = [
  'x-autoreply',
  'x-autorespond',
  'x-autoresponder',
  'x-autoreply-from',
  'x-mail-autoreply',
  'x-autogenerated',
  'x-fc-machinegenerated',
];

const BULK_PRECEDENCE = new Set(['bulk', 'junk', 'auto_reply', 'auto-reply']);
const NEGATIVE = new Set(['no', 'false', '0', 'none']);

/**
 * Classifies a mail for loop protection. `ownAddresses` are the tenant's
 * mailbox addresses (any case). `reason` names the rule that fired, e.g.
 * `header:auto-submitted=auto-replied`, or `none` for human mail.
 */
export function classifyMail(mail: ClassifiableMail, ownAddresses: readonly string[], limits: ClassifyLimits = {}): Result {
  const maxLen = limits.maxValueLength ?? DEFAULTS.maxValueLength;
  const maxValues = limits.maxValues ?? DEFAULTS.maxValues;
  const header = (name: string): string[] => (mail.headers.get(name) ?? []).slice(0, maxValues).map((v) => v.slice(0, maxLen).trim());
  const from = mail.addresses.from.slice(0, maxValues);
  const subject = normaliseSubject(mail.subject.slice(0, maxLen));

  const own = new Set(ownAddresses.map((a) => normaliseAddress(a, maxLen)).filter((a) => a !== ''));
  if (from.some((f) => own.has(normaliseAddress(f.address, maxLen)))) {
    return { classification: 'own_address', reason: 'from:own-address' };
  }

  const bounce = bounceReason(mail, header, from, subject, maxLen);
  if (bounce !== null) return { classification: 'bounce', reason: bounce };

  const auto = autoReplyReason(mail, header, subject);
  if (auto !== null) return { classification: 'auto_reply', reason: auto };

  return { classification: 'human', reason: 'none' };
}

type HeaderGetter = (name: string) => string[];

function bounceReason(mail: ClassifiableMail, header: HeaderGetter, from: MailAddress[], subject: string, maxLen: number): string | null {
  const isReport = mail.contentType.toLowerCase() === 'multipart/report';
  const reportType = (mail.reportType ?? '').toLowerCase();
  // DSNs (RFC 3464) and ARF feedback reports (RFC 5965: abuse complaints,
  // DMARC failure reports) are both reports about mail we sent, generated by
  // a receiving system: loop-wise they are bounces, as sisimai labels them.
  if (isReport && (reportType === 'delivery-status' || reportType === 'feedback-report')) {
    return `mime:report-type=${reportType}`;
  }
  if (header('x-failed-recipients').some((v) => v !== '')) return 'header:x-failed-recipients';
  // Some MTAs send the RFC 3464 parts in a multipart/mixed, or nest the report one level down. A person
  // forwarding a bounce attaches it as message/rfc822, whose parts are not the message's own.
  // An inline forward by a person (Thunderbird, Apple Mail) carries the original's parts as its own: "Fwd:" says so.
  const forwardedOrReply = /^(?:fwd?|re|aw|wg|tr|rv|sv|vs|antw|enc|i|r)\s*(?:\[\d+\])?\s*:/i.test(subject);
  if (!forwardedOrReply && mail.attachments?.some((a) => /^message\/(?:global-)?delivery-status$/i.test(a.contentType))) return 'mime:delivery-status-part';

  for (const f of from) {
    const local = compact(localPart(f.address.slice(0, maxLen)));
    const kind = DAEMON_SENDERS.get(local) ?? DAEMON_SENDERS.get(compact(f.name.slice(0, maxLen).toLowerCase()));
    if (kind !== undefined) return `from:${kind}`;
    // Exchange Online sends its NDRs from MicrosoftExchange<32 hex>@tenant.
    if (/^microsoftexchange[0-9a-f]{32}$/.test(local)) return 'from:exchange-system';
  }

  // `From: MAILER-DAEMON (Mail Delivery System)`: no domain, so no usable address, but still the mail system's signature.
  for (const bad of (mail.badAddresses ?? []).slice(0, 20)) {
    if (bad.header !== 'from') continue;
    const words = bad.value.slice(0, maxLen).toLowerCase().split(/[\s<>()"]+/).filter((w) => w !== '');
    const kind = DAEMON_SENDERS.get(compact(localPart(words[0] ?? ''))) ?? DAEMON_SENDERS.get(compact(words.join(' ')));
    if (kind !== undefined) return `from:${kind}`;
  }

  if (BOUNCE_SUBJECTS.some((p) => subject.startsWith(p)) || subject === 'failure notice') return 'subject:bounce';

  const nullSender = hasNullSender(header, from);
  if (WEAK_BOUNCE_SUBJECTS.some((p) => subject.startsWith(p)) && (nullSender || machineMade(mail, header))) return 'subject:bounce+machine';
  if (nullSender && BOUNCE_WORDS.some((w) => subject.includes(w))) return 'null-sender+subject:bounce';
  // A multipart/report of no known type from a null sender: an MTA's report.
  if (nullSender && isReport && reportType !== 'disposition-notification') return 'null-sender+mime:multipart/report';
  return null;
}

function autoReplyReason(mail: ClassifiableMail, header: HeaderGetter, subject: string): string | null {
  for (const value of header('auto-submitted')) {
    const token = firstToken(value);
    // RFC 3834: "no" marks mail written by a person; an empty value carries no signal.
    if (token !== '' && token !== 'no') return `header:auto-submitted=${token}`;
  }
  for (const name of AUTO_REPLY_HEADERS) {
    if (header(name).some((v) => !NEGATIVE.has(firstToken(v)))) return `header:${name}`;
  }
  for (const name of ['precedence', 'x-precedence']) {
    const token = header(name).map(firstToken).find((t) => BULK_PRECEDENCE.has(t));
    if (token !== undefined) return `header:${name}=${token}`;
  }
  if (header('x-post-messageclass').some((v) => v.toLowerCase().includes('autoresponder'))) {
    return 'header:x-post-messageclass';
  }
  // Read receipts (RFC 8098) are machine answers to a mail, not a reply.
  if (mail.contentType.toLowerCase() === 'multipart/report' && (mail.reportType ?? '').toLowerCase() === 'disposition-notification') {
    return 'mime:report-type=disposition-notification';
  }
  if (AUTO_REPLY_SUBJECTS.some((p) => hasPrefix(subject, p))) return 'subject:auto-reply';

  // X-Auto-Response-Suppress asks *recipients* not to auto-reply. Exchange's
  // own OOF replies carry it, but so do ordinary mails: Exchange adds it to
  // mail sent to distribution lists and meeting requests, and many senders of
  // notifications set it. GLPI's rule on it rejected real mail (glpi#2170)
  // and Discourse stopped using it (discourse#21367). So it only counts
  // together with an auto-reply word in the subject or an Exchange
  // rule/agent header, never on its own.
  const suppress = header('x-auto-response-suppress').some((v) => /\b(all|oof|autoreply)\b/i.test(v));
  const exchangeAgent = header('x-ms-exchange-inbox-rules-loop').length > 0 || header('x-ms-exchange-generated-message-source').length > 0;
  const weakPrefix = WEAK_AUTO_SUBJECTS.some((p) => subject.startsWith(p));
  // With the suppress header (which HR and ERP systems send on ordinary mail: "Vacation request for Anna"),
  // the word must sit in a "...:" prefix, as autoresponders write it ("Abwesenheit: ...", "Auto reply - Out of office: ...").
  const colon = subject.indexOf(':');
  const prefix = colon > 0 && colon <= 60 ? subject.slice(0, colon) : '';
  if (suppress && (weakPrefix || AUTO_WORDS.some((w) => prefix.includes(w)))) return 'header:x-auto-response-suppress+subject';
  // An Exchange inbox rule's own mail: its subject is whatever the rule says.
  if (exchangeAgent && (weakPrefix || AUTO_WORDS.some((w) => subject.includes(w)))) return 'header:x-ms-exchange-agent+subject';
  return null;
}

/** Signs a mail was made by a machine, short of a DSN: no From at all, Auto-Submitted, or the returned message (or its headers) attached. */
function machineMade(mail: ClassifiableMail, header: HeaderGetter): boolean {
  if (mail.addresses.from.length === 0) return true;
  if (header('auto-submitted').some((v) => firstToken(v) !== '' && firstToken(v) !== 'no')) return true;
  return mail.attachments?.some((a) => /^(?:message\/(?:rfc822|global|global-headers)|text\/rfc822-headers)$/i.test(a.contentType)) ?? false;
}

/** Return-Path `<>` (or empty), or a From that is just `<>`: mail sent with a null envelope sender. */
function hasNullSender(header: HeaderGetter, from: MailAddress[]): boolean {
  if (header('return-path').some((v) => v === '' || v.replace(/\s/g, '') === '<>')) return true;
  return from.length > 0 && from.every((f) => f.address.trim() === '' && f.name.trim() === '');
}

function normaliseSubject(subject: string): string {
  return subject.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
}

function normaliseAddress(address: string, maxLen: number): string {
  return address.slice(0, maxLen).trim().replace(/^<|>$/g, '').toLowerCase();
}

function localPart(address: string): string {
  const at = address.lastIndexOf('@');
  return (at === -1 ? address : address.slice(0, at)).trim().replace(/^</, '').toLowerCase();
}

/** Lower-case, without `-`, `_`, `.`, quotes and white space: "Mail Delivery Subsystem" → "maildeliverysubsystem". */
function compact(s: string): string {
  return s.toLowerCase().replace(/[-_.\s"']/g, '');
}

/** The header value's first token, lower-case, parameters and comments dropped: "auto-generated (failure)" → "auto-generated". */
function firstToken(value: string): string {
  const end = value.search(/[;(\s]/);
  return (end === -1 ? value : value.slice(0, end)).toLowerCase();
}

function hasPrefix(subject: string, prefix: string): boolean {
  if (!subject.startsWith(prefix)) return false;
  const rest = subject.slice(prefix.length).trimStart();
  return rest === '' || rest.startsWith(':') || rest.startsWith('：');
}
