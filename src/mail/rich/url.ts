// URL classification shared by the sanitizer, the Editor.js builder and the
// plain-text linkifier. Mail is hostile: `java&#x09;script:`, `JaVaScRiPt:`,
// leading control characters and protocol-relative `//host` must all be seen
// the way a browser sees them, so every check goes through `classifyUrl`.

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
