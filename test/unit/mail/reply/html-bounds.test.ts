// Large HTML bodies: every change html.ts makes to the DOM (cutting at the
// node cap, dropping, flattening, wrapping Outlook history) must be linear.
// Each case below took from 3 s to over a minute when nodes were removed or
// moved one splice at a time. Same pattern as bounds.test.ts: a generous 2 s
// bound, the measured times printed, and the outcome checked.
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../../../src/mail/reply/extract.js';
import { parseMail } from '../../../../src/mail/parse.js';


async function timed<T>(name: string, run: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  const out = await run();
  const ms = performance.now() - start;
  console.log(`html bounds: ${name}: ${ms.toFixed(0)} ms`);
  return out;
}

function htmlMail(html: string): Buffer {
  return Buffer.from(
    ['From: Anna <anna@customer.example>', 'To: support@acme.example', 'Subject: Log', 'Content-Type: text/html; charset=utf-8', '', html, ''].join(
      '\r\n',
    ),
  );
}

/** A log pasted into a rich-text editor: one `<br>` per line, 250,000 nodes in 1 MB. */
const pastedLog = Array.from({ length: 125_000 }, (_, i) => `${i}<br>`).join('');

describe('bounded work on large HTML bodies', () => {
  it('a reply above 1 MB of <br>: the reply is kept, the rest is cut at the node cap', async () => {
    const out = await timed('1 MB of <br>', () => extractReply({ text: null, html: `<p>The log is below.</p>${'<br>'.repeat(250_000)}` }));
    expect(out).toBe('The log is below.');
  });

  it('a pasted log of 125,000 lines: its start is kept, its end is past the cap', async () => {
    const out = await timed('125k-line log', () => extractReply({ text: null, html: `<p>Crash log:</p>${pastedLog}` }));
    expect(out.startsWith('Crash log:\n\n0\n1\n2\n')).toBe(true);
    expect(out).not.toContain('\n124999');
  });

  it('a table row of 100,000 cells', async () => {
    const html = `<p>Export attached.</p><table><tr>${'<td>x</td>'.repeat(100_000)}</tr></table><p>after the table</p>`;
    const out = await timed('100k <td>', () => extractReply({ text: null, html }));
    expect(out.startsWith('Export attached.')).toBe(true);
    expect(out).not.toContain('after the table');
  });

  it('an Outlook reply above 49,000 lines of history: the history is moved into a quote in one step', async () => {
    const html = `<div>Still broken.</div><div id="divRplyFwdMsg"><b>From:</b> Acme Support</div>${'old line<br>'.repeat(49_000)}`;
    const out = await timed('Outlook history of 49k lines', () => extractReply({ text: null, html }));
    expect(out).toBe('Still broken.');
  });

  it('100,000 elements inside 100 levels of nesting after Outlook history: wrapped one slice per level', async () => {
    const html = `<div>Reply.</div><div id="divRplyFwdMsg">x</div>${'<div>'.repeat(100)}${'<span>a</span>'.repeat(100_000)}`;
    const out = await timed('deep history', () => extractReply({ text: null, html }));
    expect(out).toBe('Reply.');
  });

  it('a Gmail quote with 50,000 quote/answer pairs: the inline-answer check stays within its budget', async () => {
    const pairs = '<blockquote class="gmail_quote">q</blockquote><div><br></div>'.repeat(50_000);
    const html = `<div>Reply.</div><div class="gmail_quote"><div class="gmail_attr">On Mon, Anna wrote:</div>${pairs}</div>`;
    const out = await timed('50k Gmail quote pairs', () => extractReply({ text: null, html }));
    expect(out).toBe('Reply.');
  });

  it('100,000 hidden preheader blocks', async () => {
    const html = `<p>Visible.</p>${'<div style="display:none">preheader</div>'.repeat(100_000)}`;
    const out = await timed('100k hidden blocks', () => extractReply({ text: null, html }));
    expect(out).toBe('Visible.');
  });

  it('parseMail: an HTML-only mail of 1 MB of adjacent inline images', async () => {
    const mail = await timed('1 MB of <img> (parseMail)', () => parseMail(htmlMail('<img src="cid:logo@acme">'.repeat(40_000))));
    expect(mail.html?.length).toBeGreaterThan(1_000_000);
    // Images carry no text.
    expect(mail.text).toBe('');
  });

  it('parseMail: the text of an HTML-only pasted log is cut at the node cap, with a warning', async () => {
    const mail = await timed('125k-line log (parseMail)', () => parseMail(htmlMail(`<p>Crash log:</p>${pastedLog}`)));
    expect(mail.text?.startsWith('Crash log:\n\n0\n1\n2\n')).toBe(true);
    expect(mail.text).not.toContain('\n124999');
    expect(mail.warnings).toContain('HTML text cut after 50000 elements');
  });
});
