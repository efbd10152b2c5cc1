// URL classification shared by the sanitizer, the Editor.js builder and
// validator, the reply-text renderer and the plain-text linkifier. Mail is
// hostile: `java&#x09;script:`, `JaVaScRiPt:`, leading control characters and
// protocol-relative `//host` must all be seen the way a browser sees them, so
// every check goes through `classifyUrl`, and the two rules built on it live
// here and nowhere else: `linkUrl` (what a link may point at: http(s) and
// mailto) and `urlValueProblem` (what any URL-valued field may hold: those,
// cid, relative references and image data URLs).

import { Parser } from 'htmlparser2';

export type UrlClass =
  | { kind: 'http'; url: string }
  | { kind: 'mailto'; url: string }
  | { kind: 'cid'; id: string }
  | { kind: 'data-image'; url: string }
  | { kind: 'relative' }
  | { kind: 'other'; scheme: string };

const SCHEME = /^([a-z][a-z0-9+.-]{0,31}):/i;
const DATA_IMAGE = /^data:image\/(?:png|jpeg|gif|webp)[;,]/i;

/** Code points a browser ignores around a URL (C0 controls and space). */
function isC0OrSpace(code: number): boolean {
  return code <= 0x20;
}

/**
 * What a browser's URL parser starts from: C0 controls and spaces trimmed at
 * both ends, tab / CR / LF removed everywhere. Linear, no regex backtracking.
 */
export function normalizeUrl(raw: string): string {
  let start = 0;
  let end = raw.length;
  while (start < end && isC0OrSpace(raw.charCodeAt(start))) start++;
  while (end > start && isC0OrSpace(raw.charCodeAt(end - 1))) end--;
  let out = '';
  let runStart = start;
  for (let i = start; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x09 || c === 0x0a || c === 0x0d) {
      out += raw.slice(runStart, i);
      runStart = i + 1;
    }
  }
  return out + raw.slice(runStart, end);
}

/** The first characters with every control and space removed, for the scheme test only. */
function schemeProbe(url: string): string {
  let probe = '';
  for (let i = 0; i < url.length && probe.length < 40; i++) {
    const c = url.charCodeAt(i);
    if (!isC0OrSpace(c)) probe += url[i];
  }
  return probe;
}

function decodeCid(rest: string): string {
  try {
    return decodeURIComponent(rest);
  } catch {
    return rest;
  }
}

/** Classifies an (entity-decoded) attribute value the way a browser would resolve its scheme. */
export function classifyUrl(raw: string): UrlClass {
  const url = normalizeUrl(raw);
  const probe = schemeProbe(url);
  if (/^[\\/]{2}/.test(probe)) {
    // Protocol-relative: pin it to https so it never follows the viewer's page scheme.
    let i = 0;
    while (i < url.length && (url[i] === '/' || url[i] === '\\' || isC0OrSpace(url.charCodeAt(i)))) i++;
    return { kind: 'http', url: `https://${url.slice(i)}` };
  }
  const m = SCHEME.exec(probe);
  if (!m || m[1] === undefined) return { kind: 'relative' };
  const scheme = m[1].toLowerCase();
  // A scheme split by controls (`java\0script:`) is only trusted when the plain text agrees.
  const plainScheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (plainScheme !== scheme) return { kind: 'other', scheme };
  switch (scheme) {
    case 'http':
    case 'https':
      return { kind: 'http', url };
    case 'mailto':
      return { kind: 'mailto', url };
    case 'cid': {
      const id = decodeCid(url.slice(4)).replace(/^<|>$/g, '');
      return id === '' ? { kind: 'other', scheme } : { kind: 'cid', id };
    }
    case 'data':
      return DATA_IMAGE.test(url) ? { kind: 'data-image', url } : { kind: 'other', scheme };
    default:
      return { kind: 'other', scheme };
  }
}

/** Escapes text for an HTML text node or a double-quoted attribute value (the only quoting used). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      default:
        return '&quot;';
    }
  });
}

/** The link rule: the URL a link keeps (http(s) or mailto, normalized), or null when it must lose its href. */
export function linkUrl(raw: string): string | null {
  const url = classifyUrl(raw);
  return url.kind === 'http' || url.kind === 'mailto' ? url.url : null;
}

/** Schemes refused wherever they appear as a whole string value, not only under a URL key. */
const SCRIPT_SCHEMES = new Set(['javascript', 'vbscript', 'livescript', 'data']);
/** Characters of a decoded head looked at: enough for a scheme and `data:image/jpeg;`. */
const HEAD_CHARS = 64;
const CHAR_REF = /&(?:#[xX]([0-9a-fA-F]{1,8});?|#(\d{1,10});?|([A-Za-z][A-Za-z0-9]{1,31});)/y;

function codePoint(n: number): string {
  return n > 0 && n <= 0x10ffff && (n < 0xd800 || n > 0xdfff) ? String.fromCodePoint(n) : '\ufffd';
}

/** Named references met so far (the few a mail or document uses, bounded by the table's size). */
const namedCache = new Map<string, string>();

function namedReference(name: string): string {
  const cached = namedCache.get(name);
  if (cached !== undefined) return cached;
  let decoded = `&${name};`;
  const parser = new Parser({ onattribute: (_attr, value) => (decoded = value) }, { decodeEntities: true });
  parser.end(`<a x="&${name};">`);
  if (namedCache.size < 4096) namedCache.set(name, decoded);
  return decoded;
}

/**
 * The start of the value, as far as it decides the scheme: it ends after
 * HEAD_CHARS characters that are not spaces or controls (which a browser
 * trims or drops), however many of those come first or in between, so the
 * check is linear and padding cannot push a scheme out of view. With `decode`,
 * HTML character references are decoded as in an attribute (`&#106;`,
 * `&#x09;`, `&Tab;`, `&colon;`): a JSON value is not HTML, but a client that
 * renders Editor.js data into an HTML string hands it to a browser that
 * decodes them.
 */
export function urlHead(raw: string, decode: boolean): string {
  let out = '';
  let seen = 0;
  let i = 0;
  while (i < raw.length && seen < HEAD_CHARS) {
    let piece = raw[i] as string;
    i++;
    if (piece === '&' && decode) {
      CHAR_REF.lastIndex = i - 1;
      const m = CHAR_REF.exec(raw);
      if (m) {
        piece = m[1] !== undefined ? codePoint(parseInt(m[1], 16)) : m[2] !== undefined ? codePoint(Number(m[2])) : namedReference(m[3] as string);
        i += m[0].length - 1;
      }
    }
    out += piece;
    for (let k = 0; k < piece.length; k++) if (!isC0OrSpace(piece.charCodeAt(k))) seen++;
  }
  return out;
}

function schemeName(url: UrlClass): string {
  return url.kind === 'other' ? url.scheme : url.kind;
}

/**
 * The URL-field rule: null when the value may stand in a URL-valued field (an
 * Editor.js `url`, `link`, `src`, `file.url`, …): http(s), mailto, cid,
 * relative, or a data: URL of a PNG, GIF, JPEG or WebP image; otherwise why
 * not, as the end of a sentence. Judged as given and with character references
 * decoded; both must pass.
 */
export function urlValueProblem(raw: string): string | null {
  for (const value of new Set([urlHead(raw, false), urlHead(raw, true)])) {
    const url = classifyUrl(value);
    if (url.kind === 'other') {
      const scheme = schemeName(url);
      return scheme === 'data'
        ? 'is a data: URL; only PNG, GIF, JPEG and WebP images may be data: URLs'
        : `uses the ${scheme}: scheme; only http, https, mailto, cid and relative URLs are allowed`;
    }
  }
  return null;
}

/**
 * The same rule for a string under any key: a value that *is* a script or
 * non-image data URL (`javascript:…`, `JaVa&#x09;Script:…`) is refused
 * wherever it sits, since a client may use any field as a link. Text that
 * merely starts with another word and a colon ("Note: …") is left alone.
 */
export function scriptUrlProblem(raw: string): string | null {
  for (const value of new Set([urlHead(raw, false), urlHead(raw, true)])) {
    const url = classifyUrl(value);
    if (url.kind === 'other' && SCRIPT_SCHEMES.has(url.scheme)) return urlValueProblem(value);
  }
  return null;
}
