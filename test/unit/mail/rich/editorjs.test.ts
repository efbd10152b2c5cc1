import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { htmlToEditorJs } from '../../../../src/mail/rich/editorjs.js';
import { EDITORJS_VERSION } from '../../../../src/mail/rich/blocks.js';
import { sanitizeMailHtml } from '../../../../src/mail/rich/sanitize.js';
import type { DTO_editorjs } from '../../../../src/mail/rich/types.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/rich');
const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const shapes = (doc: DTO_editorjs): { type: string; data: unknown }[] => doc.blocks.map(({ type, data }) => ({ type, data }));

describe('htmlToEditorJs: block shapes', () => {
  it('maps headings, paragraphs with inline markup, lists, quotes, code, delimiter', () => {
    const html =
      '<h2>Steps</h2><p>Open <strong>Reports</strong> and <em>wait</em>, see <a href="https://x.example/?a=1&amp;b=2">docs</a>.</p>' +
      '<ul><li>one</li><li>two <b>bold</b></li></ul><ol><li>first</li></ol>' +
      '<blockquote><p>quoted</p><p>second</p></blockquote><pre>line 1\n  line 2</pre><hr>';
    expect(shapes(htmlToEditorJs(html))).toEqual([
      { type: 'header', data: { text: 'Steps', level: 2 } },
      {
        type: 'paragraph',
        data: { text: 'Open <b>Reports</b> and <i>wait</i>, see <a href="https://x.example/?a=1&amp;b=2">docs</a>.' },
      },
      { type: 'list', data: { style: 'unordered', items: ['one', 'two <b>bold</b>'] } },
      { type: 'list', data: { style: 'ordered', items: ['first'] } },
      { type: 'quote', data: { text: 'quoted<br>second', caption: '', alignment: 'left' } },
      { type: 'code', data: { code: 'line 1\n  line 2' } },
      { type: 'delimiter', data: {} },
    ]);
  });

  it('makes image blocks from images with a source and skips blocked ones', () => {
    const html = '<p><img src="/att/1" alt="Logo"> <img data-remote-src="https://t.example/p.gif"></p>';
    expect(shapes(htmlToEditorJs(html))).toEqual([
      {
        type: 'image',
        data: { file: { url: '/att/1' }, caption: 'Logo', withBorder: false, stretched: false, withBackground: false },
      },
    ]);
  });

  it('turns data tables into table blocks and flattens layout tables', () => {
    const html =
      '<table><tr><th>Name</th><th>Qty</th></tr><tr><td>Widget</td><td>2</td></tr></table>' +
      '<table><tr><td><table><tr><td>inner <b>text</b></td></tr></table></td></tr></table>';
    expect(shapes(htmlToEditorJs(html))).toEqual([
      { type: 'table', data: { withHeadings: true, stretched: false, content: [['Name', 'Qty'], ['Widget', '2']] } },
      { type: 'paragraph', data: { text: 'inner <b>text</b>' } },
    ]);
  });

  it('splits paragraphs on double line breaks and keeps inline tags balanced', () => {
    expect(shapes(htmlToEditorJs('<div><b>one<br>two<br><br>three</b></div>'))).toEqual([
      { type: 'paragraph', data: { text: '<b>one<br>two</b>' } },
      { type: 'paragraph', data: { text: '<b>three</b>' } },
    ]);
  });

  it('drops unsafe links and escapes text', () => {
    const doc = htmlToEditorJs('<p><a href="javascript:alert(1)">x</a> &lt;b&gt; <script>alert(1)</script></p>');
    expect(doc.blocks[0]?.data).toEqual({ text: 'x &lt;b&gt; alert(1)' });
  });

  it('flattens nested lists into the classic list shape', () => {
    const doc = htmlToEditorJs('<ul><li>a<ul><li>a1</li></ul></li><li>b</li></ul>');
    expect(doc.blocks[0]?.data).toEqual({ style: 'unordered', items: ['a', 'a1', 'b'] });
  });

  it('maps a real Gmail reply', () => {
    const html = sanitizeMailHtml(fixture('gmail-reply.html'), { cidUrls: new Map([['ii_lr7x2k1c0', '/att/2']]) });
    const types = htmlToEditorJs(html).blocks.map((b) => b.type);
    expect(types).toEqual([
      'paragraph', 'paragraph', 'paragraph', 'paragraph', 'list', 'paragraph', 'image', 'paragraph', 'paragraph',
      'paragraph', 'quote',
    ]);
  });
});

describe('htmlToEditorJs: document', () => {
  it('has deterministic 10-character ids, the given time and the targeted version', () => {
    const html = fixture('newsletter.html');
    const a = htmlToEditorJs(sanitizeMailHtml(html), { time: 1_700_000_000_000 });
    const b = htmlToEditorJs(sanitizeMailHtml(html), { time: 1_700_000_000_000 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.time).toBe(1_700_000_000_000);
    expect(a.version).toBe(EDITORJS_VERSION);
    for (const block of a.blocks) expect(block.id).toMatch(/^[A-Za-z0-9_-]{10}$/);
    expect(new Set(a.blocks.map((x) => x.id)).size).toBe(a.blocks.length);
  });

  it('gives equal blocks at different positions different ids', () => {
    const doc = htmlToEditorJs('<p>same</p><p>same</p>');
    expect(doc.blocks).toHaveLength(2);
    expect(doc.blocks[0]?.id).not.toBe(doc.blocks[1]?.id);
  });

  it('caps the number of blocks', () => {
    const doc = htmlToEditorJs('<p>x</p>'.repeat(2000), { maxBlocks: 50 });
    expect(doc.blocks).toHaveLength(50);
    expect(htmlToEditorJs('<p>x</p>'.repeat(2000)).blocks).toHaveLength(500);
  });

  it('handles 1,000-level nesting and 10,000 links quickly', () => {
    const nested = '<div>'.repeat(1000) + '<b>deep</b>' + '</div>'.repeat(1000);
    const links = '<p>' + '<a href="https://x.example/">l</a> '.repeat(10_000) + '</p>';
    const deep = htmlToEditorJs(nested);
    const many = htmlToEditorJs(links);
    expect(deep.blocks.map((b) => b.data)).toEqual([{ text: 'deep' }]);
    expect(String(many.blocks[0]?.data.text).match(/<a /g)).toHaveLength(10_000);
  });
});
