// Mail from the whole world and mail that is broken (test/fixtures/world,
// made by its generate.mjs with iconv-lite): raw header bytes in legacy
// charsets, encoded words as senders write them, recovered senders, junk
// before the headers, names for nameless parts.

import fs from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { mapMail, REQUESTER_WARNINGS } from '../../../../src/conversations/from-mail.js';
import { isMailroomError } from '../../../../src/errors.js';
import { parseMail } from '../../../../src/mail/parse.js';
import { decodeUnknownBytes, detectShortText, headerCharsetHint } from '../../../../src/mail/unknown-bytes.js';
import { decodeBodyBytes } from '../../../../src/mail/body-charset.js';
import { contentIdName } from '../../../../src/mail/filenames.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/world');
const load = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, name));
const parse = async (name: string) => parseMail(load(name));
const map = async (name: string) => mapMail(await parse(name), { mailbox: { address: 'support@acme.example' }, now: new Date('2024-03-13T00:00:00Z') });

describe('raw 8-bit header bytes in legacy charsets', () => {
  it('reads GBK headers and file names in the charset the body names', async () => {
    const m = await parse('gbk-raw-headers.eml');
    expect(m.subject).toBe('转发：整体方案报价单');
    expect(m.addresses.from).toEqual([{ address: 'zhang.wei@example.cn', name: '张伟' }]);
    expect(m.text).toContain('请查收附件中的报价单');
    expect(m.attachments.map((a) => a.filename)).toEqual(['报价单.pdf']);
    expect(m.headers.get('subject')).toEqual(['转发：整体方案报价单']);
  });

  it.each([
    ['big5-undeclared.eml', '請問您的訂單狀態', '陳大文'],
    ['shift-jis-undeclared.eml', 'お問い合わせの件について', '山田太郎'],
    ['euc-kr-undeclared.eml', '주문 관련 문의 드립니다', '김민수'],
    ['koi8-r-named.eml', 'Проблема с заказом', 'Иван Петров'],
    ['windows-1251-undeclared.eml', 'Счёт на оплату не открывается', 'Ольга Смирнова'],
    ['latin1-undeclared.eml', 'Ärger über die Größe – bitte prüfen', 'Jörg Müller'],
  ])('%s: subject and sender name', async (file, subject, name) => {
    const m = await parse(file);
    expect(m.subject).toBe(subject);
    expect(m.addresses.from[0]?.name).toBe(name);
    expect(m.warnings).toEqual([]);
  });

  it('keeps a UTF-8 header UTF-8 whatever the body names', async () => {
    const raw = Buffer.concat([Buffer.from('From: a@example.com\r\nSubject: '), Buffer.from('Grüße 你好'), Buffer.from('\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\nx\r\n')]);
    expect((await parseMail(raw)).subject).toBe('Grüße 你好');
  });

  it('one decoder for headers and bodies: UTF-8, named, detected, windows-1252', () => {
    const gbk = iconv.encode('整体方案报价单', 'gbk');
    expect(decodeUnknownBytes(Buffer.from('Jörg'))).toBe('Jörg');
    expect(decodeUnknownBytes(gbk, { named: 'gb2312' })).toBe('整体方案报价单');
    expect(decodeUnknownBytes(gbk, { detected: 'gb18030' })).toBe('整体方案报价单');
    expect(decodeUnknownBytes(Buffer.from([0x4a, 0xf6, 0x72, 0x67]), {})).toBe('Jörg');
    expect(decodeUnknownBytes(Buffer.from([0x93, 0x61, 0x94]), { named: 'iso-8859-1' })).toBe('\u201ca\u201d');
    // A body with no charset takes the same path (detection over its own bytes).
    const body = iconv.encode('Здравствуйте! Ваш заказ номер 4711 отправлен сегодня утром, ожидайте доставку в течение трёх дней.', 'windows-1251');
    expect(decodeBodyBytes('', body)).toBe(decodeUnknownBytes(body));
    expect(decodeBodyBytes('', body)).toContain('Ваш заказ');
  });

  it('detects over all header text together, and leaves Latin text alone', () => {
    expect(detectShortText(iconv.encode('お問い合わせ', 'shift_jis'))).toBe('shift_jis');
    expect(detectShortText(iconv.encode('Jörg Müller, Größe', 'windows-1252'))).toBeNull();
    const hint = headerCharsetHint(['us-ascii', 'utf-8'], [iconv.encode('陳大文', 'big5'), iconv.encode('請問您的訂單狀態', 'big5')]);
    expect(hint).toEqual({ named: null, detected: 'big5' });
    expect(headerCharsetHint(['utf-8', 'koi8-r'], [iconv.encode('Иван', 'koi8-r')]).named).toBe('koi8-r');
    // 7-bit ISO-2022-JP cannot hold 8-bit bytes: it names no charset for them.
    expect(headerCharsetHint(['iso-2022-jp'], [Buffer.from([0x41])]).named).toBeNull();
  });
});

describe('encoded words as senders write them', () => {
  it('decodes spaces in Q words, aliases, UTF-7, split characters and RFC 2231 names', async () => {
    const m = await parse('encoded-words-in-the-wild.eml');
    expect(m.addresses.from).toEqual([{ address: 'abc-west@example.com', name: 'ABC / 123 / West' }]);
    expect(m.addresses.to).toEqual([
      { address: 'juergen@example.de', name: 'Jürgen' },
      { address: 'wang@example.cn', name: '王芳' },
    ]);
    expect(m.addresses.cc).toEqual([
      { address: 'lee@example.kr', name: '이지은' },
      { address: 'somchai@example.th', name: 'สมชาย' },
      { address: 'francois@example.fr', name: 'François' },
    ]);
    expect(m.subject).toBe('Personaländerung日本');
    expect(m.attachments.map((a) => a.filename)).toEqual(['請求書 März.pdf']);
    expect(m.warnings).toEqual([]);
  });

  it('keeps a comma inside an encoded word in the name, not as a second address', async () => {
    const m = await parseMail(Buffer.from('From: =?utf-8?Q?M=C3=BCller, Hans?= <hans@example.de>\r\nSubject: x\r\n\r\nx\r\n'));
    expect(m.addresses.from).toEqual([{ address: 'hans@example.de', name: 'Müller, Hans' }]);
    expect(m.badAddresses).toEqual([]);
  });
});

describe('a sender is recovered when one can be', () => {
  it('uses the first From header with a usable address, with a warning', async () => {
    const m = await map('two-from.eml');
    expect(m.requester).toEqual({ email: 'bob@example.com', name: 'Bob Baker' });
    expect(m.warnings).toContain('2 from headers; only the first with a usable address is used');
  });

  it('takes the requester from Reply-To when From has no address, and says so', async () => {
    const m = await map('web-form-reply-to.eml');
    expect(m.requester).toEqual({ email: 'jane.roe@example.org', name: 'Jane Roe' });
    const warning = m.warnings.find((w) => w.startsWith(`${REQUESTER_WARNINGS.fromReplyTo}:`));
    expect(warning).toContain('"Contact Form"');
    // The addresses still say exactly what the headers say: no FROM entry, Reply-To as REPLY_TO.
    expect(m.email_addresses.map((a) => [a.direction, a.email])).toEqual([
      [2, 'support@acme.example'],
      [7, 'jane.roe@example.org'],
    ]);
    expect(m.warnings).toContain('dropped unusable address in from: "Contact Form"');
  });

  it('takes the requester from Sender when that is all there is', async () => {
    const m = await map('sender-only.eml');
    expect(m.requester).toEqual({ email: 'crm-robot@example.net', name: '' });
    expect(m.warnings.some((w) => w.startsWith(`${REQUESTER_WARNINGS.fromSender}:`))).toBe(true);
  });

  it('reads an address written as a comment', async () => {
    const m = await parse('address-as-comment.eml');
    expect(m.addresses.from).toEqual([{ address: 'jane.doe@example.org', name: 'Jane Doe' }]);
  });

  it('classifies a MAILER-DAEMON From without a domain as a bounce, and names its parts', async () => {
    const m = await map('mailer-daemon-no-domain.eml');
    expect(m.classification).toBe('bounce');
    expect(m.requester).toBeNull();
    expect(m.warnings.some((w) => w.startsWith(`${REQUESTER_WARNINGS.unknown}:`))).toBe(true);
    expect(m.attachments.map((a) => a.filename)).toEqual(['delivery-status.txt', 'Your ticket [#42].txt']);
  });
});

describe('a From without a domain as a classification signal', () => {
  it('classifies MAILER-DAEMON (Mail Delivery System) as a bounce by its From alone', async () => {
    const raw = Buffer.from('From: MAILER-DAEMON (Mail Delivery System)\r\nTo: support@acme.example\r\nSubject: Notification\r\n\r\nYour message could not be delivered.\r\n');
    const m = mapMail(await parseMail(raw), { mailbox: { address: 'support@acme.example' } });
    expect([m.classification, m.classification_reason]).toEqual(['bounce', 'from:mailer-daemon']);
    // The header as written is on the record; no address is made up for it.
    expect(m.email_addresses.map((a) => a.email)).toEqual(['support@acme.example']);
    expect(m.warnings).toContain('dropped unusable address in from: "MAILER-DAEMON"');
  });
});

describe('junk before the headers', () => {
  it('skips an mbox From line, a BOM and blank lines, with a warning', async () => {
    const m = await parse('mbox-bom-blank.eml');
    expect(m.subject).toBe('After an mbox line');
    expect(m.addresses.from[0]?.address).toBe('jane@example.org');
    expect(m.warnings).toHaveLength(1);
  });

  it('reads the header block after a forwarding wrapper line', async () => {
    const m = await map('forwarding-wrapper.eml');
    expect(m.thread.subject).toBe('New order request');
    expect(m.requester?.email).toBe('shop@example.com');
    expect(m.warnings).toContain('1 line(s) before the header block skipped');
  });

  it('makes a mail from an unknown sender of text with no header block', async () => {
    const m = await map('no-headers.eml');
    expect(m.requester).toBeNull();
    expect(m.last_message_extracted).toContain('order 4711');
    expect(m.last_message_extracted).toContain('Name: Jane Roe');
    expect(m.warnings).toContain('no header block found: read as text from an unknown sender');
  });

  it('fails only input that is empty or not text', async () => {
    for (const raw of [Buffer.alloc(0), Buffer.from('\r\n \r\n'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52])]) {
      await expect(parseMail(raw)).rejects.toSatisfy((err: unknown) => isMailroomError(err, 'MAIL_UNREADABLE'));
    }
    // A stray NUL at the end of otherwise plain text is still text.
    expect((await parseMail(Buffer.concat([Buffer.from('Please call me back about my invoice, it is wrong.\r\n'.repeat(3)), Buffer.from([0])]))).text).toContain('invoice');
  });
});

describe('names for nameless parts', () => {
  it('names a DSN part and the returned message', async () => {
    const m = await parse('dsn-returned-message.eml');
    expect(m.attachments.map((a) => a.filename)).toEqual(['delivery-status.txt', 'Re_ Your ticket [#42].eml']);
  });

  it('names an unnamed inline image after a Content-ID that is a file name', async () => {
    const m = await parse('inline-images-by-cid.eml');
    expect(m.attachments.map((a) => [a.filename, a.inline])).toEqual([
      ['image001.png', true],
      ['image.jpg', true],
    ]);
    expect(contentIdName('image001.jpg@01D9A2B3.C4D5E6F0')).toBe('image001.jpg');
    expect(contentIdName('<logo.png@example.com>')).toBe('logo.png');
    expect(contentIdName('part1.06090408.01060107@example.com')).toBe('');
    expect(contentIdName('../../etc/passwd.txt@x')).toBe('');
  });
});
