// The text of a mail that has only HTML: rendered by parse.ts with the
// bounded reply renderer instead of mailparser's html-to-text (which is
// quadratic on long words). Mails with a text/plain part keep that text.
import { describe, expect, it } from 'vitest';
import { parseMail } from '../../../../src/mail/parse.js';

const HEAD = ['From: Anna <anna@customer.example>', 'To: support@acme.example', 'Subject: Order 123', 'MIME-Version: 1.0'];

function htmlOnly(html: string): Buffer {
  return Buffer.from([...HEAD, 'Content-Type: text/html; charset=utf-8', '', html, ''].join('\r\n'));
}

function alternative(text: string, html: string): Buffer {
  return Buffer.from(
    [
      ...HEAD,
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text,
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      '',
      html,
      '--b1--',
      '',
    ].join('\r\n'),
  );
}

describe('the text of an HTML-only mail', () => {
  const longLine = 'The replacement printer arrived today but the tray does not close and the display shows error E42 every time.';

  it('is the visible text: lines unwrapped, quotes as "> " lines, links with their address, no images', async () => {
    const mail = await parseMail(
      htmlOnly(
        `<html><head><title>Re: Order 123</title><style>p{margin:0}</style></head><body>` +
          `<p>${longLine}</p><p>See <a href="https://acme.example/orders/123">the order</a>.<img src="cid:logo@acme"></p>` +
          `<blockquote><p>Your printer ships today.</p></blockquote></body></html>`,
      ),
    );
    expect(mail.text).toBe(`${longLine}\n\nSee the order [https://acme.example/orders/123].\n\n> Your printer ships today.`);
    expect(mail.warnings).toEqual([]);
  });

  it('keeps the signature and the quoted history: it is the mail’s text, not the extracted reply', async () => {
    const mail = await parseMail(
      htmlOnly(
        '<div>Thanks.</div><div class="gmail_signature">Anna Berg</div><div class="gmail_quote">On Mon, Acme wrote:<blockquote class="gmail_quote">Hello</blockquote></div>',
      ),
    );
    expect(mail.text).toBe('Thanks.\nAnna Berg\nOn Mon, Acme wrote:\n\n> Hello');
  });

  it('is not made from HTML over maxHtmlBytes, with a warning', async () => {
    const mail = await parseMail(htmlOnly(`<p>${'x'.repeat(2000)}</p>`), { maxHtmlBytes: 1000 });
    expect(mail.text).toBe('');
    expect(mail.html).toContain('xxxx');
    expect(mail.warnings.some((w) => w.startsWith('HTML not converted to text'))).toBe(true);
  });
});

describe('the text of a mail with a text/plain part', () => {
  it('is that part, as written, whatever the HTML says', async () => {
    const text = 'Hi,\r\n\r\nplease see the attached invoice.\r\n\r\n> earlier mail\r\n';
    const mail = await parseMail(alternative(text, '<p>Hi,</p><p>please see <b>the attached invoice</b>.</p>'));
    expect(mail.text).toBe('Hi,\n\nplease see the attached invoice.\n\n> earlier mail\n');
  });

  it('is the HTML’s text when the text/plain part is blank', async () => {
    const mail = await parseMail(alternative('', '<p>Only the HTML says something.</p>'));
    expect(mail.text).toBe('Only the HTML says something.');
  });
});
