// Hostile input: every case must finish, quickly, with bounded output. The
// 2 s bound is deliberately generous (shared CI machines); the measured times
// are printed so a slowdown is visible long before it fails.
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../../../src/mail/reply/extract.js';
import type { ReplyLimits } from '../../../../src/mail/reply/extract.js';
import { hasAddress, hasClockTime, isAttribution, isBareAttribution, isClientAttribution } from '../../../../src/mail/reply/classify.js';
import { MOBILE_SIGNATURES } from '../../../../src/mail/reply/patterns.js';

/** Limits raised so that the algorithms, not the input caps, face the whole input. */
const UNCAPPED: Partial<ReplyLimits> = { maxInputChars: 50_000_000, maxHtmlChars: 50_000_000, maxLines: 1_000_000 };

function timed(name: string, run: () => string): string {
  const start = performance.now();
  const out = run();
  const ms = performance.now() - start;
  console.log(`reply bounds: ${name}: ${ms.toFixed(0)} ms, ${out.length} chars out`);
  return out;
}

describe('bounded work on hostile mail', () => {
  const deepQuotes = Array.from({ length: 100_000 }, (_, i) => '>'.repeat(1 + (i % 200)) + ' quoted').join('\n');

  it('100,000 lines of >>>> (default caps)', () => {
    const out = timed('100k quote lines', () => extractReply({ text: `Reply on top.\n${deepQuotes}`, html: null }));
    expect(out).toBe('Reply on top.');
  });

  it('100,000 lines of >>>> (caps raised)', () => {
    const out = timed('100k quote lines, uncapped', () => extractReply({ text: `Reply on top.\n${deepQuotes}`, html: null }, UNCAPPED));
    expect(out).toBe('Reply on top.');
  });

  it('100,000 lines of >>>> only: returned whole but within the input cap', () => {
    const out = timed('100k quote lines, no reply', () => extractReply({ text: deepQuotes, html: null }));
    expect(out.length).toBeLessThanOrEqual(200_000);
    expect(out.startsWith('> quoted')).toBe(true);
  });

  const spaced = 'word '.repeat(200_000) + 'end';
  it('a 1 MB single line of spaces and letters', () => {
    const out = timed('1 MB line', () => extractReply({ text: spaced, html: null }, UNCAPPED));
    expect(out).toBe(spaced);
    timed('1 MB line, default caps', () => extractReply({ text: spaced, html: null }));
  });

  it('1 MB lines built to provoke the attribution and header patterns', () => {
    const lines = [
      'On ' + '1 '.repeat(500_000) + ' wrote',
      'From:' + ' '.repeat(1_000_000) + 'x',
      '2016-03-03 ' + '<a@b.c> '.repeat(120_000),
      '-'.repeat(1_000_000) + ' Original Message',
      '*'.repeat(1_000_000),
      'Sent from my ' + 'x'.repeat(1_000_000),
    ];
    for (const [i, line] of lines.entries()) {
      const out = timed(`hostile line ${i}`, () => extractReply({ text: `Hello.\n${line}\nBye.`, html: null }, UNCAPPED));
      expect(out.startsWith('Hello.')).toBe(true);
    }
  });

  /** `token` repeated to 100,000 characters. */
  const hundredK = (token: string): string => token.repeat(Math.ceil(100_000 / token.length));

  it('100k-char lines of repeated tokens aimed at the footer, attribution and header rules', () => {
    const lines = [
      'Sent from my ' + hundredK('iPhone '),
      'Von meinem ' + hundredK('Galaxy s5 ') + 'gesendet',
      'On 3 June 2024 ' + hundredK('I wrote ') + ':',
      hundredK('Anna wrote ') + ':\n> quoted',
      hundredK('12.06.') + '\n' + hundredK('10:3'),
      'From: ' + hundredK('a@b.c ') + '\nSent: ' + hundredK('10:30 ') + '\nTo: ' + hundredK('x') + '\nSubject: y\n\nold',
      hundredK('--\n\n'),
      hundredK('--\nName\n'),
      hundredK('From: x\nTo: y\nDate: z\n'),
    ];
    for (const [i, line] of lines.entries()) {
      const out = timed(`100k token line ${i}`, () => extractReply({ text: `Hello.\n${line}\nBye.`, html: null }, UNCAPPED));
      expect(out.startsWith('Hello.')).toBe(true);
    }
  });

  it('the footer patterns and the attribution tests themselves stay linear on 100k-char input', () => {
    // Called directly: the callers' length caps would otherwise hide a slow pattern.
    const tokens = ['iphone ', 'sent from my ', 'a', '1', '12:3', '1.', '@', 'x@', "iphone'a ", ' ', 'から送信', '我的 ', 'on ', 'wrote '];
    for (const token of tokens) {
      const s = hundredK(token) + '!';
      timed(`patterns on ${JSON.stringify(token)}`, () => {
        for (const re of MOBILE_SIGNATURES) re.test(s);
        for (const re of MOBILE_SIGNATURES) re.test(`sent from my ${s}`);
        return [hasAddress(s), hasClockTime(s), isClientAttribution(s), isAttribution(s), isBareAttribution(s)].join();
      });
    }
  });

  it('many wrapped-attribution candidates in a row', () => {
    const text = 'Hi\n' + 'On 1 May 2024 at 10:00 someone\n'.repeat(50_000);
    const out = timed('50k attribution starts', () => extractReply({ text, html: null }, UNCAPPED));
    expect(out.startsWith('Hi')).toBe(true);
  });

  it('1,000-level nested <div>', () => {
    const html = '<p>Reply text.</p>' + '<div>'.repeat(1_000) + 'deep words' + '</div>'.repeat(1_000);
    const out = timed('1000 nested div', () => extractReply({ text: null, html }));
    expect(out).toContain('Reply text.');
    expect(out).toContain('deep words');
  });

  it('1,000-level nested <blockquote>', () => {
    const html = '<p>Reply text.</p>' + '<blockquote>'.repeat(1_000) + 'old' + '</blockquote>'.repeat(1_000);
    const out = timed('1000 nested blockquote', () => extractReply({ text: null, html }));
    expect(out).toBe('Reply text.');
  });

  it('100,000-level nested <div> and <blockquote> with raised caps', () => {
    const html = '<p>Reply.</p>' + '<div><blockquote>'.repeat(50_000) + 'x' + '</blockquote></div>'.repeat(50_000);
    const out = timed('100k nested', () => extractReply({ text: null, html }, { ...UNCAPPED, maxHtmlDepth: 100_000 }));
    expect(out).toBe('Reply.');
  });

  it('100,000 sibling elements and unclosed tags', () => {
    const html = '<div>Reply.</div>' + '<span>a</span><b>'.repeat(100_000);
    const out = timed('100k siblings', () => extractReply({ text: null, html }, UNCAPPED));
    expect(out.startsWith('Reply.')).toBe(true);
  });

  it('caps the input and never returns more than the cap', () => {
    const text = 'line of text\n'.repeat(100_000);
    const out = timed('1.3 MB text, cap 10k', () => extractReply({ text, html: null }, { maxInputChars: 10_000 }));
    expect(out.length).toBeLessThanOrEqual(10_000);
    expect(out.startsWith('line of text')).toBe(true);
  });
});
