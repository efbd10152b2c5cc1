// The inline-CSS allow-list of the mail sanitizer. Mail layout lives in
// `style` attributes, so dropping them all makes newsletters unreadable; but
// CSS can load content (`url()`), run code in old engines (`expression()`,
// `behavior`, `-moz-binding`) and spoof the surrounding UI (`position`, negative
// margins). Each allowed property gets a value pattern that admits no
// parentheses (except a bounded `rgb()`), backslashes, colons or quotes that
// could smuggle those in. Patterns are anchored and free of nested unbounded
// quantifiers, and sanitize-html only tests values it parsed with postcss.

const LENGTH = String.raw`(?:(?:\d{1,5}(?:\.\d{1,4})?|\.\d{1,4})(?:px|pt|pc|em|rem|ex|ch|%|vw|vh|cm|mm|in)?)`;
const LENGTH_OR_AUTO = `(?:${LENGTH}|auto)`;
const COLOR = String.raw`(?:#[0-9a-f]{3,8}|[a-z]{3,24}|rgba?\([0-9.,%\s]{1,40}\))`;

const one = (alt: string): RegExp => new RegExp(`^(?:${alt})$`, 'i');
const upToFour = (alt: string): RegExp => new RegExp(`^${alt}(?:\\s{1,4}${alt}){0,3}$`, 'i');

const color = [one(COLOR)];
const boxSide = [one(LENGTH_OR_AUTO)];
const box = [upToFour(LENGTH_OR_AUTO)];
const size = [one(`${LENGTH}|auto|none`)];
/** `1px solid #ccc`, `none`, `thin dotted red`: words, lengths and a color, no functions but rgb(). */
const border = [
  /^(?:[a-z-]{1,12}|#[0-9a-f]{3,8}|\d{1,3}(?:\.\d{1,2})?(?:px|pt|em)?)(?:\s{1,4}(?:[a-z-]{1,12}|#[0-9a-f]{3,8}|\d{1,3}(?:\.\d{1,2})?(?:px|pt|em)?)){0,3}$/i,
];

export const ALLOWED_STYLES: Record<string, RegExp[]> = {
  color,
  'background-color': color,
  'font-family': [/^[a-z0-9 ,'"_-]{1,200}$/i],
  'font-size': [one(`${LENGTH}|xx-small|x-small|small|medium|large|x-large|xx-large|smaller|larger`)],
  'font-weight': [/^(?:normal|bold|bolder|lighter|[1-9]00)$/i],
  'font-style': [/^(?:normal|italic|oblique)$/i],
  'text-align': [/^(?:left|right|center|justify|start|end)$/i],
  'text-decoration': [/^[a-z -]{1,40}$/i],
  'text-transform': [/^(?:none|uppercase|lowercase|capitalize)$/i],
  'vertical-align': [/^(?:baseline|top|middle|bottom|sub|super|text-top|text-bottom)$/i],
  'line-height': [one(`${LENGTH}|normal`)],
  'letter-spacing': [one(`${LENGTH}|normal`)],
  'white-space': [/^(?:normal|nowrap|pre|pre-wrap|pre-line|break-spaces)$/i],
  'word-break': [/^(?:normal|break-all|keep-all|break-word)$/i],
  'list-style-type': [/^[a-z-]{1,30}$/i],
  direction: [/^(?:ltr|rtl)$/i],
  margin: box,
  'margin-top': boxSide,
  'margin-right': boxSide,
  'margin-bottom': boxSide,
  'margin-left': boxSide,
  padding: box,
  'padding-top': boxSide,
  'padding-right': boxSide,
  'padding-bottom': boxSide,
  'padding-left': boxSide,
  border,
  'border-top': border,
  'border-right': border,
  'border-bottom': border,
  'border-left': border,
  'border-color': color,
  'border-style': [/^[a-z]{1,10}(?:\s{1,4}[a-z]{1,10}){0,3}$/i],
  'border-width': box,
  'border-collapse': [/^(?:collapse|separate)$/i],
  'border-radius': box,
  width: size,
  height: size,
  'max-width': size,
  'min-width': size,
};

/** `display: none` in an inline style. */
const HIDDEN_STYLE = /(?:^|;)\s*display\s*:\s*none\s*(?:!\s*important\s*)?(?:;|$)/i;

/**
 * Hidden by the sender (the `hidden` attribute or an inline `display: none`):
 * preheaders, tracking text, mobile-only duplicates. No mail client shows it,
 * so neither the display HTML nor the extracted text does. (`display` is not
 * an allowed style, so without this rule sanitizing would reveal it.)
 */
export function isHiddenElement(attribs: Readonly<Record<string, string | undefined>>): boolean {
  if (attribs['hidden'] !== undefined) return true;
  const style = attribs['style'];
  return style !== undefined && HIDDEN_STYLE.test(style);
}
