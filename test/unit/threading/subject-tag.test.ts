// The subject tag (`[#123]`, configurable) and reply-prefix stripping in the
// languages mail clients actually write them in.

import { describe, expect, it } from 'vitest';
import { isMailroomError } from '../../../src/errors.js';
import { compileSubjectTag, findSubjectTag, formatSubjectTag, stripReplyPrefixes } from '../../../src/threading/subject-tag.js';

describe('formatSubjectTag', () => {
  it('writes [#n] by default and follows a configured template', () => {
    expect(formatSubjectTag(123)).toBe('[#123]');
    expect(formatSubjectTag(7, compileSubjectTag('[Ticket#<n>]'))).toBe('[Ticket#7]');
    expect(formatSubjectTag(Number.MAX_SAFE_INTEGER)).toBe(`[#${Number.MAX_SAFE_INTEGER}]`);
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 53])('refuses %s', (n) => {
    let caught: unknown;
    try {
      formatSubjectTag(n);
    } catch (err) {
      caught = err;
    }
    expect(isMailroomError(caught, 'VALIDATION')).toBe(true);
  });

  it.each(['[#]', '[#<n>]<n>', '<n>]', '[#1<n>]', '[#<n>2]', '[#\n<n>]', `${'x'.repeat(33)}<n>`])('rejects the template %j', (t) => {
    let caught: unknown;
    try {
      compileSubjectTag(t);
    } catch (err) {
      caught = err;
    }
    expect(isMailroomError(caught, 'CONFIG_INVALID')).toBe(true);
  });

  it('round-trips through findSubjectTag for default and custom formats', () => {
    for (const template of ['[#<n>]', '[Ticket#<n>]', '{case <n>}', '#<n>', '(ref. <n>)']) {
      const format = compileSubjectTag(template);
      for (const n of [1, 42, 9_999_999, Number.MAX_SAFE_INTEGER]) {
        expect(findSubjectTag(`Re: ${formatSubjectTag(n, format)} Printer on fire`, { format })).toBe(n);
      }
    }
  });
});

describe('findSubjectTag', () => {
  it.each([
    ['[#123] Printer on fire', 123],
    ['Re: [#123] Printer on fire', 123],
    ['RE: AW: Fwd: [#123] Printer on fire', 123],
    ['AW:[#45] Rechnung', 45],
    ['Printer on fire [#9]', 9],
    ['Printer on fire ([#9])', 9],
    ['回复：[#88] 打印机坏了', 88],
    ['打印机坏了[#88]', 88],
    ['Re: [ticket #5] [#6] x', 6],
    ['[#12] and [#34]', 12],
    ['[#0] then [#3]', 3],
    ['[#99999999999999999999] then [#4]', 4],
    ['foo[#1] then [#2]', 2],
  ])('%j → %s', (subject, n) => {
    expect(findSubjectTag(subject)).toBe(n);
  });

  it.each([
    '',
    'Printer on fire',
    '[#0]',
    '[#-1]',
    '[#+1]',
    '[#007] leading zeros are never written by Mailroom',
    '[#99999999999999999999]',
    `[#${Number.MAX_SAFE_INTEGER + 2}]`,
    '[#9007199254740993]',
    '[#1.5]',
    '[# 12]',
    '[#12',
    '#12',
    'foo[#12]',
    '[#12]bar',
    'array_[#12]',
    'é[#12]',
    '[#١٢]',
    '[#１２]',
  ])('no tag in %j', (subject) => {
    expect(findSubjectTag(subject)).toBeNull();
  });

  it('is case-insensitive on the template text', () => {
    const format = compileSubjectTag('[Ticket#<n>]');
    expect(findSubjectTag('Re: [TICKET#77] x', { format })).toBe(77);
    expect(findSubjectTag('Re: [#77] x', { format })).toBeNull();
  });

  it('only reads the first maxChars characters', () => {
    const subject = `${'x '.repeat(1500)}[#5]`;
    expect(findSubjectTag(subject)).toBeNull();
    expect(findSubjectTag(subject, { maxChars: 5000 })).toBe(5);
  });

  it('stays fast on hostile subjects', () => {
    const hostile = ['[#'.repeat(500_000), '[#1'.repeat(300_000), `[#${'9'.repeat(1_000_000)}`, '[#1111111111111111'.repeat(50_000)];
    for (const s of hostile) {
      expect(findSubjectTag(s, { maxChars: s.length })).toBeNull();
    }
  });

  it('is safe to call concurrently with one shared format (no lastIndex leak)', () => {
    const format = compileSubjectTag('[#<n>]');
    expect(findSubjectTag('[#1] [#2]', { format })).toBe(1);
    expect(findSubjectTag('[#1] [#2]', { format })).toBe(1);
  });
});

describe('stripReplyPrefixes', () => {
  it.each([
    ['Re: Printer on fire', 'Printer on fire'],
    ['RE: RE: re: Printer on fire', 'Printer on fire'],
    ['Re:Printer', 'Printer'],
    ['Re : Imprimante en feu', 'Imprimante en feu'],
    ['TR: Imprimante en feu', 'Imprimante en feu'],
    ['AW: WG: Aw: Drucker brennt', 'Drucker brennt'],
    ['Fwd: Fw: FW: forwarded', 'forwarded'],
    ['SV: VS: Skrivaren brinner', 'Skrivaren brinner'],
    ['Antw: Printer brandt', 'Printer brandt'],
    ['R: I: Rif: La stampante', 'I: Rif: La stampante'],
    ['R: Rif: La stampante', 'La stampante'],
    ['RV: RE: La impresora', 'La impresora'],
    ['ENC: RES: A impressora', 'A impressora'],
    ['Odp: PD: Drukarka', 'Drukarka'],
    ['Re[2]: Re(3): Re^4: counted', 'counted'],
    ['回复：转发: 打印机坏了', '打印机坏了'],
    ['答复: 回覆： 打印機', '打印機'],
    ['返信: 転送: プリンター', 'プリンター'],
    ['회신: 전달: 프린터', '프린터'],
    ['ΑΠ: ΣΧΕΤ: Εκτυπωτής', 'Εκτυπωτής'],
    ['Ответ: принтер', 'принтер'],
    ['YNT: Yazıcı', 'Yazıcı'],
    ['Re: [#12] Re: Printer', '[#12] Re: Printer'],
    ['  Re:   spaced out  ', 'spaced out'],
    ['Re:', ''],
    ['[Fwd: Map of Argentina]', 'Map of Argentina'],
    ['[Fwd: [Fwd: [Fwd: FW: Another Priceless Moment]]]', 'Another Priceless Moment'],
    ['Re: [Fwd: Re: Netz]', 'Netz'],
    ['[Fwd: a] and [b]', '[Fwd: a] and [b]'],
    ['[Fwd: unclosed', '[Fwd: unclosed'],
  ])('%j → %j', (subject, display) => {
    expect(stripReplyPrefixes(subject)).toBe(display);
  });

  it.each(['Research: results', 'Rewards program', 'Regarding your order', 'Review: Q3', 'Travel plans', 'Svensson: invoice', 'Printer on fire', '[#12] Printer', '[list] Re: x', 'NOTICE: mail delivery status.'])(
    'leaves %j alone',
    (subject) => {
      expect(stripReplyPrefixes(subject)).toBe(subject);
    },
  );

  it('stays bounded on a subject made only of prefixes', () => {
    const s = 'Re: '.repeat(200_000);
    const out = stripReplyPrefixes(s);
    expect(out.startsWith('Re:')).toBe(true); // stops after its iteration cap
    expect(out.length).toBeLessThan(s.length);
  });
});
