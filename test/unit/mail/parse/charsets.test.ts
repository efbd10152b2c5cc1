// Text bodies whose bytes are not what they declare (body-charset.ts): 8-bit
// bytes under US-ASCII or no charset, unknown charsets, Latin-1 labelled UTF-8,
// undeclared Big5; and the marking pass never shows in text or attachments.
import { createHash } from 'node:crypto';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeBodyBytes, markTextCharsets, unmarkTextCharsets } from '../../../../src/mail/body-charset.js';
import { parseMail } from '../../../../src/mail/parse.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const head = 'From: a@example.com\r\nTo: b@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\n';
const textOf = async (raw: Buffer) => (await parseMail(raw)).text?.trim();

describe('text body charsets', () => {
  it('reads 8-bit bytes under US-ASCII, or with no Content-Type at all, as windows-1252 when they are not UTF-8', async () => {
    expect(await textOf(latin1(`${head}Content-Type: text/plain; charset=us-ascii\r\n\r\nGr\xfc\xdfe aus K\xf6ln \x93quoted\x94\r\n`))).toBe('Grüße aus Köln “quoted”');
    expect(await textOf(latin1(`${head}\r\nK\xf6ln\r\n`))).toBe('Köln');
    expect(await textOf(latin1(`${head}Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nK=F6ln\r\n`))).toBe('Köln');
  });

  it('keeps valid UTF-8 under US-ASCII or no charset as UTF-8', async () => {
    expect(await textOf(Buffer.from(`${head}Content-Type: text/plain; charset=us-ascii\r\n\r\nGrüße, 東京\r\n`))).toBe('Grüße, 東京');
  });

  it('reads an unknown charset from its bytes instead of replacing them', async () => {
    expect(await textOf(latin1(`${head}Content-Type: text/plain; charset="x-unknown"\r\n\r\nK\xf6ln\r\n`))).toBe('Köln');
    expect(await textOf(Buffer.from(`${head}Content-Type: text/plain; charset=unknown-8bit\r\n\r\nKöln\r\n`))).toBe('Köln');
  });

  it('warns of an unknown charset a header names, not of the meta tag inside a quoted-printable HTML body', async () => {
    const qpHtml = `${head}Content-Type: text/html; charset="iso-8859-1"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<html><head><meta http-equiv=3D"Content-Type" content=3D"text/html; charset=3Diso-8859-1"></head><body>K=F6ln</body></html>\r\n`;
    expect((await parseMail(latin1(qpHtml))).warnings.filter((w) => w.startsWith('unknown charset'))).toEqual([]);
    const unknown = `${head}Content-Type: text/plain; charset="x-unknown"\r\n\r\nK\xf6ln\r\n`;
    expect((await parseMail(latin1(unknown))).warnings).toContain('unknown charset "x-unknown"; decoded as UTF-8 where valid, else windows-1252');
  });

  it('reads a body labelled UTF-8 without one valid UTF-8 sequence as legacy text, and keeps a mostly valid one as UTF-8', async () => {
    expect(await textOf(latin1(`${head}Content-Type: text/plain; charset=utf-8\r\n\r\nK\xf6ln\r\n`))).toBe('Köln');
    const mixed = Buffer.concat([Buffer.from(`${head}Content-Type: text/plain; charset=utf-8\r\n\r\nKöln `), latin1('\xff'), Buffer.from('\r\n')]);
    expect(await textOf(mixed)).toBe('Köln \ufffd');
  });

  it('detects an undeclared multi-byte charset when the detector is sure (Big5)', async () => {
    const text = '顏氏家訓，北齊顏之推撰。夫九州之人，言語不同，生民已來，固常然矣。自春秋標齊言之傳，離騷目楚詞之經，此蓋其較明之初也。';
    const body = iconv.encode(text.repeat(4), 'big5').toString('base64');
    expect(await textOf(Buffer.from(`${head}Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}\r\n`))).toBe(text.repeat(4));
  });

  it('still decodes declared charsets as before: windows-1252, ks_c_5601-1987, ISO-2022-JP', async () => {
    expect(await textOf(latin1(`${head}Content-Type: text/plain; charset=windows-1252\r\n\r\n\x80 \x93x\x94\r\n`))).toBe('€ “x”');
    const korean = iconv.encode('안녕하세요', 'cp949').toString('base64');
    expect(await textOf(Buffer.from(`${head}Content-Type: text/plain; charset=ks_c_5601-1987\r\nContent-Transfer-Encoding: base64\r\n\r\n${korean}\r\n`))).toBe('안녕하세요');
    const jis = Buffer.concat([Buffer.from([0x1b, 0x24, 0x42]), Buffer.from('$3$s$K$A$O', 'latin1'), Buffer.from([0x1b, 0x28, 0x42])]).toString('base64');
    expect(await textOf(Buffer.from(`${head}Content-Type: text/plain; charset=iso-2022-jp\r\nContent-Transfer-Encoding: base64\r\n\r\n${jis}\r\n`))).toBe('こんにちは');
  });

  it('decodes each part of a multipart by its own declaration, boundaries that prefix others included', async () => {
    const raw = latin1(
      `${head}Content-Type: multipart/mixed; boundary="ab"\r\n\r\n--ab\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n--a\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nK\xf6ln\r\n--a\r\nContent-Type: text/html\r\n\r\n<p>K\xf6ln</p>\r\n--a--\r\n--ab--\r\n`,
    );
    const mail = await parseMail(raw);
    expect(mail.text?.trim()).toBe('Köln');
    expect(mail.html).toContain('<p>Köln</p>');
  });
});

describe('the marking pass', () => {
  it('leaves an attached message/rfc822 byte for byte as sent', async () => {
    const inner = latin1('From: c@example.com\r\nSubject: inner\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nK\xf6ln\r\n');
    const raw = Buffer.concat([
      latin1(`${head}Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n`),
      inner,
      latin1('--b--\r\n'),
    ]);
    const mail = await parseMail(raw);
    const eml = mail.attachments.find((a) => a.contentType === 'message/rfc822');
    expect(eml?.sha256).toBe(createHash('sha256').update(inner.subarray(0, inner.length - 2)).digest('hex'));
  });

  it('never shows its marks, even where a malformed message makes headers body text', async () => {
    const long = '1'.repeat(80);
    const raw = latin1(`${head}Content-Type: multipart/mixed; boundary="${long}"\r\n\r\n--${long}\r\nContent-Type: text/plain\r\n\r\nbody\r\n--${long}--\r\n`);
    expect(markTextCharsets(raw).toString('latin1')).not.toContain(`--${long}\r\nContent-Type: text/plain; charset=x-mailroom`);
    const mail = await parseMail(raw);
    expect(`${mail.text ?? ''}${mail.html ?? ''}`).not.toContain('x-mailroom');
    expect(unmarkTextCharsets('Content-Type: text/plain; charset=x-mailroom-none\nContent-Type: text/plain; charset=x-mailroom-us-ascii')).toBe('Content-Type: text/plain\nContent-Type: text/plain; charset=us-ascii');
  });

  it('leaves a message typed by its Content-Disposition alone, marks a part once, and never edits quoted values', async () => {
    const photo = await parseMail(latin1(`${head}Content-Disposition: inline; filename="photo.jpg"\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRg==\r\n`));
    expect(photo.attachments.map((a) => [a.filename, a.contentType])).toEqual([['photo.jpg', 'image/jpeg']]);
    const empty = Buffer.from(`${head}Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGrüße\r\n--b--\r\n`);
    expect(markTextCharsets(empty).toString('latin1').match(/x-mailroom-/g)).toHaveLength(1);
    expect(await textOf(empty)).toBe('Grüße');
    const named = await parseMail(latin1(`${head}Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: text/plain; name="notes; charset=us-ascii"\r\nContent-Disposition: attachment\r\n\r\nfile\r\n--b--\r\n`));
    expect(named.attachments.map((a) => a.filename)).toEqual(['notes; charset=us-ascii']);
  });

  it('finds every boundary in one pass: deep nesting without close lines is linear', () => {
    let nested = '';
    for (let i = 0; i < 1990; i++) nested += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
    const raw = latin1(`${head}${nested}Content-Type: text/plain\r\n\r\n${'x'.repeat(1024 * 1024)}\r\n`);
    const marked = markTextCharsets(raw).toString('latin1');
    expect(marked.match(/x-mailroom-none/g)).toHaveLength(1);
  });

  it('is a pure function of the bytes for mail without text parts to mark', () => {
    const raw = Buffer.from(`${head}Content-Type: text/plain; charset=iso-8859-1\r\n\r\nx\r\n`);
    expect(markTextCharsets(raw)).toBe(raw);
    expect(decodeBodyBytes('', Buffer.from('plain'))).toBe('plain');
  });
});
