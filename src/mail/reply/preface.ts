// Outlook's "Preface comments with: [Your Name]": an answer typed into the
// quoted history starts with the writer's name in brackets ("[Tom Baker] 4.2.1").
// Shared by the HTML rules (inline-answers.ts, where Outlook also sets it bold
// and italic) and the plain-text rules (text.ts, where the name is all there is).
// Bracketed banners and rendered links ("[EXTERNAL]", "[cid:image001.png]",
// "[1]") are not names.

/** Longest name inside the brackets, and most words in it. */
const MAX_NAME_CHARS = 40;
const MAX_NAME_WORDS = 4;
/** Bracketed words that are banners, tags or rendered links, never a person's preface. */
const NOT_A_NAME =
  /^(?:external|extern|externe?|ext|caution|warning|warnung|attention|achtung|spam|suspected spam|cid:|image|bild|http|mailto|www\.|attachment|anhang|secure|encrypt|confidential|note|hinweis|info|update|edit|quote|link)/i;
const PREFACE = /^\s*\[([^[\]\n]{1,40})\]/;

/** The name of a "[Name]" preface at the start of `line`, or null. */
export function prefaceName(line: string): string | null {
  const name = PREFACE.exec(line.length > 200 ? line.slice(0, 200) : line)?.[1]?.trim();
  if (name === undefined || name.length === 0 || name.length > MAX_NAME_CHARS) return null;
  if (!/\p{L}/u.test(name) || NOT_A_NAME.test(name)) return null;
  const words = name.split(/\s+/);
  if (words.length > MAX_NAME_WORDS) return null;
  // A name: every word starts with a capital letter ("Tom Baker", "TB", "O'Neil, Ann").
  return words.every((w) => /^\p{Lu}/u.test(w)) ? name : null;
}
