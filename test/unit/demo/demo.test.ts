// The demo's pure parts: MAILROOM_DEMO_IMAP_URL, the sample mails, the summary.
import { describe, expect, it } from 'vitest';
import { DovecotMissingError } from '../../../dev/dovecot.js';
import { parseImapUrl, readSampleMails } from '../../../demo/mailbox.js';
import { countsOf, skipReason, summaryLines, type DemoResult } from '../../../demo/summary.js';

describe('MAILROOM_DEMO_IMAP_URL', () => {
  it('reads imaps:// (implicit TLS) and imap:// (STARTTLS, or plain with ?tls=none)', () => {
    expect(parseImapUrl('imaps://me%40x.example:p%40ss@imap.x.example/Support')).toEqual({
      address: 'me@x.example', host: 'imap.x.example', port: 993, tls: 'tls', username: 'me@x.example', password: 'p@ss', folder: 'Support',
    });
    expect(parseImapUrl('imap://u:p@127.0.0.1:1143?tls=none&address=help@x.example')).toMatchObject({ port: 1143, tls: 'none', address: 'help@x.example', folder: 'INBOX' });
    expect(parseImapUrl('imap://u%40x.example:p@h').tls).toBe('starttls');
  });

  it('says what is missing in one sentence', () => {
    expect(() => parseImapUrl('https://u:p@h')).toThrow(/imaps:\/\/ or imap:\/\//);
    expect(() => parseImapUrl('imaps://h')).toThrow(/needs a user, a password and a host/);
    expect(() => parseImapUrl('imaps://bob:pw@h')).toThrow(/\?address=ADDR/);
  });
});

describe('without Dovecot', () => {
  it('names the one command that installs it', () => {
    expect(new DovecotMissingError().message).toMatch(/^Dovecot is not installed: run `sudo apt-get install dovecot-imapd`/);
  });
});

describe('the sample mails', () => {
  it('are the eight kinds the demo promises, with CRLF line ends and their own dates', () => {
    const mails = readSampleMails();
    expect(mails).toHaveLength(8);
    for (const m of mails) {
      expect(m.raw.includes('\r\n')).toBe(true);
      expect(/[^\r]\n/.test(m.raw.toString('latin1'))).toBe(false);
      expect(m.date.getUTCFullYear()).toBe(2026);
    }
    expect(mails.map((m) => m.file).join(' ')).toMatch(/new-request.*reply-same-thread.*outlook-reply-de.*html-newsletter.*auto-reply.*bounce-dsn.*pdf.*exe/);
  });
});

describe('the summary', () => {
  const result: DemoResult = {
    baseUrl: 'http://127.0.0.1:3000', tenant: 'demo', userToken: 'mr_user', adminToken: 'mr_admin', mailboxId: 7, mailboxAddress: 'support@demo.example',
    imapWhere: 'a throw-away Dovecot', logFile: 'data/demo/mailroom.log', stops: 'Ctrl-C stops it.', tickets: 1, conversations: 1,
    records: [
      { subject: 'Hi', from: 'a@x', outcome: 'conversation', classification: 'human', thread_reason: 'new_ticket', ticket_id: 3, warnings: [], error_message: null },
      { subject: 'Out of office', from: 'b@x', outcome: 'skipped', classification: 'auto_reply', thread_reason: null, ticket_id: null, warnings: [], error_message: null },
    ],
    attachments: [{ filename: 'x.exe', status: 'ERROR', status_message: 'Blocked.' }],
  };

  it('counts outcomes and attachment verdicts, and says why a mail was skipped', () => {
    expect(countsOf(result)).toMatchObject({ mails: 2, tickets: 1, skipped: 1, attachments_error: 1 });
    expect(skipReason(result.records[1]!)).toMatch(/auto-reply that threads onto no ticket/);
  });

  it('gives the tokens, curl lines for the first ticket and the URLs to open, and ends with the counts line', () => {
    const text = summaryLines(result).join('\n');
    expect(text).toContain("curl -s -H 'Authorization: Bearer mr_user' http://127.0.0.1:3000/api/demo/v1/ticket_conversations/3");
    expect(text).toContain('/api/demo/v1/mailboxes/7/messages');
    for (const p of ['/docs', '/admin ', '/admin/queues', '/metrics']) expect(text).toContain(`http://127.0.0.1:3000${p}`);
    expect(summaryLines(result).at(-1)).toMatch(/^demo counts: mails=2 tickets=1 /);
  });
});
