import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { linkify, textToEditorJs, textToHtml } from '../../../../src/mail/rich/text.js';
import { inertProblems } from './inert.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/rich');

describe('linkify', () => {
  it('links http(s) and www URLs, leaving sentence punctuation outside', () => {
    expect(linkify('see https://x.example/a_(b). or www.y.example!', false)).toBe(
      'see <a href="https://x.example/a_(b)">https://x.example/a_(b)</a>. or <a href="https://www.y.example">www.y.example</a>!',
    );
  });

  it('escapes everything else and never links other schemes', () => {
    expect(linkify('<b>javascript:alert(1)</b> & "q"', false)).toBe('&lt;b&gt;javascript:alert(1)&lt;/b&gt; &amp; &quot;q&quot;');
    expect(linkify('https://x.example/?a=1&b="2"', false)).toBe(
      '<a href="https://x.example/?a=1&amp;b=">https://x.example/?a=1&amp;b=</a>&quot;2&quot;',
    );
  });

  it('adds rel and target for display HTML', () => {
    expect(linkify('http://a.example')).toBe(
      '<a href="http://a.example" rel="noopener noreferrer nofollow" target="_blank">http://a.example</a>',
    );
  });

  it('is linear on hostile input', () => {
    linkify('https://' + 'a.'.repeat(500_000) + ' ' + 'www'.repeat(300_000));
  });
});

describe('textToHtml / textToEditorJs', () => {
  const text = fs.readFileSync(path.join(FIXTURES, 'plain-reply.txt'), 'utf8');

  it('builds paragraphs, line breaks, lists, quotes and links', () => {
    const html = textToHtml(text);
    expect(inertProblems(html)).toEqual([]);
    expect(html).toContain('<p>Hello,</p>');
    expect(html).toContain('<br>I tried:</p>');
    expect(html).toContain('<ul><li>reinstalling the client</li><li>another network</li></ul>');
    expect(html).toContain('<blockquote><p>On Mon, Support wrote:<br>Please send the log file.</p></blockquote>');
    expect(html).toContain('<a href="https://www.client.example/vpn-log" rel="noopener noreferrer nofollow" target="_blank">www.client.example/vpn-log</a>.');
  });

  it('escapes markup in text', () => {
    expect(textToHtml('<script>alert(1)</script>')).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });

  it('gives matching Editor.js blocks', () => {
    const doc = textToEditorJs(text, { time: 42 });
    expect(doc.time).toBe(42);
    expect(doc.blocks.map((b) => b.type)).toEqual(['paragraph', 'paragraph', 'list', 'paragraph', 'quote', 'paragraph']);
    expect(doc.blocks[2]?.data).toEqual({ style: 'unordered', items: ['reinstalling the client', 'another network'] });
    expect(doc.blocks[4]?.data).toEqual({
      text: 'On Mon, Support wrote:<br>Please send the log file.',
      caption: '',
      alignment: 'left',
    });
    expect(doc.blocks[5]?.data).toEqual({ text: '--<br>Peter' });
    expect(JSON.stringify(textToEditorJs(text, { time: 42 }))).toBe(JSON.stringify(doc));
  });

  it('recognises numbered lists and caps blocks', () => {
    expect(textToEditorJs('1. one\n2) two').blocks[0]?.data).toEqual({ style: 'ordered', items: ['one', 'two'] });
    expect(textToEditorJs('a\n\n'.repeat(1000), { maxBlocks: 10 }).blocks).toHaveLength(10);
  });
});
