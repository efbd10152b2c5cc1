import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyMail } from '../../../../src/mail/classify.js';
import type { ClassifiableMail } from '../../../../src/mail/classify.js';
import type { MailAddress } from '../../../../src/mail/types.js';
import { parseMail } from '../../../../src/mail/parse.js';
import { parseForClassify } from './adapter.js';

const OWN = ['Support@Mailroom.example', 'billing@mailroom.example'];
const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/classify');

function mail(opts: {
  headers?: Record<string, string | string[]>;
  from?: MailAddress[];
  subject?: string;
  contentType?: string;
  reportType?: string | null;
}): ClassifiableMail {
  const headers = new Map<string, string[]>();
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers.set(k.toLowerCase(), Array.isArray(v) ? v : [v]);
  const none: MailAddress[] = [];
  return {
    headers,
    addresses: {
      from: opts.from ?? [{ address: 'jane.doe@customer.example', name: 'Jane Doe' }],
      sender: none,
      to: [{ address: 'support@mailroom.example', name: '' }],
      cc: none,
      bcc: none,
      replyTo: none,
      resentFrom: none,
      resentTo: none,
      xForwardedTo: none,
      deliveredTo: none,
      xOriginalTo: none,
    },
    subject: opts.subject ?? 'Question about my invoice',
    contentType: opts.contentType ?? 'text/plain',
    reportType: opts.reportType ?? null,
  };
}

const classify = (m: ClassifiableMail) => classifyMail(m, OWN);

describe('classifyMail: human mail', () => {
  it('is human without any signal', () => {
    expect(classify(mail({}))).toEqual({ classification: 'human', reason: 'none' });
  });

  it('treats Auto-Submitted: no as human, with or without comments', () => {
    expect(classify(mail({ headers: { 'auto-submitted': 'no' } })).classification).toBe('human');
    expect(classify(mail({ headers: { 'auto-submitted': 'No (written by a person)' } })).classification).toBe('human');
    expect(classify(mail({ headers: { 'auto-submitted': '' } })).classification).toBe('human');
  });

  it('does not treat mailing lists (Precedence: list) as automatic', () => {
    expect(classify(mail({ headers: { precedence: 'list', 'list-id': '<users.lists.example>' } })).classification).toBe('human');
  });

  it('keeps human subjects that merely mention absence or failure', () => {
    for (const subject of ['Out of office next week?', 'Re: Automatic reply: ticket 12', 'Fwd: Undelivered Mail Returned to Sender', 'Auto: insurance claim']) {
      expect(classify(mail({ subject })).classification, subject).toBe('human');
    }
  });

  it('does not classify on X-Auto-Response-Suppress alone (Exchange sets it on ordinary mail)', () => {
    expect(classify(mail({ headers: { 'x-auto-response-suppress': 'All' } })).classification).toBe('human');
    expect(classify(mail({ headers: { 'x-auto-response-suppress': 'DR, RN, NRN, OOF, AutoReply' }, subject: 'Meeting: Q3 planning' })).classification).toBe(
      'human',
    );
  });
});

describe('classifyMail: own address', () => {
  it('matches the From address case-insensitively', () => {
    expect(classify(mail({ from: [{ address: 'SUPPORT@mailroom.EXAMPLE', name: 'Support' }] }))).toEqual({
      classification: 'own_address',
      reason: 'from:own-address',
    });
  });

  it('wins over bounce and auto-reply rules', () => {
    const m = mail({
      from: [{ address: 'billing@mailroom.example', name: 'Mail Delivery Subsystem' }],
      headers: { 'auto-submitted': 'auto-replied', 'x-failed-recipients': 'x@y.example' },
      contentType: 'multipart/report',
      reportType: 'delivery-status',
    });
    expect(classify(m).classification).toBe('own_address');
  });

  it('ignores empty own addresses', () => {
    expect(classifyMail(mail({ from: [{ address: '', name: '' }] }), ['']).classification).toBe('human');
  });
});

describe('classifyMail: bounces', () => {
  it('classifies DSNs and ARF feedback reports by their report type', () => {
    expect(classify(mail({ contentType: 'multipart/report', reportType: 'delivery-status' }))).toEqual({
      classification: 'bounce',
      reason: 'mime:report-type=delivery-status',
    });
    expect(classify(mail({ contentType: 'Multipart/Report', reportType: 'Feedback-Report' })).reason).toBe('mime:report-type=feedback-report');
  });

  it('classifies a delivery-status part of the message itself, in a multipart/mixed too, but not one inside a forwarded message', async () => {
    const dsn = { ...mail({ contentType: 'multipart/mixed' }), attachments: [{ contentType: 'text/plain' }, { contentType: 'message/delivery-status' }] };
    expect(classify(dsn)).toEqual({ classification: 'bounce', reason: 'mime:delivery-status-part' });
    expect(classify({ ...dsn, attachments: [{ contentType: 'Message/Global-Delivery-Status' }] }).classification).toBe('bounce');
    // Forwarded inline by a person: the parts come along, the "Fwd:" says whose mail it is.
    expect(classify({ ...dsn, subject: 'Fwd: Undelivered Mail Returned to Sender' }).classification).toBe('human');
    // The same DSN forwarded by a person: it is one message/rfc822 attachment, its parts are not the mail's own.
    const forwarded = Buffer.from(
      'From: Ann <ann@customer.example>\r\nTo: support@mailroom.example\r\nSubject: Fwd: why?\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
        '--b\r\nContent-Type: text/plain\r\n\r\nWhy did this bounce?\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n' +
        'From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="c"\r\n\r\n' +
        '--c\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; y@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n--c--\r\n--b--\r\n',
    );
    expect(classifyMail(await parseMail(forwarded), OWN)).toEqual({ classification: 'human', reason: 'none' });
  });

  it('classifies X-Failed-Recipients', () => {
    expect(classify(mail({ headers: { 'x-failed-recipients': 'nobody@customer.example' } })).reason).toBe('header:x-failed-recipients');
  });

  it('classifies mailer-daemon and postmaster senders by local part or display name', () => {
    const cases: [MailAddress, string][] = [
      [{ address: 'MAILER-DAEMON@mx.example', name: '' }, 'from:mailer-daemon'],
      [{ address: 'MAILER-DAEMON', name: 'Mail Delivery Subsystem' }, 'from:mailer-daemon'],
      [{ address: '', name: 'MAILER-DAEMON' }, 'from:mailer-daemon'],
      [{ address: 'Mail.Delivery.System@mx44.example', name: 'Mail Delivery System' }, 'from:mailer-daemon'],
      [{ address: 'postmaster@customer.example', name: 'Mail Administrator' }, 'from:postmaster'],
      [{ address: 'post_master@vtext.example', name: '' }, 'from:postmaster'],
      [{ address: 'MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example', name: 'Microsoft Outlook' }, 'from:exchange-system'],
    ];
    for (const [from, reason] of cases) expect(classify(mail({ from: [from] })), from.address).toEqual({ classification: 'bounce', reason });
  });

  it('classifies typical bounce subjects, localised ones included', () => {
    for (const subject of [
      'Undelivered Mail Returned to Sender',
      'Delivery Status Notification (Failure)',
      'Mail delivery failed: returning message to sender',
      'Returned mail: see transcript for details',
      'Undeliverable: Your ticket #4711',
      'failure notice',
      'Unzustellbar: Ihre Anfrage',
      'Non remis : Votre demande',
      'Onbestelbaar: Uw vraag',
    ]) {
      expect(classify(mail({ subject })), subject).toEqual({ classification: 'bounce', reason: 'subject:bounce' });
    }
  });

  it('classifies weaker bounce words only with a null sender', () => {
    const headers = { 'return-path': '<>' };
    expect(classify(mail({ headers, subject: 'There was an error sending your mail' })).reason).toBe('null-sender+subject:bounce');
    expect(classify(mail({ from: [{ address: '', name: '' }], subject: 'Delivery Status' })).reason).toBe('null-sender+subject:bounce');
    expect(classify(mail({ subject: 'There was an error sending your mail' })).classification).toBe('human');
    expect(classify(mail({ headers, subject: 'Hello' })).classification).toBe('human');
  });

  it('prefers bounce over auto-reply when a DSN also carries Auto-Submitted', () => {
    const m = mail({ headers: { 'auto-submitted': 'auto-generated (failure)' }, contentType: 'multipart/report', reportType: 'delivery-status' });
    expect(classify(m).classification).toBe('bounce');
  });
});

describe('classifyMail: auto-replies', () => {
  it('classifies Auto-Submitted other than no, ignoring case and parameters', () => {
    expect(classify(mail({ headers: { 'auto-submitted': 'auto-replied' } }))).toEqual({
      classification: 'auto_reply',
      reason: 'header:auto-submitted=auto-replied',
    });
    expect(classify(mail({ headers: { 'auto-submitted': 'Auto-Generated; owner-email="x@y.example"' } })).reason).toBe('header:auto-submitted=auto-generated');
    expect(classify(mail({ headers: { 'auto-submitted': 'auto-notified (vacation)' } })).reason).toBe('header:auto-submitted=auto-notified');
  });

  it('classifies X-Autoreply, X-Autorespond and X-Autoresponder unless negative', () => {
    expect(classify(mail({ headers: { 'x-autoreply': 'yes' } })).reason).toBe('header:x-autoreply');
    expect(classify(mail({ headers: { 'x-autorespond': 'Out of office' } })).reason).toBe('header:x-autorespond');
    expect(classify(mail({ headers: { 'x-autoresponder': 'true' } })).reason).toBe('header:x-autoresponder');
    expect(classify(mail({ headers: { 'x-autoreply': 'no' } })).classification).toBe('human');
  });

  it('classifies Precedence and X-Precedence bulk, junk and auto_reply', () => {
    expect(classify(mail({ headers: { precedence: 'bulk' } })).reason).toBe('header:precedence=bulk');
    expect(classify(mail({ headers: { precedence: 'Junk' } })).reason).toBe('header:precedence=junk');
    expect(classify(mail({ headers: { precedence: 'auto_reply' } })).reason).toBe('header:precedence=auto_reply');
    expect(classify(mail({ headers: { 'x-precedence': 'bulk' } })).reason).toBe('header:x-precedence=bulk');
  });

  it('classifies read receipts (disposition-notification reports)', () => {
    expect(classify(mail({ contentType: 'multipart/report', reportType: 'disposition-notification' })).reason).toBe(
      'mime:report-type=disposition-notification',
    );
  });

  it('classifies auto-reply subject prefixes in several languages', () => {
    for (const subject of [
      'Automatic reply: Your ticket',
      'Out of Office AutoReply: Invoice',
      'Out of Office: back on Monday',
      'Abwesenheitsnotiz: Ihre Anfrage',
      'Réponse automatique : Votre demande',
      'Respuesta automática: Su consulta',
      'Auto reply: Nyaan',
    ]) {
      expect(classify(mail({ subject })), subject).toEqual({ classification: 'auto_reply', reason: 'subject:auto-reply' });
    }
  });

  it('uses X-Auto-Response-Suppress only with an auto-reply word in the subject', () => {
    expect(classify(mail({ headers: { 'x-auto-response-suppress': 'All' }, subject: 'Auto: Ihre Anfrage' })).reason).toBe(
      'header:x-auto-response-suppress+subject',
    );
    expect(classify(mail({ headers: { 'x-ms-exchange-inbox-rules-loop': 'a@contoso.example' }, subject: 'I am on vacation' })).reason).toBe(
      'header:x-ms-exchange-agent+subject',
    );
    expect(classify(mail({ headers: { 'x-auto-response-suppress': 'All' }, subject: 'Abwesenheit: bis 3. Juni' })).classification).toBe('auto_reply');
    // HR and ERP systems set the header on ordinary mail: a word in the running subject is not enough.
    const hr = { 'x-auto-response-suppress': 'DR, RN, NRN, OOF, AutoReply' };
    for (const subject of ['Vacation request for Anna', 'Absence report for June', 'Automatic renewal of your contract']) {
      expect(classify(mail({ headers: hr, subject })).classification, subject).toBe('human');
    }
  });

  it('needs a sign of a machine besides a bounce-like subject that customers write too', () => {
    for (const subject of ['Delivery failure - order 4711 never arrived', 'Undelivered mail from your shop', 'Message not delivered to my colleague?', 'Failure notice from your app', 'Mail delivery failed for my order']) {
      expect(classify(mail({ subject })).classification, subject).toBe('human');
      expect(classify(mail({ subject, headers: { 'return-path': '<>' } })).classification, subject).toBe('bounce');
      expect(classify(mail({ subject, headers: { 'auto-submitted': 'auto-replied' } })).classification, subject).toBe('bounce');
      expect(classify(mail({ subject, from: [] })).classification, subject).toBe('bounce');
    }
    // The MTAs' own phrasings still count alone.
    for (const subject of ['Undelivered Mail Returned to Sender', 'Undeliverable: Your order', 'Mail delivery failed: returning message to sender', 'failure notice']) {
      expect(classify(mail({ subject })).classification, subject).toBe('bounce');
    }
  });
});

describe('classifyMail: hostile input', () => {
  it('stays fast on huge header values and many values', () => {
    const big = 'a'.repeat(5_000_000);
    const many = Array.from({ length: 100_000 }, () => big.slice(0, 100));
    const m = mail({ headers: { precedence: many, 'return-path': big, 'x-auto-response-suppress': big }, subject: ' '.repeat(1_000_000) + 'x' });
    expect(classify(m).classification).toBe('human');
  });
});

describe('classifyMail: real mail fixtures', () => {
  const cases: [string, string, string][] = [
    ['exchange-oof-de.eml', 'auto_reply', 'header:auto-submitted=auto-generated'],
    ['postfix-bounce.eml', 'bounce', 'mime:report-type=delivery-status'],
    ['human-reply.eml', 'human', 'none'],
  ];
  for (const [file, classification, reason] of cases) {
    it(`${file} → ${classification}`, async () => {
      const m = await parseForClassify(fs.readFileSync(path.join(FIXTURES, file)));
      expect(classify(m)).toEqual({ classification, reason });
    });
  }
});
