// The short text shown in ticket lists (`plain_preview`) and the reading-time
// estimate (`read_minutes`), both computed from the extracted reply text.

export const PREVIEW_CHARS = 200;
/** Reading speed for `read_minutes`, in words per minute. */
export const WORDS_PER_MINUTE = 200;
/** Only this much text is looked at for the preview, however long the mail. */
const PREVIEW_SCAN_CHARS = 20_000;

/** Han, kana: written without spaces, so each character counts as half a word (≈400 chars/min). */
const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu;
const WORD = /[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*/gu;

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The first ~`maxChars` characters of the text, whitespace collapsed, cut at a
 * word boundary (or mid-word when a single word is too long) with `…` when cut.
 * Never splits a surrogate pair.
 */
export function plainPreview(text: string, maxChars: number = PREVIEW_CHARS): string {
  const flat = collapseWhitespace(text.slice(0, PREVIEW_SCAN_CHARS));
  const chars = Array.from(flat.slice(0, maxChars * 2 + 2));
  // 2·max+2 UTF-16 units hold more than max code points, so a short array means the whole text.
  if (chars.length <= maxChars) return flat;
  const head = chars.slice(0, maxChars).join('');
  const atSpace = chars[maxChars] === ' ';
  const lastSpace = head.lastIndexOf(' ');
  const body = atSpace ? head : lastSpace >= maxChars / 2 ? head.slice(0, lastSpace) : head;
  return `${body.replace(/[\s,;:.\-–—]+$/u, '')}…`;
}

export function countWords(text: string): number {
  let cjk = 0;
  for (const _ of text.matchAll(CJK_CHAR)) cjk++;
  let words = 0;
  for (const _ of text.replace(CJK_CHAR, ' ').matchAll(WORD)) words++;
  return words + Math.ceil(cjk / 2);
}

/** ceil(words / 200), at least 1 when there is any text, 0 when there is none. */
export function readMinutes(text: string): number {
  if (text.trim() === '') return 0;
  return Math.max(1, Math.ceil(countWords(text) / WORDS_PER_MINUTE));
}
