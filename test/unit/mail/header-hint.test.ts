import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { eightBitNameLines, headerHintOf } from '../../../src/mail/header-hint.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');
// A Russian file name in KOI8-R, raw in a part header (no encoded word): the only 8-bit text of the message.
const koi8Name = iconv.encode('Протокол заседания совета директоров по итогам года', 'koi8-r').toString('latin1');

function mail(partHeader: string, eol = '\r\n'): Buffer {
  return latin1(
    ['From: a@example.com', 'Subject: files', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'see attached', '--b', partHeader, 'Content-Transfer-Encoding: base64', '', 'aGVsbG8=', '--b--', ''].join(eol),
  );
}

describe('headerHintOf', () => {
  it('finds nothing to detect in a 7-bit message', () => {
    expect(headerHintOf(mail('Content-Type: application/pdf; name="report.pdf"'), [])).toEqual({});
  });

  it('detects the charset of a raw 8-bit file name in a part header', () => {
    const hint = headerHintOf(mail(`Content-Type: application/pdf; name="${koi8Name}.pdf"`), []);
    expect(hint.detected).toBe('koi8-r');
  });

  it('finds the name line wherever the 8-bit byte sits on it, with LF or CRLF line ends', () => {
    for (const eol of ['\r\n', '\n']) {
      const hint = headerHintOf(mail(`Content-Disposition: attachment;\tname*0="${koi8Name}";`, eol), []);
      expect(hint.detected).toBe('koi8-r');
    }
  });

  it('ignores 8-bit body text that names no file', () => {
    const body = latin1(`From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${Buffer.from('Grüße, Jörg').toString('latin1')}\r\n`);
    expect(headerHintOf(body, [])).toEqual({});
  });

  it('finds a name folded away from its `=` onto the next line', () => {
    const hint = headerHintOf(mail(`Content-Type: application/pdf; name\r\n\t="${koi8Name}.pdf"`), []);
    expect(hint.detected).toBe('koi8-r');
  });
});

describe('eightBitNameLines', () => {
  // The pattern run over the whole text, as it was before only the lines with an 8-bit byte were tried.
  const WHOLE = /^[ \t]*[^\n]{0,200}?\bname\*?[0-9*]{0,4}\s*=[^\n]*[\x80-\xff][^\n]*$/gim;
  const whole = (text: string) => [...text.matchAll(WHOLE)].slice(0, 200).map((m) => m[0]);

  it('finds exactly what the pattern finds over the whole text (random texts of header-like pieces)', () => {
    const pieces = ['name', 'Name', 'file', '=', '*', '0', '1', ' ', '\t', '\r', '\n', '\r\n', '\xe9', '\xa0', 'a', '"', ';', 'x'];
    let seed = 12345;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (let t = 0; t < 20_000; t++) {
      let text = '';
      for (let i = 0, n = 1 + random(60); i < n; i++) text += pieces[random(pieces.length)];
      expect(eightBitNameLines(text).map((b) => b.toString('latin1')), JSON.stringify(text)).toEqual(whole(text));
    }
  });

  it('finds the same in a text with an 8-bit byte on every line, where it runs the pattern over the whole text', () => {
    const body = Array.from({ length: 3000 }, (_, i) => `Zeile ${i}: Gr\xfc\xdfe`).join('\r\n');
    const text = `${body}\r\n--b\r\nContent-Type: text/plain; name="\xe4rger.txt"\r\n\r\nx\r\n`;
    expect(eightBitNameLines(text).map((b) => b.toString('latin1'))).toEqual(whole(text));
    expect(whole(text)).toHaveLength(1);
  });
});
