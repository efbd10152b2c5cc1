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
  MAX_MOBILE_SIGNATURE_CHARS,
  MOBILE_SIGNATURES,
  NON_AUTHOR_WORDS,
  SEPARATOR_PHRASES,
} from './patterns.js';

export type LineClass =
  | 'empty'
  | 'quote'
  | 'text'
  /** decorative rule (`***`, `====`, `-----`): dropped when trailing */
  | 'deco'
  /** `-- ` signature delimiter (RFC 3676, with its trailing space) */
  | 'sigdelim'
  /** `--` without the trailing space: a signature delimiter only near the end (text.ts decides) */
  | 'dashdash'
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
const SIG_TAIL_EDGES = new Set([...' \t\u00a0(<>)*_.,;:!']);
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

/** "Get Outlook for iOShttps://aka.ms/x", "… PC <http://…>": cut a URL that ends the line. */
function dropTrailingUrl(s: string): string {
  const at = s.toLowerCase().lastIndexOf('http');
  if (at <= 0) return s;
  const rest = s.slice(at);
  return /^https?:\/\/\S*$/i.test(rest) ? s.slice(0, at) : s;
}

/** Phrases that start an apology app footers append ("…, please excuse any typos"). */
const EXCUSES = [' please excuse', ' excuse ', ' pardon ', ' sorry for ', ' forgive '];
/** …and what such an apology is about; any other clause ("sorry for the delay") is the customer's. */
const EXCUSED = ['typo', 'brevity', 'brief', 'spelling', 'error', 'mistake', 'autocorrect', 'auto-correct', 'short'];
const MAX_EXCUSE_CHARS = 60;

/** "Sent from my cell, please excuse any typos." → "Sent from my cell," */
function dropExcuse(s: string): string {
  const lower = s.toLowerCase();
  let cut = s.length;
  for (const e of EXCUSES) {
    const at = lower.indexOf(e);
    if (at > 0 && at < cut) cut = at;
  }
  const clause = lower.slice(cut);
  if (clause.length === 0 || clause.length > MAX_EXCUSE_CHARS || !EXCUSED.some((w) => clause.includes(w))) return s;
  return s.slice(0, cut);
}

/** Is this whole (short) line a phone or mail-app footer such as "Sent from my iPhone"? */
export function isMobileSignature(line: string): boolean {
  if (line.length > MAX_MOBILE_SIGNATURE_CHARS * 3) return false;
  let s = stripEdges(unMarkdownLinks(line), SIG_EDGES);
  s = stripEdges(dropExcuse(dropTrailingUrl(s)), SIG_TAIL_EDGES).replace(/\s+/g, ' ');
  if (s.length === 0 || s.length > MAX_MOBILE_SIGNATURE_CHARS) return false;
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
  if (t === '--') return /^--[ \t\u00a0]/.test(line) ? 'sigdelim' : 'dashdash';
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

const CJK = /[\u3000-\u9fff\uff00-\uffef]/u;

/** Longest first, so "het volgende geschreven" wins over "geschreven". */
const END_MARKERS = [...ATTRIBUTION_END_MARKERS].sort((a, b) => b.length - a.length);

/** The attribution verb `core` ends with ("wrote", "schrieb", "写道"), or null. */
function endMarkerOf(core: string): string | null {
  for (const m of END_MARKERS) {
    if (!core.endsWith(m)) continue;
    if (CJK.test(m)) return m;
    const before = core[core.length - m.length - 1];
    if (before === undefined || !isLetter(before)) return m;
  }
  return null;
}

const WORD_EDGES = new Set([...' \t\u00a0"\'“”„«»()[]<>,;:.']);

/** The blank-separated words of `s` (already lower-case), edge punctuation removed. */
function wordsOf(s: string): string[] {
  const out: string[] = [];
  for (const w of s.split(/[ \t\u00a0]+/)) {
    const bare = stripEdges(w, WORD_EDGES);
    if (bare.length > 0) out.push(bare);
  }
  return out;
}

/**
 * Can these words stand next to an attribution verb as its author? Pronouns
 * and determiners cannot: "On 3 June I wrote:", "… the display wrote:" are
 * the customer's prose, "… Anna Schmidt <a@x> wrote:" is a client's line.
 */
function namesAuthor(words: readonly string[]): boolean {
  if (words.length === 0) return false;
  return !words.some((w) => NON_AUTHOR_WORDS.has(w));
}

/** The text before the verb ends with an author: its last two words are checked. */
function authorBefore(text: string): boolean {
  return namesAuthor(wordsOf(text).slice(-2));
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
  const marker = endMarkerOf(core);
  // "On 3 June I wrote:" has a verb but no author: not an attribution.
  const endMarker = marker !== null && (CJK.test(marker) || authorBefore(core.slice(0, core.length - marker.length)));
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
    // "Am <date> schrieb <someone> <mail>:" (not "On 3 June I wrote to you about …:")
    if (opener) {
      for (const m of ATTRIBUTION_MID_MARKERS) {
        const at = lower.indexOf(m);
        if (at >= 0 && namesAuthor(wordsOf(lower.slice(at + m.length)).slice(0, 2))) return true;
      }
    }
    // "<someone> schrieb am <date>:"
    for (const m of ATTRIBUTION_AUTHOR_FIRST) {
      const at = lower.indexOf(m);
      if (at > 0 && authorBefore(lower.slice(0, at))) return true;
    }
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

/** Most words an author of a bare attribution has ("Erlend Sogge Heggen via Discourse Meta"). */
const MAX_BARE_AUTHOR_WORDS = 6;

/** End markers in the present tense: with a determiner or opener before them, prose. */
const PRESENT_TENSE_MARKERS: ReadonlySet<string> = new Set(['writes', 'skriver', 'pisze', 'пишет', 'пише']);

/**
 * "John Doe wrote:" without date or address: an attribution only when a
 * quote follows it (the caller checks that). The verb must be one of writing
 * ("The log says:" stays text) and the subject must hold at least one word
 * that is no pronoun, determiner or opener ("Then I wrote:", "We wrote:" stay
 * text). Determiners and openers next to a name are fine here (with a verb in
 * the past tense, so "The manual writes:" stays text), because the quote below
 * marks a client's line: "The Help Desk wrote:", "Your Support Team wrote:",
 * "On Monday, Anna wrote:". (Without a quote below, isAttribution rejects any
 * such word: "On 3 June I wrote to you about the refund:".)
 */
export function isBareAttribution(raw: string): boolean {
  if (raw.length > 120) return false;
  const lower = stripEdges(raw, START_EDGES).toLowerCase();
  if (!(lower.endsWith(':') || lower.endsWith('：'))) return false;
  const core = stripEdges(lower, BARE_EDGES);
  const marker = endMarkerOf(core);
  if (marker === null) return false;
  const author = wordsOf(core.slice(0, core.length - marker.length));
  if (author.length > MAX_BARE_AUTHOR_WORDS) return false;
  if (namesAuthor(author)) return true;
  // "The manual writes:" quotes a document; clients write the past tense.
  return !PRESENT_TENSE_MARKERS.has(marker) && author.some((w) => !NON_AUTHOR_WORDS.has(w));
}

/** "12:30", "9.41", "15h26" as a clock time, not part of a date such as 12.06.2024. */
const CLOCK = /(?:^|\D)\d{1,2}:\d{2}(?!\d)|(?:^|[^\d.])\d{1,2}[.h]\d{2}(?![\d.])/;
/** "5/6/24", "06.05.2024", "2024-05-06" */
const NUMERIC_DATE = /\d{1,4}[-/.]\d{1,2}[-/.]\d{2,4}/;
/** An e-mail address somewhere in the text (a character on each side of "@"). */
const ADDRESS = /[^\s@<>()[\]]@[^\s@<>()[\]]/;

export function hasClockTime(s: string): boolean {
  return CLOCK.test(s);
}

export function hasAddress(s: string): boolean {
  return ADDRESS.test(s);
}

/**
 * Does an attribution (isAttribution already true) have the shape mail
 * clients give it: an address, or a date together with a time? Only such
 * attributions cut the text that follows them without quoted history below.
 */
export function isClientAttribution(raw: string): boolean {
  const s = raw.length > MAX_ATTRIBUTION_CHARS * 2 ? raw.slice(0, MAX_ATTRIBUTION_CHARS * 2) : raw;
  return hasAddress(s) || (hasClockTime(s) && (YEAR.test(s) || NUMERIC_DATE.test(s)));
}
