// The ticket tag in a subject (`[#123]` by default, the ticket's number in its
// tenant) and the reply/forward prefixes mail clients put in front of a
// subject. The tag is one of the threading signals (decide.ts); a tag alone
// never proves anything, so reading it is deliberately strict: canonical
// positive safe integers only, not glued into a word, on a bounded prefix of
// the subject.

import { MailroomError } from '../errors.js';

/** A compiled tag format: the text written before and after the number. */
export interface SubjectTagFormat {
  readonly prefix: string;
  readonly suffix: string;
  /** `prefix<digits>suffix`, case-insensitive (not global: no shared lastIndex). */
  readonly pattern: RegExp;
}

export const DEFAULT_SUBJECT_TAG_TEMPLATE = '[#<n>]';
/** Characters of a subject searched for a tag (default); a tag is written near the start. */
export const DEFAULT_MAX_SUBJECT_CHARS = 2000;

const PLACEHOLDER = '<n>';
const MAX_AFFIX_CHARS = 32;
// 16 digits cover every safe integer; leading zeros are never written by Mailroom.
const NUMBER_SOURCE = '([1-9][0-9]{0,15})';

/**
 * Compiles a tag template such as `[#<n>]` or `[Ticket#<n>]`: `<n>` exactly
 * once, a non-empty prefix, no line breaks, no digit next to the number.
 * Throws CONFIG_INVALID otherwise (templates come from configuration).
 */
export function compileSubjectTag(template: string): SubjectTagFormat {
  const at = template.indexOf(PLACEHOLDER);
  const bad = (why: string): MailroomError =>
    new MailroomError('CONFIG_INVALID', `Invalid subject tag template ${JSON.stringify(template)}: ${why}`);
  if (at < 0 || template.indexOf(PLACEHOLDER, at + 1) >= 0) throw bad(`must contain ${PLACEHOLDER} exactly once`);
  const prefix = template.slice(0, at);
  const suffix = template.slice(at + PLACEHOLDER.length);
  if (prefix.length === 0) throw bad('needs text before the number');
  if (prefix.length > MAX_AFFIX_CHARS || suffix.length > MAX_AFFIX_CHARS) throw bad(`parts are limited to ${MAX_AFFIX_CHARS} characters`);
  if (/[\r\n]/.test(template)) throw bad('must not contain line breaks');
  if (/[0-9]$/.test(prefix) || /^[0-9]/.test(suffix)) throw bad('must not put a digit next to the number');
  const pattern = new RegExp(escapeRegExp(prefix) + NUMBER_SOURCE + escapeRegExp(suffix), 'iu');
  return { prefix, suffix, pattern };
}

export const DEFAULT_SUBJECT_TAG: SubjectTagFormat = compileSubjectTag(DEFAULT_SUBJECT_TAG_TEMPLATE);

/** The tag for ticket number `n`, e.g. `[#123]`. Throws VALIDATION unless `n` is a positive safe integer. */
export function formatSubjectTag(n: number, format: SubjectTagFormat = DEFAULT_SUBJECT_TAG): string {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new MailroomError('VALIDATION', 'A ticket number must be a positive safe integer', {
      fields: [{ field: 'ticketNumber', message: 'must be a positive safe integer' }],
    });
  }
  return `${format.prefix}${n}${format.suffix}`;
}

export interface FindSubjectTagOptions {
  format?: SubjectTagFormat;
  /** Characters of the subject searched (default 2000). */
  maxChars?: number;
}

/**
 * The number of the first well-formed tag in the subject, or null. Reply and
 * forward prefixes around it do not matter; `[#0]`, `[#-1]`, `[#007]`, numbers
 * beyond Number.MAX_SAFE_INTEGER and tags glued to a letter or digit
 * (`abc[#12]`, `[#12]abc`) are not tags.
 */
export function findSubjectTag(subject: string, opts: FindSubjectTagOptions = {}): number | null {
  const format = opts.format ?? DEFAULT_SUBJECT_TAG;
  const text = subject.slice(0, opts.maxChars ?? DEFAULT_MAX_SUBJECT_CHARS);
  // A global copy per call, so no lastIndex is shared between callers.
  const pattern = new RegExp(format.pattern.source, 'giu');
  for (const m of text.matchAll(pattern)) {
    const start = m.index;
    const end = start + m[0].length;
    if (isWordChar(charBefore(text, start)) || isWordChar(charAfter(text, end))) continue;
    const n = Number(m[1]);
    if (Number.isSafeInteger(n) && n >= 1) return n;
  }
  return null;
}

// Reply and forward markers of common mail clients and languages: English,
// German (AW, WG), French (TR), Spanish (RV), Portuguese (RES, ENC), Italian
// (R, RIF), Dutch (Antw, Doorst), Nordic (SV, VS, VB, VL), Polish/Czech (Odp,
// PD), Turkish (YNT, İLT), Greek, Russian, Hungarian, Chinese, Japanese,
// Korean. Each word must be followed by a colon, so `Research:` or `Rewards`
// stay as they are.
const PREFIX_WORDS = [
  'antwort', 'antw', 'doorst', 'fwd', 'fw', 'res', 'rif', 're', 'r', 'aw', 'wg', 'tr', 'rv', 'enc',
  'sv', 'vs', 'vb', 'vl', 'odp', 'pd', 'ynt', 'ilt', 'İlt', 'továbbítás', 'vá',
  'σχετ', 'απ', 'πρθ', 'отв', 'ответ', 'пересл',
  '回复', '答复', '回覆', '转发', '轉寄', '转寄', '返信', '転送', '회신', '전달', '답장',
];
// Counters: Re[2]:, Re(2):, Re^2:. Separators: ASCII or full-width colon, "Re :" in French typography.
const REPLY_PREFIX = new RegExp(
  `^(?:${[...new Set(PREFIX_WORDS)].map(escapeRegExp).join('|')})(?:\\[[0-9]{1,4}\\]|\\([0-9]{1,4}\\)|\\^[0-9]{1,4})?[ \\t]{0,3}[:：]`,
  'iu',
);
const MAX_PREFIXES = 64;

/**
 * The subject without leading reply/forward prefixes (`Re: AW: Fwd: x` → `x`),
 * for display. The old Netscape/Thunderbird forward form `[Fwd: x]` is
 * unwrapped too when its brackets enclose the whole subject.
 */
export function stripReplyPrefixes(subject: string): string {
  let rest = subject.trim();
  for (let i = 0; i < MAX_PREFIXES; i++) {
    const m = REPLY_PREFIX.exec(rest);
    if (m !== null) {
      rest = rest.slice(m[0].length).trim();
    } else if (rest.startsWith('[') && REPLY_PREFIX.test(rest.slice(1)) && closesAtEnd(rest)) {
      rest = rest.slice(1, -1).trim();
    } else {
      break;
    }
  }
  return rest;
}

/** True when the `[` at index 0 is closed by the last character (brackets balanced in between). */
function closesAtEnd(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i === text.length - 1;
  }
  return false;
}

function charBefore(text: string, index: number): string {
  if (index <= 0) return '';
  const low = text.charCodeAt(index - 1);
  const isLowSurrogate = low >= 0xdc00 && low <= 0xdfff;
  return text.slice(isLowSurrogate && index >= 2 ? index - 2 : index - 1, index);
}

function charAfter(text: string, index: number): string {
  const cp = text.codePointAt(index);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

// Letters, digits and `_`, but not the scripts written without spaces between
// words (a tag right after Chinese or Japanese text is still a tag).
const WORD_CHAR = /^[\p{L}\p{N}_]$/u;
const UNSPACED_SCRIPT = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]$/u;

function isWordChar(ch: string): boolean {
  return ch !== '' && WORD_CHAR.test(ch) && !UNSPACED_SCRIPT.test(ch);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
