import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRichText } from '../../../../src/mail/rich/rich.js';
import { countWords, plainPreview, readMinutes } from '../../../../src/mail/rich/preview.js';
import { inertProblems } from './inert.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/rich');
const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

describe('plainPreview', () => {
  it('returns short text with whitespace collapsed', () => {
    expect(plainPreview('  Hello\n\n  world\t!  ')).toBe('Hello world !');
  });

  it('cuts long text at a word boundary with an ellipsis', () => {
    const text = 'word '.repeat(100);
    const preview = plainPreview(text);
    expect(preview.endsWith('word…')).toBe(true);
    expect([...preview].length).toBeLessThanOrEqual(201);
    expect(preview.slice(0, -1)).toBe('word '.repeat(40).trim());
  });

  it('cuts a single long word hard, never splitting a surrogate pair', () => {
    const preview = plainPreview('😀'.repeat(300));
    expect(preview).toBe('😀'.repeat(200) + '…');
  });

  it('does not end on dangling punctuation', () => {
    expect(plainPreview('a'.repeat(150) + ', ' + 'b'.repeat(100))).toBe('a'.repeat(150) + '…');
  });
});

describe('readMinutes', () => {
  it('is 0 without text, at least 1 with any', () => {
    expect(readMinutes('')).toBe(0);
    expect(readMinutes(' \n ')).toBe(0);
    expect(readMinutes('?')).toBe(1);
    expect(readMinutes('hi')).toBe(1);
  });

  it('is ceil(words / 200)', () => {
    expect(readMinutes('w '.repeat(200))).toBe(1);
    expect(readMinutes('w '.repeat(201))).toBe(2);
    expect(readMinutes('w '.repeat(1000))).toBe(5);
  });

  it('counts words in scripts without spaces', () => {
    expect(countWords("It's a test, isn't it? Ünïcödé wörds")).toBe(7);
    expect(countWords('日本語のテキスト')).toBe(4);
  });
});

describe('buildRichText', () => {
  it('uses the sanitized HTML when the mail has HTML', () => {
    const rich = buildRichText({
      html: fixture('outlook-reply.html'),
      text: 'Hallo Support-Team,',
      extracted: 'Hallo Support-Team,\n\ndie Rechnung RE-2024-0113 ist leider noch nicht angekommen.',
      cidUrls: new Map([['image001.png@01DA4F2C.8E5B7A10', '/att/logo']]),
      time: 1_704_795_120_000,
    });
    expect(inertProblems(rich.html, { cidTargets: new Set(['/att/logo']) })).toEqual([]);
    expect(rich.html).toContain('src="/att/logo"');
    expect(rich.plain_preview).toBe('Hallo Support-Team, die Rechnung RE-2024-0113 ist leider noch nicht angekommen.');
    expect(rich.read_minutes).toBe(1);
    expect(rich.editorjs.time).toBe(1_704_795_120_000);
    expect(rich.editorjs.blocks.some((b) => b.type === 'image')).toBe(true);
  });

  it('builds HTML and blocks from the text of a text-only mail', () => {
    const text = fixture('plain-reply.txt');
    const rich = buildRichText({ html: null, text, extracted: text.split('\r\n\r\n> ')[0] ?? '' });
    expect(inertProblems(rich.html)).toEqual([]);
    expect(rich.html.startsWith('<p>Hello,</p>')).toBe(true);
    expect(rich.editorjs.blocks[0]?.data).toEqual({ text: 'Hello,' });
    expect(rich.plain_preview.startsWith('Hello, the VPN drops every 10 minutes')).toBe(true);
  });

  it('falls back to the text when the HTML shows nothing', () => {
    const rich = buildRichText({ html: '<div><script>x</script></div>', text: 'real text', extracted: 'real text' });
    expect(rich.html).toBe('<p>real text</p>');
    expect(rich.editorjs.blocks.map((b) => b.data)).toEqual([{ text: 'real text' }]);
  });

  it('is empty for an empty mail', () => {
    const rich = buildRichText({ html: null, text: null, extracted: '' });
    expect(rich).toEqual({
      plain_preview: '',
      html: '',
      editorjs: { time: 0, version: rich.editorjs.version, blocks: [] },
      read_minutes: 0,
    });
  });

  it('is deterministic', () => {
    const input = { html: fixture('newsletter.html'), text: null, extracted: 'What is new in March', time: 1 };
    expect(JSON.stringify(buildRichText(input))).toBe(JSON.stringify(buildRichText(input)));
  });
});
