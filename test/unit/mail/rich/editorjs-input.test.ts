// Client-written Editor.js documents are checked as a whole (ids, types, data
// keys, version, every URL whatever its key) by one rule, which the builder's
// own output passes too; and text derived from mail HTML carries no URL the
// sanitizer removed.
import { describe, expect, it } from 'vitest';
import { editorJsProblems, sanitizeEditorJs, type EditorJsShape } from '../../../../src/mail/rich/editorjs-input.js';
import { htmlToEditorJs, plainPreview, sanitizeMailHtml } from '../../../../src/mail/rich/index.js';
import { extractReply } from '../../../../src/mail/reply/extract.js';
import { scriptUrlProblem, urlValueProblem } from '../../../../src/mail/rich/url.js';

/** Hostile spellings of javascript:, as a browser (or an HTML-string renderer) would still run them. */
const SCRIPT_URLS = [
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'java\tscript:alert(1)',
  'java\nscript:alert(1)',
  'java\u0000script:alert(1)',
  '   javascript:alert(1)',
  '\u0001\u0002javascript:alert(1)',
  '&#106;avascript:alert(1)',
  '&#x6A;&#x61;vascript:alert(1)',
  'javascript&colon;alert(1)',
  'java&Tab;script:alert(1)',
  'jav&#x09;ascript:alert(1)',
  `${'&#32;'.repeat(5000)}&#106;avascript:alert(1)`,
  `${' '.repeat(5000)}j${'\t'.repeat(5000)}avascript:alert(1)`,
  'javascript:alert("x")&amp;',
  'vbscript:msgbox(1)',
  'VBScript:msgbox(1)',
  'data:text/html,<script>alert(1)</script>',
  'DATA:text/html;base64,PHNjcmlwdD4=',
  'data:image/svg+xml,<svg onload=alert(1)>',
];

const doc = (blocks: EditorJsShape['blocks'], extra: Partial<EditorJsShape> = {}): EditorJsShape => ({ ...extra, blocks });
const paths = (d: EditorJsShape) => editorJsProblems(d).map((p) => p.path.join('.'));

describe('the URL rule', () => {
  it('refuses every spelling of a script or non-image data URL', () => {
    for (const url of SCRIPT_URLS) {
      expect(urlValueProblem(url), JSON.stringify(url)).not.toBeNull();
      expect(scriptUrlProblem(url), JSON.stringify(url)).not.toBeNull();
    }
    expect(urlValueProblem('JaVaScRiPt:x')).toBe('uses the javascript: scheme; only http, https, mailto, cid and relative URLs are allowed');
    expect(urlValueProblem('data:text/html,x')).toBe('is a data: URL; only PNG, GIF, JPEG and WebP images may be data: URLs');
  });

  it('allows http(s), mailto, cid, relative and image data URLs; other schemes only under a URL key', () => {
    for (const url of ['https://example.com/a?b=1&amp;c=2', 'http://x.test', '//cdn.test/x.png', 'mailto:anna@example.com', 'cid:logo@acme.test', '/api/x/v1/attachments/1/download', 'img.png', 'data:image/png;base64,iVBORw0KGgo=', 'data:image/webp;base64,UklGRg==']) {
      expect(urlValueProblem(url), url).toBeNull();
    }
    expect(urlValueProblem('ftp://files.test/x')).toMatch(/ftp: scheme/);
    expect(urlValueProblem('file:///etc/passwd')).toMatch(/file: scheme/);
    // Under another key, words before a colon are text.
    expect(scriptUrlProblem('Note: the printer is on fire')).toBeNull();
    expect(scriptUrlProblem('ftp://files.test/x')).toBeNull();
  });
});

describe('editorJsProblems', () => {
  it('refuses unknown block types, unsafe ids, a bad version and prototype keys, naming each path', () => {
    const hostile = JSON.parse(
      '{"version":"2.31.0\\"><script>","blocks":[' +
        '{"id":"\\"><script>alert(1)</script>","type":"paragraph","data":{"text":"hi"}},' +
        '{"id":"ok_id-1","type":"raw","data":{"html":"<b>x</b>"}},' +
        '{"type":"__proto__","data":{}},' +
        '{"type":"paragraph","data":{"__proto__":{"polluted":true},"text":"x"}},' +
        '{"type":"paragraph","data":{"constructor":{"prototype":{"x":1}},"a b":"c","x\\"y":1}}' +
        ']}',
    ) as EditorJsShape;
    expect(paths(hostile)).toEqual([
      'version',
      'blocks.0.id',
      'blocks.1.type',
      'blocks.2.type',
      'blocks.3.data.__proto__',
      'blocks.4.data.constructor',
      'blocks.4.data.a b',
      'blocks.4.data.x"y',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('checks every URL-valued field, whatever its key and however deep, and script URLs under any key', () => {
    for (const url of SCRIPT_URLS) {
      const d = doc([
        { type: 'image', data: { file: { url }, caption: 'c' } },
        { type: 'linkTool', data: { link: url, meta: { image: { url } } } },
        { type: 'embed', data: { source: url, embed: url, service: 'youtube' } },
        { type: 'attaches', data: { file: { url, name: 'a.pdf' }, thumbnailSrc: url } },
        { type: 'paragraph', data: { text: 'ok', target: url, nested: { deeper: [{ href: url }] } } },
      ]);
      expect(paths(d), JSON.stringify(url)).toEqual([
        'blocks.0.data.file.url',
        'blocks.1.data.link',
        'blocks.1.data.meta.image.url',
        'blocks.2.data.source',
        'blocks.2.data.embed',
        'blocks.3.data.file.url',
        'blocks.3.data.thumbnailSrc',
        'blocks.4.data.target',
        'blocks.4.data.nested.deeper.0.href',
      ]);
    }
    // Too deep to be a block tool's data.
    let deep: Record<string, unknown> = { text: 'x' };
    for (let i = 0; i < 20; i++) deep = { a: deep };
    expect(paths(doc([{ type: 'paragraph', data: deep }]))).toEqual([`blocks.0.data${'.a'.repeat(16)}`]);
  });

  it('passes what the builder makes from hostile mail HTML, and the cleaned form of a good document', () => {
    const html = sanitizeMailHtml(
      '<h1 id="x">T</h1><p>Hi <a href="JaVaScRiPt:alert(1)">x</a> <a href="https://ok.test">ok</a></p><img src="data:image/png;base64,iVBORw0KGgo=" alt="a"><img src="cid:logo@acme.test">' +
        '<ul><li>a</li></ul><table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table><pre>code</pre><hr><blockquote>q</blockquote>',
      { cidUrls: new Map([['logo@acme.test', '/att/1']]) },
    );
    const built = htmlToEditorJs(html);
    expect(built.blocks.length).toBeGreaterThan(5);
    expect(editorJsProblems(built)).toEqual([]);
    const clean = sanitizeEditorJs(doc([{ id: 'abc', type: 'paragraph', data: { text: '<b onclick="x()">b</b><a href="java&#x09;script:alert(1)">l</a>' } }, { type: 'image', data: { file: { url: 'https://x.test/a.png' } } }]), 5, '2.31.0');
    expect(clean).toEqual({
      time: 5,
      version: '2.31.0',
      blocks: [
        { id: 'abc', type: 'paragraph', data: { text: '<b>b</b><a>l</a>' } },
        { id: 'b1', type: 'image', data: { file: { url: 'https://x.test/a.png' } } },
      ],
    });
    expect(editorJsProblems(clean)).toEqual([]);
  });
});

describe('text derived from mail HTML', () => {
  it('keeps no URL the sanitizer removed, in the extracted reply or the preview', () => {
    const html =
      '<p>Hi <a href="javascript:alert(1)">click</a> <a href="JaVa&#x09;ScRiPt:alert(2)">two</a> <a href="data:text/html,x">three</a> ' +
      '<a href="cid:x@y">four</a> <a href="https://ok.test/x">ok</a> <a href="mailto:anna@example.com">mail</a></p>';
    const extracted = extractReply({ html, text: null });
    expect(extracted).toBe('Hi click two three four ok [https://ok.test/x] mail [anna@example.com]');
    expect(plainPreview(extracted)).not.toMatch(/javascript|data:|cid:/i);
    // The sanitized HTML agrees: the same links lost their href.
    expect(sanitizeMailHtml(html)).not.toMatch(/javascript|data:|cid:/i);
  });
});
