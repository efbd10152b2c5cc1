// mapMail and the parse command's results: the DTO draft PRODUCT.md describes,
// from real parsed mail (no database).
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dedupeKey, mapMail } from '../../../src/conversations/from-mail.js';
import { conversationDraft } from '../../../src/conversations/draft.js';
import { parseFile } from '../../../src/cli/parse.js';
import { main } from '../../../src/cli/main.js';
import { parseMail } from '../../../src/mail/parse.js';

const mail = (headers: string, body = 'Hello,\r\n\r\nthe printer is on fire.\r\n\r\nAnna\r\n') => Buffer.from(`${headers.trim().replace(/\n/g, '\r\n')}\r\n\r\n${body}`);

const REPLY = mail(
  `From: "Anna Example" <Anna@Example.COM>
To: Support <support@acme.test>
Cc: bob@example.com, BOB@example.com
Subject: Re: [#42] Printer
Date: Tue, 03 Nov 2026 10:00:00 +0000
Message-ID: <abc@example.com>
In-Reply-To: <out-1@acme.test>
References: <first@example.com> <out-1@acme.test>`,
  'Still broken.\r\n\r\nOn Mon, 2 Nov 2026 at 09:00, Support <support@acme.test> wrote:\r\n> Have you tried turning it off?\r\n',
);

describe('mapMail', () => {
  it('maps a reply onto the conversation draft', async () => {
    const mapped = mapMail(await parseMail(REPLY), { mailbox: { address: 'support@acme.test' }, ownAddresses: ['support@acme.test'] });
    expect(mapped.classification).toBe('human');
    expect(mapped.requester).toEqual({ email: 'anna@example.com', name: 'Anna Example' });
    expect(mapped.last_message_extracted).toBe('Still broken.');
    expect(mapped.thread).toEqual({
      message_id: 'abc@example.com',
      in_reply_to: 'out-1@acme.test',
      references: ['first@example.com', 'out-1@acme.test'],
      subject: 'Re: [#42] Printer',
      subject_tag: 42,
    });
    expect(mapped.created.toISOString()).toBe('2026-11-03T10:00:00.000Z');
    expect(mapped.created_source).toBe('date_header');

    const draft = conversationDraft(mapped);
    expect(draft.type).toBe(1);
    expect(draft.email_addresses).toEqual([
      { email: 'anna@example.com', name: 'Anna Example', direction: 1 },
      { email: 'support@acme.test', name: 'Support', direction: 2 },
      { email: 'bob@example.com', name: '', direction: 3 },
    ]);
    expect(draft.sys_content_rich.plain_preview).toBe('Still broken.');
    expect(draft.created_by.label).toBe('Mailroom');
    expect(JSON.parse(JSON.stringify(draft))).toEqual(draft);
  });

  it('records the mailbox as BCC when the mail reached it without naming it, and prefers INTERNALDATE', async () => {
    const raw = mail('From: a@example.com\nTo: list@example.org\nSubject: hi\nDate: Tue, 03 Nov 2026 10:00:00 +0000');
    const receivedAt = new Date('2026-11-04T08:00:00Z');
    const mapped = mapMail(await parseMail(raw), { mailbox: { address: 'Support@Acme.test', aliases: ['help@acme.test'] }, receivedAt });
    expect(mapped.email_addresses.filter((e) => e.direction === 4)).toEqual([{ email: 'support@acme.test', name: '', direction: 4 }]);
    expect(mapped.created).toEqual(receivedAt);
    expect(mapped.created_source).toBe('internaldate');

    const viaAlias = mapMail(await parseMail(mail('From: a@example.com\nTo: help@acme.test\nSubject: hi')), { mailbox: { address: 'support@acme.test', aliases: ['help@acme.test'] } });
    expect(viaAlias.email_addresses.some((e) => e.direction === 4)).toBe(false);
  });

  it('keeps no URL the sanitizer removed in last_message_extracted or plain_preview', async () => {
    const html = '<p>Please <a href="JaVa&#x09;ScRiPt:alert(1)">click here</a> or <a href="data:text/html,x">here</a>, see <a href="https://ok.test/">docs</a></p>';
    const mapped = mapMail(await parseMail(mail('From: a@example.com\nSubject: x\nContent-Type: text/html; charset=utf-8', html)));
    expect(mapped.last_message_extracted).toBe('Please click here or here, see docs [https://ok.test/]');
    expect(mapped.sys_content_rich.plain_preview).toBe('Please click here or here, see docs [https://ok.test/]');
    expect(JSON.stringify(mapped)).not.toMatch(/javascript|data:text/i);
  });

  it('falls back to the fetch time when the Date header is missing or absurd', async () => {
    const now = new Date('2026-11-25T12:00:00Z');
    for (const date of ['', 'Date: Thu, 01 Jan 1970 00:00:00 +0000', 'Date: Fri, 01 Jan 2100 00:00:00 +0000', 'Date: not a date']) {
      const mapped = mapMail(await parseMail(mail(`From: a@example.com\nSubject: x\n${date}`)), { now });
      expect(mapped.created).toEqual(now);
      expect(mapped.created_source).toBe('received');
    }
  });

  it('classifies mail from the tenant\'s own addresses', async () => {
    const mapped = mapMail(await parseMail(mail('From: Help <HELP@acme.test>\nTo: x@example.com\nSubject: x')), { ownAddresses: ['support@acme.test', 'help@acme.test'] });
    expect(mapped.classification).toBe('own_address');
  });

  it('keys "the same mail" by Message-ID + From + subject, else by From, Date, subject and body', async () => {
    const a = await parseMail(mail('From: a@example.com\nSubject: One\nMessage-ID: <m1@example.com>'));
    const sameInOtherCase = await parseMail(mail('From: A@Example.com\nSubject: One\nMessage-ID: <M1@example.com>', 'different transport encoding'));
    const reusedId = await parseMail(mail('From: a@example.com\nSubject: Two\nMessage-ID: <m1@example.com>'));
    expect(dedupeKey(sameInOtherCase)).toBe(dedupeKey(a));
    expect(dedupeKey(reusedId)).not.toBe(dedupeKey(a));

    const noId = (body: string) => parseMail(mail('From: a@example.com\nSubject: One\nDate: Tue, 03 Nov 2026 10:00:00 +0000', body));
    expect(dedupeKey(await noId('x'))).toBe(dedupeKey(await noId('x')));
    expect(dedupeKey(await noId('x'))).not.toBe(dedupeKey(await noId('y')));
  });
});

describe('mailroom parse', () => {
  async function files(entries: Record<string, Buffer | string>): Promise<string[]> {
    const dir = await mkdtemp(path.join(tmpdir(), 'mailroom-parse-'));
    const out: string[] = [];
    for (const [name, content] of Object.entries(entries)) {
      await writeFile(path.join(dir, name), content);
      out.push(path.join(dir, name));
    }
    return out;
  }

  it('gives every file a result and goes on after a bad one', async () => {
    const [good, bad, own, bounce] = await files({
      'good.eml': REPLY,
      'bad.eml': '\u0000\u0001 not a mail at all',
      'own.eml': mail('From: support@acme.test\nTo: x@example.com\nSubject: x'),
      'bounce.eml': mail('From: MAILER-DAEMON@mx.example.net\nTo: support@acme.test\nSubject: Undelivered Mail Returned to Sender'),
    });
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await main(['parse', '--jsonl', '--mailbox-address', 'support@acme.test', good!, bad!, own!, bounce!, '/nonexistent/x.eml'], {
      out: (l) => lines.push(l),
      err: (l) => errors.push(l),
    });
    const results = lines.map((l) => JSON.parse(l) as { file: string; outcome: string; classification: string | null; error: { code: string } | null });
    expect(results.map((r) => [path.basename(r.file), r.outcome, r.classification, r.error?.code ?? null])).toEqual([
      ['good.eml', 'conversation', 'human', null],
      ['bad.eml', 'failed', null, 'MAIL_UNREADABLE'],
      ['own.eml', 'skipped', 'own_address', null],
      ['bounce.eml', 'skipped', 'bounce', null],
      ['x.eml', 'failed', null, 'FILE_UNREADABLE'],
    ]);
    expect(code).toBe(1);
    expect(errors.join('\n')).toMatch(/1 of 5 file\(s\) could not be read/);
  });

  it('prints a JSON array without --jsonl, and exits 0 when every file was read', async () => {
    const [good] = await files({ 'good.eml': REPLY });
    const lines: string[] = [];
    const code = await main(['parse', good!], { out: (l) => lines.push(l), err: () => {} });
    expect(code).toBe(0);
    const parsed = JSON.parse(lines.join('\n')) as unknown[];
    expect(parsed).toHaveLength(1);
  });

  it('reports the seed fields of the draft and the attachment list', async () => {
    const [file] = await files({
      'att.eml': mail(
        'From: a@example.com\nTo: support@acme.test\nSubject: file\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"',
        '--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/pdf; name="../../etc/passwd.pdf"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n',
      ),
    });
    const result = await parseFile(file!, { mailboxAddress: 'support@acme.test' });
    expect(Object.keys(result.conversation ?? {})).toEqual(
      expect.arrayContaining(['type', 'email_addresses', 'requester', 'last_message_extracted', 'sys_content_rich', 'sys_attachments', 'created', 'created_by']),
    );
    expect(result.attachments).toEqual([
      {
        filename: expect.not.stringMatching(/[/\\]/) as unknown as string,
        content_type: 'application/pdf',
        size_bytes: 9,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string,
        content_id: null,
        inline: false,
      },
    ]);
    expect(result.conversation?.sys_attachments).toEqual([{ label: result.attachments[0]?.filename, size_kb: 1, status: 1, status_message: null, download_url: null }]);
  });

  it('rejects a --mailbox-address that is not an address', async () => {
    await expect(main(['parse', '--mailbox-address', 'nope', 'x.eml'], { out: () => {}, err: () => {} })).rejects.toThrow(/not an email address/);
  });
});
