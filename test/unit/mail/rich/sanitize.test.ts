import fs from 'node:fs';
import path from 'node:path';
import { parseDocument, DomUtils } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { sanitizeMailHtml } from '../../../../src/mail/rich/sanitize.js';
import { inertProblems } from './inert.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/rich');
const vectors = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'xss-vectors.json'), 'utf8')) as {
  name: string;
  html: string;
}[];
const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

const CID_URL = '/api/acme/v1/attachments/17/download';
const cidUrls = new Map([['logo', CID_URL]]);

function imgs(html: string): Record<string, string>[] {
  return DomUtils.getElementsByTagName('img', parseDocument(html).children).map((el) => el.attribs);
}

describe('sanitizeMailHtml: XSS vectors', () => {
  it('has a substantial vector set', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(40);
  });

  for (const { name, html } of vectors) {
    it(`is inert: ${name}`, () => {
      for (const allowRemoteImages of [false, true]) {
        const out = sanitizeMailHtml(html, { cidUrls, allowRemoteImages });
        expect(inertProblems(out, { cidTargets: new Set([CID_URL]), allowRemoteImages }), out).toEqual([]);
        // Sanitizing again changes nothing: the output means the same to the parser as it says.
        expect(sanitizeMailHtml(out, { cidUrls, allowRemoteImages })).toBe(out);
      }
    });
  }

  it('keeps the harmless parts of hostile markup', () => {
    expect(sanitizeMailHtml('<p>before</p><script>alert(1)')).toBe('<p>before</p>');
    expect(sanitizeMailHtml('<a href="http://ok.example/" onclick="alert(1)">ok</a>')).toBe(
      '<a href="http://ok.example/" rel="noopener noreferrer nofollow" target="_blank">ok</a>',
    );
    expect(sanitizeMailHtml('<div style="color:red;background-image:url(\'https://evil.example/t.png\')">x</div>')).toBe(
      '<div style="color:red">x</div>',
    );
    expect(sanitizeMailHtml('<a href="jav&#x09;ascript:alert(1)">x</a>')).toBe('<a>x</a>');
  });
});

describe('sanitizeMailHtml: images', () => {
  it('maps cid: sources case-insensitively, with or without angle brackets in the map', () => {
    const map = new Map([['<Image001.PNG@01DA4F2C.8E5B7A10>', '/att/1']]);
    const out = sanitizeMailHtml('<img src="cid:image001.png@01da4f2c.8e5b7a10" alt="Logo">', { cidUrls: map });
    expect(imgs(out)).toEqual([{ alt: 'Logo', src: '/att/1' }]);
  });

  it('keeps an unknown cid in data-cid without a src', () => {
    const out = sanitizeMailHtml('<img src="cid:missing%40x">');
    expect(imgs(out)).toEqual([{ 'data-cid': 'missing@x' }]);
  });

  it('parks remote images in data-remote-src by default', () => {
    const out = sanitizeMailHtml('<img src="https://tracker.example/open.gif?u=1&amp;m=2" width="1" height="1">');
    expect(imgs(out)).toEqual([{ width: '1', height: '1', 'data-remote-src': 'https://tracker.example/open.gif?u=1&m=2' }]);
    const relative = sanitizeMailHtml('<img src="//cdn.example/x.png">');
    expect(imgs(relative)).toEqual([{ 'data-remote-src': 'https://cdn.example/x.png' }]);
  });

  it('loads remote images only when allowed, without a referrer', () => {
    const out = sanitizeMailHtml('<img src="http://cdn.example/x.png">', { allowRemoteImages: true });
    expect(imgs(out)).toEqual([{ src: 'http://cdn.example/x.png', referrerpolicy: 'no-referrer', loading: 'lazy' }]);
  });

  it('keeps data: images of raster types only', () => {
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    expect(imgs(sanitizeMailHtml(`<img src="${png}">`))).toEqual([{ src: png }]);
    expect(sanitizeMailHtml('<p>a</p><img src="data:image/svg+xml;base64,PHN2Zz4=">')).toBe('<p>a</p>');
  });
});

describe('sanitizeMailHtml: content kept', () => {
  it('keeps formatting, lists, tables, quotes and code', () => {
    const html =
      '<h2>T</h2><p><b>b</b> <i>i</i> <u>u</u></p><ul><li>a</li></ul><ol start="3"><li>b</li></ol>' +
      '<table border="1"><tr><th>h</th></tr><tr><td colspan="2">c</td></tr></table>' +
      '<blockquote><p>q</p></blockquote><pre><code>x &lt; y</code></pre><hr>';
    expect(sanitizeMailHtml(html)).toBe(
      '<h2>T</h2><p><b>b</b> <i>i</i> <u>u</u></p><ul><li>a</li></ul><ol start="3"><li>b</li></ol>' +
        '<table border="1"><tr><th>h</th></tr><tr><td colspan="2">c</td></tr></table>' +
        '<blockquote><p>q</p></blockquote><pre><code>x &lt; y</code></pre><hr />',
    );
  });

  it('drops classes and ids, keeps safe inline styles', () => {
    const out = sanitizeMailHtml(
      '<p class="MsoNormal" id="x" style="margin:0cm;font-size:11.0pt;font-family:&quot;Calibri&quot;,sans-serif;position:fixed;margin-left:-9999px">t</p>',
    );
    expect(out).toBe('<p style="margin:0cm;font-size:11.0pt;font-family:&quot;Calibri&quot;,sans-serif">t</p>');
  });

  it('cleans a real Outlook reply: no head, no conditional comments, cid logo mapped', () => {
    const out = sanitizeMailHtml(fixture('outlook-reply.html'), {
      cidUrls: new Map([['image001.png@01DA4F2C.8E5B7A10', '/att/logo']]),
    });
    expect(inertProblems(out, { cidTargets: new Set(['/att/logo']) })).toEqual([]);
    expect(out).toContain('die Rechnung <b>RE-2024-0113</b>');
    expect(out).not.toMatch(/Font Definitions|MsoNormal|shapedefaults|Generator/);
    expect(imgs(out)[0]?.src).toBe('/att/logo');
  });

  it('blocks every remote image of a newsletter and keeps its links', () => {
    const out = sanitizeMailHtml(fixture('newsletter.html'));
    expect(inertProblems(out)).toEqual([]);
    expect(imgs(out).map((a) => a['data-remote-src'])).toEqual([
      'https://cdn.vendor.example/logo.png',
      'https://news.vendor.example/open/42.gif',
    ]);
    expect(out).not.toContain('Product update');
    expect(out.match(/rel="noopener noreferrer nofollow" target="_blank"/g)).toHaveLength(3);
  });
});

describe('sanitizeMailHtml: hidden content', () => {
  // `display` is not an allowed style: kept, a preheader would show at the top of the mail.
  it('leaves out what the sender hid, with its content', () => {
    expect(sanitizeMailHtml('<div style="display:none;max-height:0">Preheader text</div><p>Body</p>')).toBe('<p>Body</p>');
    expect(sanitizeMailHtml('<p>a<span hidden>b</span>c</p>')).toBe('<p>ac</p>');
    expect(sanitizeMailHtml('<p style="COLOR:red; Display : None !important;">x</p><p style="display:block">y</p>')).toBe('<p>y</p>');
    expect(sanitizeMailHtml('<div hidden><div hidden>a</div>b</div>c')).toBe('c');
    expect(sanitizeMailHtml('a<img hidden src="cid:logo">b')).toBe('ab');
  });

  it('cuts an element closed by the next tag only up to that tag', () => {
    expect(sanitizeMailHtml('<p hidden>pre<p>body')).toBe('<p>body</p>');
    expect(sanitizeMailHtml('<ul><li style="display:none">x<li>y</ul>')).toBe('<ul><li>y</li></ul>');
    expect(sanitizeMailHtml('<div><span hidden>x</div>after')).toBe('<div></div>after');
    expect(sanitizeMailHtml('x<div hidden>to the end')).toBe('x');
  });

  it('keeps everything when a tag is cut off at the end of the input', () => {
    expect(sanitizeMailHtml('<html><head><body>Text.<br><a href="http://x.example/')).toBe('Text.<br />');
  });

  it('is idempotent on mail with a preheader', () => {
    const out = sanitizeMailHtml(fixture('newsletter.html').replace(/<body[^>]*>/, '$&<div style="display:none">Preheader</div>'));
    expect(out).not.toContain('Preheader');
    expect(sanitizeMailHtml(out)).toBe(out);
  });
});

describe('sanitizeMailHtml: bounds', () => {
  it('truncates input beyond maxInputChars without leaving half a tag', () => {
    const out = sanitizeMailHtml('<p>' + 'a'.repeat(100) + '</p><img src="https://x.example/a.png">', { maxInputChars: 110 });
    expect(out).toBe('<p>' + 'a'.repeat(100) + '</p>');
  });

  it('handles 1,000 nested divs quickly and caps the depth', () => {
    const html = '<div>'.repeat(1000) + 'deep text' + '</div>'.repeat(1000);
    const out = sanitizeMailHtml(html);
    expect(out).toContain('deep text');
    expect(out.match(/<div>/g)?.length).toBe(100);
  });

  it('handles 10,000 links quickly', () => {
    const html = '<p>' + '<a href="https://x.example/p?i=1" onclick="steal()">link</a> '.repeat(10_000) + '</p>';
    const out = sanitizeMailHtml(html);
    expect(out.match(/rel="noopener noreferrer nofollow"/g)).toHaveLength(10_000);
    expect(out).not.toContain('onclick');
  });

  it('stays linear on deep unmatched nesting (quadratic in a naive parser)', () => {
    const html = '<b>'.repeat(200_000) + '</i>'.repeat(200_000) + '<p>tail</p>';
    const out = sanitizeMailHtml(html);
    expect(out).toContain('tail');
    expect(inertProblems(out)).toEqual([]);
  });

  it('cuts a hidden element through its end tag, however that tag is spaced', () => {
    for (const end of ['</div >', '</div\r\n>', '</div foo="bar">']) {
      expect(sanitizeMailHtml(`<div style="display:none">preheader${end}<p>Hello</p>`), end).toBe('<p>Hello</p>');
    }
  });

  it('drops 30,000 hidden blocks between visible ones quickly (linear, not one output copy each)', () => {
    const html = '<p>shown</p><div style="display:none">hidden</div>'.repeat(30_000);
    const out = sanitizeMailHtml(html);
    expect(out).toBe('<p>shown</p>'.repeat(30_000));
  });

  it('drops oversized attribute values', () => {
    const out = sanitizeMailHtml(`<p title="${'x'.repeat(5000)}" style="color:red">t</p>`);
    expect(out).toBe('<p style="color:red">t</p>');
  });
});

describe('inertProblems (the test oracle) catches what it must', () => {
  it.each([
    ['<img src=x onerror=alert(1)>', 'event handler'],
    ['<script>alert(1)</script>', 'dangerous markup'],
    ['<a href="javascript:alert(1)" rel="noopener noreferrer nofollow" target="_blank">x</a>', 'href'],
    ['<a href="https://x.example/">x</a>', 'link without rel/target'],
    ['<img src="https://t.example/p.gif">', 'src'],
    ['<p style="background:url(x)">x</p>', 'style'],
    ['<p class="x">x</p>', 'attribute class'],
    ['<marquee>x</marquee>', 'element <marquee>'],
    ['<!-- x -->', 'comment'],
  ])('flags %s', (html, problem) => {
    expect(inertProblems(html).join('\n')).toContain(problem);
  });
});
