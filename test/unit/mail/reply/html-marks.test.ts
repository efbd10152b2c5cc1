// Which parts of an HTML mail count as quoted history, and which are not
// shown at all: Gmail's quote container holding inline answers, and content
// the sender hid (preheaders).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../../../src/mail/reply/extract.js';
import { parseMail } from '../../../../src/mail/parse.js';
import { buildRichText, sanitizeMailHtml } from '../../../../src/mail/rich/index.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/reply');
const html = (source: string): string => extractReply({ text: null, html: source });

const ATTRIBUTION =
  '<div dir="ltr" class="gmail_attr">On Mon, Jun 3, 2024 at 10:12 AM Acme Support &lt;<a href="mailto:support@acme.test">support@acme.test</a>&gt; wrote:<br></div>';
const quote = (text: string): string =>
  `<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">${text}</blockquote>`;

describe('Gmail quote containers', () => {
  it('keeps answers written between the quoted questions (the reviewer’s mail)', async () => {
    const mail = await parseMail(fs.readFileSync(path.join(FIXTURES, 'gmail-inline-answers.eml')));
    expect(extractReply(mail)).toBe('Answers inline.\n\n> What model?\n\nHP 4000\n\n> Which OS?\n\nWindows 11');
  });

  it('keeps inline answers in a gmail_quote_container without text above it', () => {
    const source =
      `<div dir="ltr"><div class="gmail_quote gmail_quote_container">${ATTRIBUTION}${quote('Is the invoice ready?')}` +
      `<div>Yes, attached.</div>${quote('And the delivery note?')}<div>Follows tomorrow.</div></div></div>`;
    expect(html(source)).toBe('> Is the invoice ready?\n\nYes, attached.\n\n> And the delivery note?\n\nFollows tomorrow.');
  });

  it('still drops the attribution and the quote of a top-posted reply', () => {
    const source =
      `<div dir="ltr">Thanks, fixed.<div><br></div><div>John</div></div><br>` +
      `<div class="gmail_quote gmail_quote_container">${ATTRIBUTION}${quote('Please restart.<br>')}<div><br></div></div>`;
    expect(html(source)).toBe('Thanks, fixed.\n\nJohn');
  });

  it('still drops the attribution and the quote of a top-posted reply with trailing blank lines', () => {
    const source = `<div>Done.</div><div class="gmail_quote">${ATTRIBUTION}${quote('Please restart.')}<div>&nbsp;</div>\n<br></div>`;
    expect(html(source)).toBe('Done.');
  });
});

describe('hidden content', () => {
  const newsletterReply =
    '<html><body><div style="display:none;max-height:0;overflow:hidden">Your order 123 has shipped – track it now</div>' +
    '<span hidden>tracking 5f3a</span>' +
    '<p>Hi, my order 123 has not arrived.</p><p style="color:#333;display : none !important">hidden twin</p><p>Anna</p></body></html>';

  it('leaves preheaders and hidden elements out of the extracted reply and the preview', () => {
    const extracted = html(newsletterReply);
    expect(extracted).toBe('Hi, my order 123 has not arrived.\n\nAnna');
    const rich = buildRichText({ html: newsletterReply, text: null, extracted });
    expect(rich.plain_preview).toBe('Hi, my order 123 has not arrived. Anna');
    expect(rich.html).not.toMatch(/shipped|tracking|twin/);
  });

  it('leaves them out when the reply is extracted from sanitized HTML (conversations created over the API)', () => {
    expect(html(sanitizeMailHtml(newsletterReply))).toBe('Hi, my order 123 has not arrived.\n\nAnna');
  });

  it('keeps elements whose style only mentions display', () => {
    expect(html('<p style="display:block">shown</p><p style="display:none-ish">also shown</p>')).toBe('shown\n\nalso shown');
  });

  it('leaves hidden content out of the text of an HTML-only mail', async () => {
    const raw = Buffer.from(
      ['From: a@customer.example', 'To: support@acme.example', 'Subject: x', 'Content-Type: text/html; charset=utf-8', '', newsletterReply, ''].join('\r\n'),
    );
    const mail = await parseMail(raw);
    expect(mail.text).toBe('Hi, my order 123 has not arrived.\n\nAnna');
  });
});
