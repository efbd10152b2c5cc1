// Bytes whose charset nobody declared → text. One rule for header values
// (raw 8-bit subjects, display names, file names) and text bodies (no charset,
// US-ASCII or a lying UTF-8): valid UTF-8 is UTF-8; otherwise the legacy
// charset the message itself names (a part's or the body's `charset=`);
// otherwise the legacy charset a detector (chardet) is confident of; otherwise
// windows-1252, the superset of Latin-1 WHATWG decoders use for Latin-1 too.
//
// Header values are short, and a detector guesses badly on one 20-byte
// subject: so the caller detects once over all of a message's 8-bit header
// text together (detectLegacyCharset) and hands the answer in as a hint.
// Chinese, Japanese, Korean and Russian senders whose clients never learnt
// RFC 2047 are read as themselves instead of as `×ª·¢£º…` mojibake.
import { isUtf8 } from 'node:buffer';
import chardet from 'chardet';
import libmime from 'libmime';

// windows-1252's 0x80-0x9F (Node's TextDecoder('windows-1252') decodes these as
// C1 controls, i.e. as ISO-8859-1); undefined slots stay as their C1 code point.
export const CP1252_HIGH = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

export function decodeCp1252(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80] ?? c);
}

export interface CharsetHint {
  /** A legacy charset the message names (a part's `charset=`), if any. */
  named?: string | null;
  /** A legacy charset detected over the message's 8-bit text, if any. */
  detected?: string | null;
}

/** Charsets that say nothing about 8-bit bytes (or are read by the steps before the hint). */
// ... and the 7-bit encodings (ISO-2022-*, HZ), which 8-bit bytes cannot be in.
const NOT_A_HINT = /^(?:us-?ascii|ascii|utf-?8|utf-?7|unicode-1-1-utf-7|utf-16.*|utf-32.*|ucs-2|iso-2022-.*|csiso2022.*|hz-gb-2312|unknown-8bit|x-unknown|x-user-defined|binary|default|none)$/;
/** Latin-1 and its aliases: read as windows-1252 (as WHATWG decoders do), whose 0x80-0x9F are printable. */
const LATIN1 = /^(?:iso-?8859-1|iso_8859-1(?::1987)?|latin-?1|l1|cp819|ibm819|windows-1252|cp1252|x-cp1252)$/;

/** Whether `charset` can stand for a message's undeclared 8-bit bytes: a legacy charset iconv-lite decodes. */
export function isLegacyHint(charset: string | null | undefined): charset is string {
  if (!charset) return false;
  const cs = charset.trim().toLowerCase();
  if (cs === '' || NOT_A_HINT.test(cs)) return false;
  try {
    const normalised = libmime.normalizeCharset(cs).toLowerCase();
    if (NOT_A_HINT.test(normalised)) return false;
    // libmime decodes an unknown charset as UTF-8 (with replacements): only a real decoder counts.
    const stream = libmime.createDecodeStream(normalised) as { supported?: boolean };
    return stream.supported !== false;
  } catch {
    return false;
  }
}

/** Bytes a detector reads with this much confidence (of 100) are taken to be in what it names. */
const DETECTED_MULTIBYTE = 60;
const DETECTED_SINGLE_BYTE = 85;
const MULTIBYTE = /^(?:big5|gb18030|euc-jp|euc-kr|shift_jis|iso-2022-(?:jp|kr|cn))$/i;
const DETECT_BYTES = 64 * 1024;

/** The legacy charset chardet is sure `sample` is in, or null (ASCII, UTF-8, Latin-1 and unsure answers). */
export function detectLegacyCharset(sample: Buffer): string | null {
  if (sample.length === 0) return null;
  const [best] = chardet.analyse(sample.subarray(0, DETECT_BYTES));
  if (!best || /^(?:iso-8859-1|windows-1252|utf-8|ascii)$/i.test(best.name)) return null;
  const sure = MULTIBYTE.test(best.name) ? best.confidence >= DETECTED_MULTIBYTE : best.confidence >= DETECTED_SINGLE_BYTE;
  return sure ? best.name.toLowerCase() : null;
}

// Short text (a subject, a name) is too little for chardet's statistics. What
// is left is whether the bytes decode cleanly into the script the charset is
// for: Korean text is mostly Hangul, Japanese has kana, Chinese is ideographs
// and CJK punctuation (in GBK, the rows Big5 uses for its commonest
// characters are kana, Greek and box drawing: Big5 read as GBK fails this).
// Tried in an order where a wrong earlier guess fails its own test.
const HANGUL = /[\uac00-\ud7a3]/gu;
const KANA = /[\u3041-\u30ff]/gu;
const HALFWIDTH_KANA = /[\uff61-\uff9f]/gu;
const HAN_TEXT = /[\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]/gu;
const CYRILLIC = /[\u0400-\u04ff]/gu;
const GREEK = /[\u0370-\u03ff]/gu;
const HEBREW = /[\u0590-\u05ff]/gu;
const ARABIC = /[\u0600-\u06ff]/gu;
const PUNCTUATION = /[\u00a0-\u00bf\u2010-\u203a\u2116]/gu;

const count = (text: string, re: RegExp): number => text.match(re)?.length ?? 0;

const SHORT_TEXT_TESTS: readonly [string, (text: string, nonAscii: number) => boolean][] = [
  ['euc-kr', (t, n) => count(t, HANGUL) >= 0.9 * n],
  ['shift_jis', (t, n) => count(t, KANA) >= 0.1 * n && count(t, HALFWIDTH_KANA) <= 0.1 * n && count(t, KANA) + count(t, HAN_TEXT) >= 0.9 * n],
  ['euc-jp', (t, n) => count(t, KANA) >= 0.1 * n && count(t, KANA) + count(t, HAN_TEXT) >= 0.9 * n],
  ['gb18030', (t, n) => count(t, HAN_TEXT) >= 0.9 * n],
  ['big5', (t, n) => count(t, HAN_TEXT) >= 0.9 * n],
];
// Single-byte scripts chardet names for short text with some confidence; the decoded text must be of that script.
const SINGLE_BYTE_SCRIPTS: ReadonlyMap<string, RegExp> = new Map([
  ['koi8-r', CYRILLIC],
  ['windows-1251', CYRILLIC],
  ['iso-8859-5', CYRILLIC],
  ['iso-8859-7', GREEK],
  ['windows-1253', GREEK],
  ['iso-8859-8', HEBREW],
  ['windows-1255', HEBREW],
  ['windows-1256', ARABIC],
]);

/** True when every run of 8-bit bytes has even length and only bytes A1-FE (the EUC double-byte form). */
function eucPairsOnly(bytes: Buffer): boolean {
  let run = 0;
  for (const b of [...bytes, 0]) {
    if (b >= 0x80) {
      if (b < 0xa1 || b === 0xff) return false;
      run++;
    } else {
      if (run % 2 !== 0) return false;
      run = 0;
    }
  }
  return true;
}

/**
 * Latin text read as windows-1252: its non-ASCII characters are letters or a
 * dash or quote, in runs of at most two, inside or next to an ASCII word
 * ("Jörg", "Größe", "Ça"). Multi-byte and Cyrillic text read the same way
 * gives runs of symbols and letters ("×ª·¢£º", "Ïðîáëåìà").
 */
function looksLatin(bytes: Buffer): boolean {
  const text = decodeCp1252(bytes);
  for (const m of text.matchAll(/[^\u0000-\u007f]+/gu)) {
    const run = m[0];
    const before = text[m.index - 1] ?? ' ';
    const after = text[m.index + run.length] ?? ' ';
    if (/^[\u2013\u2014\u2018\u2019\u201c\u201d\u00ab\u00bb\u2026\u20ac\u00b0\u00a7\u00a0]$/u.test(run)) continue;
    if (Array.from(run).length > 2 || !/^[\u00c0-\u024f]+$/u.test(run)) return false;
    if (!/[A-Za-z]/.test(before) && !/[A-Za-z]/.test(after)) return false;
  }
  return true;
}

/**
 * The legacy charset of a little text (all of a message's 8-bit header
 * values together): chardet when it is sure; else the first multi-byte
 * charset whose decoding is clean and of its script; else a single-byte
 * charset chardet names with some confidence whose decoding is of its
 * script; else null (windows-1252 then).
 */
export function detectShortText(sample: Buffer): string | null {
  const sure = detectLegacyCharset(sample);
  if (sure !== null) return sure;
  if (looksLatin(sample)) return null;
  const nonAsciiOf = (text: string): number => Array.from(text).filter((c) => c > '\u007f' && !/\s/u.test(c)).length;
  for (const [charset, test] of SHORT_TEXT_TESTS) {
    // EUC-KR proper (both bytes A1-FE), not the cp949 extension, which reads nearly any byte pair as Hangul.
    if (charset === 'euc-kr' && !eucPairsOnly(sample)) continue;
    const text = decodeAs(charset, sample);
    if (text === null || text.includes('\ufffd')) continue;
    const n = nonAsciiOf(text);
    if (n > 0 && test(text, n)) return charset;
  }
  for (const guess of chardet.analyse(sample).slice(0, 3)) {
    const name = guess.name.toLowerCase();
    const script = SINGLE_BYTE_SCRIPTS.get(name);
    if (script === undefined || guess.confidence < 30) continue;
    const text = decodeAs(name, sample);
    if (text === null) continue;
    const n = nonAsciiOf(text);
    if (n > 0 && count(text, script) + count(text, PUNCTUATION) >= 0.9 * n) return name;
  }
  return null;
}

function hasHighBytes(bytes: Buffer): boolean {
  for (const b of bytes) if (b >= 0x80) return true;
  return false;
}

/** Decodes with iconv-lite (through libmime); null when it cannot. */
export function decodeAs(charset: string, bytes: Buffer): string | null {
  try {
    return libmime.decodeWord(charset, 'B', bytes.toString('base64'));
  } catch {
    return null;
  }
}

/**
 * Bytes of unknown charset → text: ASCII and valid UTF-8 as such, else the
 * hint's named charset, else its detected one, else (with no hint at all) what
 * detectShortText says of these bytes alone, else windows-1252. Never throws.
 */
export function decodeUnknownBytes(bytes: Buffer, hint?: CharsetHint): string {
  if (!hasHighBytes(bytes)) return bytes.toString('latin1');
  if (isUtf8(bytes)) return bytes.toString('utf8');
  const detected = hint === undefined ? detectShortText(bytes) : hint.detected;
  // A named charset the bytes are not in (they make invalid sequences) gives way to the next candidate.
  let fallback: string | null = null;
  for (const cs of [hint?.named, detected]) {
    if (!isLegacyHint(cs)) continue;
    if (LATIN1.test(cs.trim().toLowerCase())) return decodeCp1252(bytes);
    const text = decodeAs(cs, bytes);
    if (text === null) continue;
    if (!text.includes('\ufffd')) return text;
    fallback ??= text;
  }
  return fallback ?? decodeCp1252(bytes);
}

/**
 * The hint for a message's header text: the first legacy charset named in
 * its part headers (`charset=`), and what a detector says of all its 8-bit,
 * non-UTF-8 header values together.
 */
export function headerCharsetHint(namedCharsets: readonly string[], eightBitValues: readonly Buffer[]): CharsetHint {
  const named = namedCharsets.find((cs) => isLegacyHint(cs)) ?? null;
  const legacy = eightBitValues.filter((b) => hasHighBytes(b) && !isUtf8(b));
  if (named !== null || legacy.length === 0) return { named, detected: null };
  return { named, detected: detectShortText(Buffer.concat(legacy.flatMap((b) => [b, Buffer.from('\n')])).subarray(0, DETECT_BYTES)) };
}
