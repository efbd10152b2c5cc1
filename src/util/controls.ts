// Control characters are how text takes over a terminal: ESC (U+001B) starts
// the sequences that clear a screen, move the cursor or retitle a window, C1
// (U+0080–U+009F) has one-byte forms of them, and bidi overrides reorder what
// a reader sees. Anything a tenant, a mail server or a token endpoint wrote
// passes through here before it is stored (replaced) or printed (escaped).

/** C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
/** Line breaks and NUL: what a single value (a password) may never carry. */
const LINE_BREAKS = /[\u0000\r\n]/;
/** Controls plus the bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069), for output. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same, keeping tab and line feed: the layout of text the CLI writes itself. */
const UNPRINTABLE_IN_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function hasControlChars(text: string): boolean {
  return CONTROL.test(text);
}

export function hasLineBreaks(text: string): boolean {
  return LINE_BREAKS.test(text);
}

/**
 * For storing what a server said: tab, CR and LF become a space, every other
 * control character U+FFFD, so the text stays readable and can do nothing.
 */
export function replaceControls(text: string): string {
  return text.replace(CONTROLS, (c) => (c === '\t' || c === '\n' || c === '\r' ? ' ' : '\uFFFD'));
}

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * For printing a value: every control character (line breaks too) and bidi
 * override as a visible `\u001b`. The same spelling as a JSON escape, so JSON
 * output stays valid JSON when it goes through here.
 */
export function escapeControls(text: string): string {
  return text.replace(UNPRINTABLE, escape);
}

/** escapeControls for whole lines of output: their own tabs and line feeds stay. */
export function escapeControlsInLayout(text: string): string {
  return text.replace(UNPRINTABLE_IN_LAYOUT, escape);
}
