// The byte-level helpers under parseMail: header decoding, line endings,
// message ids, uuencode.

import { describe, expect, it } from 'vitest';
import {
  decodeHeaderBytes,
  decodeUtf7,
  decodeWords,
  extractMessageIds,
  messageStart,
  normaliseLineEndings,
  readHeaderBlock,
} from '../../../../src/mail/headers.js';
import { extractUuencoded } from '../../../../src/mail/parse.js';

describe('decodeWords', () => {
  it.each([
    ['=?UTF-8?Q?Ren=C3=A9?= Dupont', 'René Dupont'],
    ['=?utf8?B?SsO2cmc=?=', 'Jörg'],
    ['=?iso-8859-1?q?J=F6rg?=  =?iso-8859-1?q?_M=FCller?=', 'Jörg Müller'],
    ['=?UTF-8?Q?=E2=82?= =?UTF-8?Q?=AC?=', '€'],
    ['=?unknown-8bit?Q?S=F8ren?=', 'Søren'],
    ['=?x-unknown?B?w6U=?=', 'å'],
    ['=?utf-7?Q?M+APw-ller?=', 'Müller'],
    ['plain =?bogus text', 'plain =?bogus text'],
    ['a =?UTF-8?Q?b?= c', 'a b c'],
  ])('%j -> %j', (input, expected) => {
    expect(decodeWords(input)).toBe(expected);
  });

  it('is linear on a long run of broken words', () => {
    const started = Date.now();
    decodeWords('=?'.repeat(200_000) + '=?utf-8?Q?x?=');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('header bytes', () => {
  it('decodes UTF-8 when valid, else windows-1252', () => {
    expect(decodeHeaderBytes(Buffer.from('Jörg', 'utf8'))).toBe('Jörg');
    expect(decodeHeaderBytes(Buffer.from([0x4a, 0xf6, 0x72, 0x67]))).toBe('Jörg');
    expect(decodeHeaderBytes(Buffer.from([0x80]))).toBe('€');
  });

  it('decodes UTF-7', () => {
    expect(decodeUtf7('Hi Mom -+Jjo--!')).toBe('Hi Mom -\u263a-!');
    expect(decodeUtf7('1 +- 1')).toBe('1 + 1');
  });

  it('unfolds header lines and stops at the blank line', () => {
    const raw = Buffer.from('Subject: a\r\n  folded\r\nX-Empty:\r\nnot a header line\r\nTo: b@c.d\r\n\r\nBody: no\r\n');
    const block = readHeaderBlock(raw, 0, 1000);
    expect(block.fields.map(({ name, value }) => ({ name, value }))).toEqual([
      { name: 'subject', value: 'a  folded' },
      { name: 'x-empty', value: '' },
      { name: 'to', value: 'b@c.d' },
    ]);
    expect(block.fields[0]?.raw.toString('latin1')).toBe(' a  folded');
    expect(block.junkLines).toBe(1);
    expect(raw.subarray(block.bodyOffset).toString()).toBe('Body: no\r\n');
  });

  it('reports a header block longer than the limit', () => {
    const raw = Buffer.from(`${'X-A: b\r\n'.repeat(1000)}\r\nbody`);
    expect(readHeaderBlock(raw, 0, 500).truncated).toBe(true);
    expect(readHeaderBlock(raw, 0, 100_000).truncated).toBe(false);
  });

  it('converts CR-only line endings and leaves others alone', () => {
    expect(normaliseLineEndings(Buffer.from('a\rb\r\rc')).toString()).toBe('a\r\nb\r\n\r\nc');
    const lf = Buffer.from('a\nb\r\n');
    expect(normaliseLineEndings(lf)).toBe(lf);
  });

  it('skips a BOM, leading blank space and an mbox postmark', () => {
    const raw = Buffer.from('\ufeff\r\n From MAILER-DAEMON Mon Jan  1 00:00:00 2024\nFrom: a@b.c\n');
    expect(raw.subarray(messageStart(raw)).toString()).toBe('From: a@b.c\n');
  });
});

describe('extractMessageIds', () => {
  it('strips brackets, de-duplicates, accepts bare ids', () => {
    expect(extractMessageIds(['<a@x> <b@x>\r\n <a@x>', 'c@x', '<b@x>'], 1000)).toEqual(['a@x', 'b@x', 'c@x']);
    expect(extractMessageIds(['no id here'], 1000)).toEqual([]);
  });
});

describe('extractUuencoded', () => {
  it('leaves text without a valid block alone', () => {
    const text = 'We begin 644 tests tomorrow.\nbegin 644 notes.txt\nthis is not uuencode at all, just prose\nend\n';
    expect(extractUuencoded(text, { maxBlocks: 5 })).toEqual({ text, files: [] });
  });

  it('decodes lines whose trailing spaces were stripped', () => {
    // "abc" + three zero bytes: the last encoded characters are spaces, which some mailers strip.
    const text = 'begin 600 z.bin\n&86)C\nend\n';
    const out = extractUuencoded(text, { maxBlocks: 5 });
    expect(out.files[0]?.content).toEqual(Buffer.from([0x61, 0x62, 0x63, 0, 0, 0]));
  });
});
