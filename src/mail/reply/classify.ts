// Line classification for reply extraction: decides, one line (or a short
// window of wrapped lines) at a time, whether a line is quoted history, an
// attribution ("On … wrote:"), a separator, a signature marker or plain text.
// Every test here looks at a bounded prefix of a line with anchored or
// literal patterns, so the cost per line is constant however hostile the mail.

import {
  ATTRIBUTION_AUTHOR_FIRST,
  ATTRIBUTION_END_MARKERS,
  ATTRIBUTION_MID_MARKERS,
  ATTRIBUTION_OPENERS,
  ATTRIBUTION_TOKENS,
  MOBILE_SIGNATURES,
  SEPARATOR_PHRASES,
} from './patterns.js';

export type LineClass =
  | 'empty'
  | 'quote'
  | 'text'
  /** decorative rule (`***`, `====`, `-----`): dropped when trailing */
  | 'deco'
  /** `-- ` signature delimiter */
  | 'sigdelim'
  /** a line of underscores (Outlook's separator, signature rules) */
  | 'underscore'
  /** "Sent from my iPhone" and friends */
  | 'mobilesig'
  /** "-----Original Message-----", "Begin forwarded message:" … */
  | 'separator';

/** Longest attribution (after joining wrapped lines) considered. */
export const MAX_ATTRIBUTION_CHARS = 400;
/** Attribution lines wrapped over more physical lines than this are not joined. */
export const MAX_ATTRIBUTION_LINES = 5;

const DECO_CHARS = new Set([...'-_=+~#*•·ᐧ—–.']);
const ATTR_EDGES = new Set([...' \t\u00a0-*>']);
const CORE_EDGES = new Set([...' \t\u00a0:：.>-']);
const COLON_EDGES = new Set([...' \t\u00a0:：']);
const TAIL_EDGES = new Set([...' \t\u00a0:：*-']);
const START_EDGES = new Set([...' \t\u00a0-*']);
const BARE_EDGES = new Set([...' \t\u00a0:：.']);
const SIG_EDGES = new Set([...' \t\u00a0(<>)*_']);
const SEPARATOR_EDGES = new Set([...' \t\u00a0-*_=~>:：[]']);
const EDGE_CHARS = new Set([...' \t\u00a0-*_=~>:：']);

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\u00a0' || ch === '\u3000' || ch === '\f' || ch === '\v';
}

/** Strip characters of `set` from both ends (a loop, not a regex, so it is linear). */
export function stripEdges(s: string, set: ReadonlySet<string> = EDGE_CHARS): string {
  let a = 0;
  let b = s.length;
  while (a < b && set.has(s[a] as string)) a++;
  while (b > a && set.has(s[b - 1] as string)) b--;
  return s.slice(a, b);
}

function trimSpaces(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s[a] as string)) a++;
  while (b > a && isSpace(s[b - 1] as string)) b--;
  return s.slice(a, b);
}

/** `>` quoting, also Supercite-style initials (`JD> text`). */
export function isQuoteLine(line: string): boolean {
  let i = 0;
  while (i < line.length && isSpace(line[i] as string)) i++;
  if (line[i] === '>') return true;
  // Supercite: 1–3 capitals then '>' then blank, '>' or end of line.
  let j = i;
  while (j < line.length && j - i < 4) {
    const c = line.charCodeAt(j);
    if (c < 65 || c > 90) break;
    j++;
  }
  if (j === i || j - i > 3 || line[j] !== '>') return false;
  const after = line[j + 1];
  return after === undefined || after === ' ' || after === '>';
}

/** Remove Markdown links `[label](url)` → `label` (bounded, no regex). */
function unMarkdownLinks(s: string): string {
  if (!s.includes('](')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf('[', i);
    if (open < 0) break;
    const mid = s.indexOf('](', open);
    const close = mid < 0 ? -1 : s.indexOf(')', mid);
    if (mid < 0 || close < 0) break;
    out += s.slice(i, open) + s.slice(open + 1, mid);
    i = close + 1;
  }
  return out + s.slice(i);
}

export function isMobileSignature(line: string): boolean {
  if (line.length > 160) return false;
  let s = stripEdges(unMarkdownLinks(line), SIG_EDGES);
  if (s.length === 0 || s.length > 120) return false;
  s = s.replace(/\s+/g, ' ');
  return MOBILE_SIGNATURES.some((re) => re.test(s));
}

/** The normalised core of a separator line, or null when it is none. */
export function separatorPhrase(line: string): string | null {
  if (line.length > 120) return null;
  const core = stripEdges(line, SEPARATOR_EDGES).toLowerCase().replace(/\s+/g, ' ');
  if (core.length === 0 || core.length > 60) return null;
  return SEPARATOR_PHRASES.has(core) ? core : null;
}

/** Classify one physical line (attributions and header blocks are found separately). */
export function classifyLine(raw: string, scanChars: number): LineClass {
  const line = raw.length > scanChars ? raw.slice(0, scanChars) : raw;
  const t = trimSpaces(line);
  if (t.length === 0) return 'empty';
  if (isQuoteLine(line)) return 'quote';
  if (t === '--') return 'sigdelim';
  let allDeco = true;
  let allUnderscore = true;
  for (const ch of t) {
    if (!DECO_CHARS.has(ch) && !isSpace(ch)) allDeco = false;
    if (ch !== '_') allUnderscore = false;
    if (!allDeco) break;
  }
  if (allUnderscore && t.length >= 5) return 'underscore';
  if (allDeco) return 'deco';
  if (separatorPhrase(t) !== null) return 'separator';
  if (isMobileSignature(t)) return 'mobilesig';
  return 'text';
}

// --- attributions --------------------------------------------------------

function isLetter(ch: string | undefined): boolean {
  return ch !== undefined && /\p{L}/u.test(ch);
}

function startsWithOpener(lower: string): boolean {
  for (const op of ATTRIBUTION_OPENERS) {
    if (!lower.startsWith(op)) continue;
    const next = lower[op.length];
    if (next === undefined || !isLetter(next) || /[\u3000-\u9fff]/u.test(op)) return true;
  }
  return false;
}

function endsWithMarker(core: string): boolean {
  for (const m of ATTRIBUTION_END_MARKERS) {
    if (!core.endsWith(m)) continue;
    if (/[\u3000-\u9fff\uff00-\uffef]/u.test(m)) return true;
    const before = core[core.length - m.length - 1];
    if (before === undefined || !isLetter(before)) return true;
  }
  return false;
}

const TIME = /\d{1,2}[:.h]\d{2}/;
const YEAR = /(?:19|20)\d{2}/;
const ISO_DATE_START = /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}/;
/** "2016-10-24", "21.04.2016", "20 окт. 2016", "23 mar 2017" */
const DATE_START = /^(?:\d{1,4}[-/.]\d{1,2}|\d{1,2}\.? \p{L}{3,12}\.? \d{2,4})/u;
/** "Mon, 1 …", "пн, 1 …", "pon., 1 …": a weekday abbreviation, a comma, a day. */
const WEEKDAY_START = /^\p{L}{2,4}\.?, ?\d/u;

/** Is `raw` (one line, or wrapped lines joined by spaces) an attribution? */
export function isAttribution(raw: string): boolean {
  if (raw.length > MAX_ATTRIBUTION_CHARS * 2) return false;
  const s = stripEdges(raw, ATTR_EDGES);
  if (s.length < 6 || s.length > MAX_ATTRIBUTION_CHARS) return false;
  const lower = s.toLowerCase();
  const endColon = lower.endsWith(':') || lower.endsWith('：');
  const core = stripEdges(lower, CORE_EDGES);
  const endMarker = endsWithMarker(core);
  // Cheap rejection first: every rule needs a colon, an end verb or an ISO date.
  if (!endColon && !endMarker && !ISO_DATE_START.test(lower)) return false;
  const hasAt = lower.includes('@');
  const hasDigit = /\d/.test(lower);
  const hasTime = TIME.test(lower);
  const opener = startsWithOpener(lower);
  const token = ATTRIBUTION_TOKENS.some((t) => lower.includes(t));

  // "On <date>, <someone> wrote:" in its many languages.
  if (endMarker && (endColon || opener)) {
    if (hasAt || lower.includes(' via ') || (hasDigit && (opener || hasTime || token))) return true;
  }
  if (endColon && hasDigit) {
    // "Am <date> schrieb <someone> <mail>:"
    if (opener && ATTRIBUTION_MID_MARKERS.some((m) => lower.includes(m))) return true;
    // "<someone> schrieb am <date>:"
    if (ATTRIBUTION_AUTHOR_FIRST.some((m) => lower.includes(m))) return true;
    // Gmail without a verb (ru, ja, …): "<date>, <someone> <mail>:"
    const beforeColon = stripEdges(lower, COLON_EDGES);
    if (hasAt && (YEAR.test(lower) || hasTime) && /[>)\]]$/.test(beforeColon)) return true;
  }
  // "2016-03-03 17:21 GMT+01:00 Some One", "2013/7/20 someone <mail>"
  if (ISO_DATE_START.test(lower) && s.length <= 200) {
    if (/gmt[+-]\d/.test(lower)) return true;
    const tail = stripEdges(raw, TAIL_EDGES);
    if (hasAt && /[>)\]]$/.test(tail)) return true;
  }
  return false;
}

/**
 * Could an attribution start on this line? Strong starts (an opener word or a
 * date, plus a year or a time) may be joined with following lines directly;
 * weak starts only when no later line alone starts the same attribution.
 */
export function attributionStart(raw: string): 'strong' | 'weak' | null {
  const s = stripEdges(raw.length > MAX_ATTRIBUTION_CHARS ? raw.slice(0, MAX_ATTRIBUTION_CHARS) : raw, START_EDGES);
  if (s.length === 0) return null;
  const lower = s.toLowerCase();
  const dated = YEAR.test(lower) || TIME.test(lower);
  const opener = startsWithOpener(lower);
  const dateStart = DATE_START.test(lower) || WEEKDAY_START.test(lower);
  if ((opener || dateStart) && dated) return 'strong';
  if (opener || dateStart || lower.includes('@')) return 'weak';
  return null;
}

/**
 * "John Doe wrote:" without date or address: an attribution only when a
 * quote follows it (the caller checks that).
 */
export function isBareAttribution(raw: string): boolean {
  if (raw.length > 120) return false;
  const lower = stripEdges(raw, START_EDGES).toLowerCase();
  if (!(lower.endsWith(':') || lower.endsWith('：'))) return false;
  return endsWithMarker(stripEdges(lower, BARE_EDGES));
}
