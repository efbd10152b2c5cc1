// Hostile and huge mail (PRODUCT.md): every file of the shared corpus goes
// through parseMail within a deadline, and nothing escapes but the documented
// MailroomError codes; synthetic bombs hit a limit instead of the process.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMailroomError } from '../../../../src/errors.js';
import { BODY_NOT_READ, MailLimitError, parseMail } from '../../../../src/mail/parse.js';
import type { InboundMail } from '../../../../src/mail/types.js';

const CORPUS = process.env.MAILROOM_CORPUS_DIR ?? path.resolve(import.meta.dirname, '../../../../../shared/corpus');

// Expected-result files of the corpora (README/SOURCE.txt name them), not mail.
const EXPECTED_RESULT = /(^SOURCE\.txt$)|\.(json|xml|list|out)$/;
// Files with a mail extension that are not mail on purpose.
const NOT_MAIL: Record<string, string> = {
  'enmime/testdata/mail/erroneous.raw': 'a one-line comment, "Not an RFC-822 Document"',
  'james-mime4j/core/src/test/resources/testmsgs/malformedHeader-noheader.msg': 'body text without any header',
  'james-mime4j/core/src/test/resources/testmsgs/malformedHeaderStartsBody-noheader.msg': 'body text without any header',
};
const MAIL_EXT = /\.(eml|raw|msg)$/;

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (!EXPECTED_RESULT.test(e.name)) out.push(p);
  }
  return out;
}

function checkInvariants(mail: InboundMail, raw: Buffer): void {
  expect(mail.rawSize).toBe(raw.length);
  const names = new Set<string>();
  for (const a of mail.attachments) {
    expect(a.filename).not.toBe('');
    expect(a.filename).not.toMatch(/[/\\\u0000-\u001f]|^\./);
    expect(names.has(a.filename.toLowerCase())).toBe(false);
    names.add(a.filename.toLowerCase());
    expect(a.size).toBe(a.content?.length);
    expect(a.sha256).toBe(createHash('sha256').update(a.content!).digest('hex'));
    expect(a.contentId ?? '').not.toMatch(/^<|>$/);
  }
  for (const id of [mail.messageId ?? '', ...mail.inReplyTo, ...mail.references]) expect(id).not.toMatch(/^<|>$/);
  expect(mail.date === null || !Number.isNaN(mail.date.getTime())).toBe(true);
}

describe.skipIf(!fs.existsSync(CORPUS))('parseMail on the whole corpus', () => {
  it('parses every file within its deadline; only unreadable input throws', { timeout: 120_000 }, async () => {
    const files = walk(CORPUS);
    expect(files.length).toBeGreaterThan(1500);
    const started = Date.now();
    const unreadableMail: string[] = [];
    const slow: string[] = [];
    let parsed = 0;
    for (const file of files) {
      const raw = fs.readFileSync(file);
      const rel = path.relative(CORPUS, file).split(path.sep).join('/');
      const t0 = Date.now();
      try {
        const mail = await parseMail(raw);
        parsed++;
        checkInvariants(mail, raw);
      } catch (err) {
        if (!isMailroomError(err, 'MAIL_UNREADABLE')) throw new Error(`${rel}: ${String(err)}`, { cause: err });
        if (MAIL_EXT.test(rel) && !(rel in NOT_MAIL)) unreadableMail.push(rel);
      }
      const took = Date.now() - t0;
      if (took > 5000) slow.push(`${rel}: ${took} ms`);
    }
    const total = Date.now() - started;
    console.log(`corpus: ${files.length} files, ${parsed} parsed, ${total} ms`);
    expect(unreadableMail).toEqual([]);
    expect(slow).toEqual([]);
    expect(total).toBeLessThan(60_000);
    expect(parsed).toBeGreaterThan(1000);
  });
});

async function expectCode(raw: Buffer, code: 'MAIL_UNREADABLE' | 'MAIL_LIMIT_EXCEEDED', limits = {}): Promise<void> {
  await expect(parseMail(raw, limits)).rejects.toSatisfy((err: unknown) => isMailroomError(err, code));
}

describe('parseMail on hostile input', () => {
  it('rejects empty and header-less input as unreadable', async () => {
    await expectCode(Buffer.alloc(0), 'MAIL_UNREADABLE');
    await expectCode(Buffer.from('\r\n\r\n'), 'MAIL_UNREADABLE');
    await expectCode(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'MAIL_UNREADABLE');
  });

  it('rejects a message over maxRawBytes', async () => {
    await expectCode(Buffer.from(`From: a@b.c\r\n\r\n${'x'.repeat(5000)}`), 'MAIL_LIMIT_EXCEEDED', { maxRawBytes: 1000 });
  });

  it('rejects a header bomb', async () => {
    let h = 'From: a@example.com\r\n';
    for (let i = 0; i < 50_000; i++) h += `X-Header-${i}: value\r\n`;
    await expectCode(Buffer.from(`${h}\r\nbody\r\n`), 'MAIL_LIMIT_EXCEEDED');
  });

  it('keeps only the headers of MIME nested deeper than maxParts, with a warning', async () => {
    let s = 'From: a@example.com\r\nSubject: nest\r\n';
    for (let i = 0; i < 3000; i++) s += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
    s += 'Content-Type: text/plain\r\n\r\nhello\r\n';
    for (let i = 2999; i >= 0; i--) s += `--b${i}--\r\n`;
    const m = await parseMail(Buffer.from(s));
    expect(m).toMatchObject({ subject: 'nest', text: null, attachments: [] });
    expect(m.warnings).toContain(`${BODY_NOT_READ}: it has more than 500 MIME parts (MAILROOM_MAX_MIME_PARTS); only the headers were read, the raw message is kept for reprocess`);
  });

  it('caps attachments, references and addresses', async () => {
    let s = 'From: a@example.com\r\n';
    s += `To: ${Array.from({ length: 2000 }, (_, i) => `u${i}@example.com`).join(', ')}\r\n`;
    s += `References: ${Array.from({ length: 5000 }, (_, i) => `<r${i}@example.com>`).join(' ')}\r\n`;
    s += 'Content-Type: multipart/mixed; boundary=x\r\n\r\n';
    for (let i = 0; i < 300; i++) s += `--x\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\nAAAA\r\n`;
    s += '--x--\r\n';
    const m = await parseMail(Buffer.from(s));
    expect(m.attachments).toHaveLength(100);
    expect(m.attachments[1]?.filename).toBe('a (2).bin');
    expect(m.addresses.to).toHaveLength(500);
    expect(m.references).toHaveLength(50);
    expect(m.references[0]).toBe('r0@example.com');
    expect(m.references.at(-1)).toBe('r4999@example.com');
    expect(m.warnings.length).toBeGreaterThanOrEqual(2);
  });

  it('keeps a deeply nested forward as one attachment', async () => {
    const raw = Buffer.from(`${'From: a@example.com\r\nContent-Type: message/rfc822\r\n\r\n'.repeat(2000)}Subject: inner\r\n\r\nbody`);
    const m = await parseMail(raw);
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]?.contentType).toBe('message/rfc822');
  });

  it('parses a DSN with its report type', async () => {
    const raw = Buffer.from(
      [
        'From: Mail Delivery System <MAILER-DAEMON@mx.example.net>',
        'To: sender@example.com',
        'Subject: Undelivered Mail Returned to Sender',
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        '',
        '--r',
        'Content-Type: text/plain',
        '',
        'I could not deliver your message.',
        '--r',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.example.net',
        '',
        'Final-Recipient: rfc822; gone@example.org',
        'Action: failed',
        'Status: 5.1.1',
        '--r',
        'Content-Type: text/rfc822-headers',
        '',
        'Subject: hello',
        '--r--',
        '',
      ].join('\r\n'),
    );
    const m = await parseMail(raw);
    expect(m.contentType).toBe('multipart/report');
    expect(m.reportType).toBe('delivery-status');
    expect(m.text).toContain('could not deliver');
    expect(m.attachments.map((a) => a.contentType)).toContain('message/delivery-status');
  });

  it('handles an HTML body with many links and deep nesting in bounded time', async () => {
    const html = `<html><body>${'<a href="https://example.com/x">x</a> '.repeat(20_000)}${'<div>'.repeat(5000)}deep${'</div>'.repeat(5000)}</body></html>`;
    const raw = Buffer.from(`From: a@example.com\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`);
    const t0 = Date.now();
    const m = await parseMail(raw);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(m.html?.length).toBeGreaterThan(100_000);
  });
});

describe('mail over a structural limit', () => {
  const head = (extra = '') =>
    'From: "Anna Customer" <Anna@Customer.example>\r\nTo: support@example.com\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= over the limit\r\n' +
    'Message-ID: <limit-1@customer.example>\r\nIn-Reply-To: <root@example.com>\r\nReferences: <root@example.com> <prev@example.com>\r\n' +
    `MIME-Version: 1.0\r\n${extra}`;
  const parts = (n: number) => {
    let s = head('Content-Type: multipart/mixed; boundary="x"\r\n') + '\r\n';
    for (let i = 0; i < n; i++) s += `--x\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`;
    return Buffer.from(s + '--x--\r\n');
  };
  const threading = { messageId: 'limit-1@customer.example', inReplyTo: ['root@example.com'], references: ['root@example.com', 'prev@example.com'], subject: 'Grüße over the limit' };

  it('reads the body of a mail within maxParts', async () => {
    const m = await parseMail(parts(400));
    expect(m.warnings.filter((w) => w.startsWith(BODY_NOT_READ))).toEqual([]);
    expect(m.text).toContain('part 0');
  });

  it('keeps the headers of a mail with 501 parts, without its body, naming the limit', async () => {
    const m = await parseMail(parts(501));
    expect(m).toMatchObject({ ...threading, text: null, html: null, attachments: [] });
    expect(m.addresses.from.map((a) => a.address.toLowerCase())).toEqual(['anna@customer.example']);
    expect(m.addresses.to.map((a) => a.address)).toEqual(['support@example.com']);
    expect(m.warnings.join('\n')).toMatch(/the body was not read, it is over a limit: it has more than 500 MIME parts \(MAILROOM_MAX_MIME_PARTS\)/);
    // The limit is a parameter: 10 parts read with maxParts 20, refused with 5.
    expect((await parseMail(parts(10), { maxParts: 20 })).text).toContain('part 9');
    expect((await parseMail(parts(10), { maxParts: 5 })).text).toBeNull();
  });

  it('keeps the headers of a mail with a 300 KiB part header, naming the limit', async () => {
    let s = head('Content-Type: multipart/mixed; boundary="x"\r\n') + '\r\n--x\r\nContent-Type: text/plain\r\n';
    for (let i = 0; i < 3000; i++) s += `X-Filler-${i}: ${'v'.repeat(90)}\r\n`;
    s += '\r\nthe body\r\n--x--\r\n';
    const raw = Buffer.from(s);
    expect(raw.length).toBeGreaterThan(300 * 1024);
    const m = await parseMail(raw);
    expect(m).toMatchObject({ ...threading, text: null, attachments: [] });
    expect(m.warnings.join('\n')).toMatch(/it is over a limit: a MIME part's header is larger than 262144 bytes \(MAILROOM_MAX_HEADER_BYTES\)/);
  });

  it('refuses a 300 KiB top-level header but says whose mail it was', async () => {
    let extra = '';
    for (let i = 0; i < 3000; i++) extra += `X-Filler-${i}: ${'v'.repeat(90)}\r\n`;
    const raw = Buffer.from(`${head(extra)}\r\nbody\r\n`);
    expect(raw.length).toBeGreaterThan(300 * 1024);
    const err = await parseMail(raw).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MailLimitError);
    expect(isMailroomError(err, 'MAIL_LIMIT_EXCEEDED')).toBe(true);
    expect((err as MailLimitError).message).toBe('The header block is larger than 262144 bytes (MAILROOM_MAX_HEADER_BYTES)');
    expect((err as MailLimitError).header).toEqual({ from: 'anna@customer.example', subject: 'Grüße over the limit', messageId: 'limit-1@customer.example' });
    // A higher limit reads it whole.
    expect((await parseMail(raw, { maxHeaderBytes: 1024 * 1024 })).text).toContain('body');
  });
});
