// Turns a mail's HTML body into HTML that is inert when shown to an agent:
// nothing runs (no script, event handler, `javascript:` URL, form, frame,
// plugin or SVG/MathML), nothing is fetched by default (remote images are
// parked in `data-remote-src`; `cid:` images point at their attachment),
// links open in a new tab without a referrer, and what the sender hid
// (`hidden`, inline `display:none`) stays hidden by being left out.
// sanitize-html does the allow-listing; this module decides the policy and
// keeps hostile input bounded (input cap, nesting cap, attribute size cap).

import sanitizeHtml from 'sanitize-html';
import { Parser } from 'htmlparser2';
import { MailroomError } from '../../errors.js';
import { ALLOWED_STYLES, isHiddenElement } from './css.js';
import { classifyUrl, linkUrl, type UrlClass } from './url.js';

export interface SanitizeMailHtmlOptions {
  /** Content-ID (without angle brackets, any case) → URL of the stored inline part. */
  cidUrls?: ReadonlyMap<string, string>;
  /** Load remote (http/https) images; off by default (tracking pixels, IP leaks). */
  allowRemoteImages?: boolean;
  /** Input longer than this is cut (at a tag boundary) before parsing. Default 2,000,000. */
  maxInputChars?: number;
  /** Elements nested deeper than this are unwrapped (their text kept). Default 100. */
  maxDepth?: number;
}

export const SANITIZE_DEFAULTS = {
  maxInputChars: 2_000_000,
  maxDepth: 100,
} as const;

/** Parser stack depth beyond which the rest of the input is flattened to text (see `preparse`). */
const PARSER_DEPTH_GUARD = 256;
/** Attribute values longer than this are dropped (except image data URLs). */
const MAX_ATTR_CHARS = 2048;
const MAX_DATA_IMAGE_CHARS = 1_500_000;

export const ALLOWED_TAGS: readonly string[] = [
  'a', 'abbr', 'address', 'b', 'bdi', 'bdo', 'blockquote', 'br', 'caption', 'cite', 'code', 'col',
  'colgroup', 'dd', 'del', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'h1', 'h2',
  'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'mark', 'ol', 'p', 'pre', 'q',
  's', 'samp', 'small', 'span', 'strike', 'strong', 'sub', 'sup', 'table', 'tbody', 'td',
  'tfoot', 'th', 'thead', 'tr', 'tt', 'u', 'ul', 'var', 'wbr',
];

/** Disallowed elements whose whole content is dropped too (code, CSS, fallback and foreign content). */
const DROP_WITH_CONTENT = [
  'script', 'style', 'textarea', 'option', 'select', 'noscript', 'noembed', 'noframes',
  'template', 'title', 'xmp', 'iframe', 'object', 'embed', 'applet', 'svg', 'math',
  'frameset', 'frame', 'audio', 'video', 'canvas', 'datalist',
];

const CELL_ATTRS = ['colspan', 'rowspan', 'width', 'height', 'valign', 'bgcolor'];
const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  '*': ['dir', 'lang', 'title', 'style', 'align'],
  a: ['href', 'target', 'rel'],
  img: ['src', 'alt', 'width', 'height', 'data-remote-src', 'data-cid', 'referrerpolicy', 'loading'],
  table: ['width', 'border', 'cellpadding', 'cellspacing', 'bgcolor'],
  tr: ['valign', 'bgcolor'],
  td: CELL_ATTRS,
  th: CELL_ATTRS,
  col: ['span', 'width'],
  colgroup: ['span', 'width'],
  ol: ['start', 'type', 'reversed'],
  ul: ['type'],
  li: ['value'],
};

const RENAME: Record<string, string> = { font: 'span', center: 'div', big: 'span' };

export const LINK_REL = 'noopener noreferrer nofollow';

interface Policy {
  cid: ReadonlyMap<string, string>;
  /** The cid targets themselves: an image already pointing at one stays (sanitizing twice is a no-op). */
  cidTargets: ReadonlySet<string>;
  allowRemoteImages: boolean;
}

function lowerCaseCidMap(cidUrls: ReadonlyMap<string, string> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, url] of cidUrls ?? []) {
    out.set(id.replace(/^<|>$/g, '').toLowerCase(), url);
  }
  return out;
}

function imageAttributes(attribs: sanitizeHtml.Attributes, policy: Policy): sanitizeHtml.Attributes {
  const out: sanitizeHtml.Attributes = {};
  for (const key of ['alt', 'title', 'width', 'height', 'align', 'style', 'dir', 'lang']) {
    const value = attribs[key];
    if (value !== undefined) out[key] = value;
  }
  // A parked source (our own earlier output) counts as the source, so sanitizing twice changes nothing.
  const src = attribs.src ?? attribs['data-remote-src'];
  const parkedCid = attribs['data-cid'];
  let url: UrlClass;
  if (src !== undefined) url = classifyUrl(src);
  else if (parkedCid !== undefined && parkedCid !== '') url = { kind: 'cid', id: parkedCid };
  else return out;
  if (src !== undefined && policy.cidTargets.has(src)) {
    out.src = src;
    return out;
  }
  switch (url.kind) {
    case 'http':
      if (policy.allowRemoteImages) {
        out.src = url.url;
        out.referrerpolicy = 'no-referrer';
        out.loading = 'lazy';
      } else {
        out['data-remote-src'] = url.url;
      }
      break;
    case 'cid': {
      const mapped = policy.cid.get(url.id.toLowerCase());
      if (mapped !== undefined) out.src = mapped;
      else out['data-cid'] = url.id;
      break;
    }
    case 'data-image':
      if (url.url.length <= MAX_DATA_IMAGE_CHARS) out.src = url.url;
      break;
    default:
      break; // relative, javascript:, data:text/html, …: no source at all
  }
  return out;
}

function linkAttributes(attribs: sanitizeHtml.Attributes): sanitizeHtml.Attributes {
  const out: sanitizeHtml.Attributes = {};
  for (const key of ['title', 'style', 'dir', 'lang']) {
    const value = attribs[key];
    if (value !== undefined) out[key] = value;
  }
  const href = attribs.href;
  if (href === undefined) return out;
  const url = linkUrl(href);
  if (url !== null) {
    out.href = url;
    out.rel = LINK_REL;
    out.target = '_blank';
  }
  return out;
}

function dropHugeAttributes(tag: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Attributes {
  const out: sanitizeHtml.Attributes = {};
  for (const [key, value] of Object.entries(attribs)) {
    if (value.length <= MAX_ATTR_CHARS || (tag === 'img' && key === 'src')) out[key] = value;
  }
  return out;
}

function transformer(policy: Policy): sanitizeHtml.Transformer {
  return (name, attribs) => {
    const tagName = RENAME[name] ?? name;
    let out = dropHugeAttributes(name, attribs);
    if (tagName === 'img') out = imageAttributes(out, policy);
    else if (tagName === 'a') out = linkAttributes(out);
    return { tagName, attribs: out };
  };
}

/** Cuts the input to `max` chars without splitting a surrogate pair or leaving a half tag. */
export function truncateHtml(html: string, max: number): string {
  if (html.length <= max) return html;
  let cut = max;
  const code = html.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  const head = html.slice(0, cut);
  const lastOpen = head.lastIndexOf('<');
  if (lastOpen !== -1 && head.indexOf('>', lastOpen) === -1) return head.slice(0, lastOpen);
  return head;
}

/** Joins the input without the cut ranges (sorted, not overlapping). */
function withoutRanges(html: string, cuts: readonly [number, number][]): string {
  if (cuts.length === 0) return html;
  const parts: string[] = [];
  let last = 0;
  for (const [start, end] of cuts) {
    parts.push(html.slice(last, start));
    last = end;
  }
  parts.push(html.slice(last));
  return parts.join('');
}

/**
 * One parser pass before sanitize-html, for what it cannot do cheaply:
 *
 * - Nesting. htmlparser2 looks up every closing tag in its open-element
 *   stack, so a deep stack plus many unmatched closing tags costs depth ×
 *   tags. The pass stops at the first element that would nest deeper than
 *   PARSER_DEPTH_GUARD (cost ≤ guard × tags); from there on, the markup is
 *   stripped and only the text is kept, so the real pass stays linear too.
 * - Hidden content. Each element the sender hid (`isHiddenElement`) is cut
 *   out of the input with its content: `display` is not an allowed style, and
 *   sanitize-html's exclusiveFilter re-copies the output for every element it
 *   drops, which is quadratic on a body of many hidden elements.
 */
function preparse(html: string): string {
  const cuts: [number, number][] = [];
  let depth = 0;
  /** Depth of the outermost open hidden element; 0 when none is open. */
  let hiddenDepth = 0;
  let hiddenStart = 0;
  let ending = false;
  /** Where the parse stopped for nesting too deep (the throw below only unwinds htmlparser2's callbacks). */
  let stoppedAt = -1;
  const parser: Parser = new Parser({
    onopentag(_name, attribs) {
      depth++;
      if (depth > PARSER_DEPTH_GUARD) {
        stoppedAt = parser.startIndex;
        throw new MailroomError('MAIL_LIMIT_EXCEEDED', 'HTML nested too deep');
      }
      if (hiddenDepth === 0 && isHiddenElement(attribs)) {
        hiddenDepth = depth;
        hiddenStart = parser.startIndex;
      }
    },
    onclosetag(_name, isImplied) {
      if (hiddenDepth !== 0 && depth === hiddenDepth) {
        // Closed by its own end tag: cut through it. Implied by the next tag: cut up to that tag.
        // A void or self-closed element is closed at its own tag, where startIndex is still its start.
        // The end tag's own '>' (htmlparser2's endIndex can stop at the name in `</div >` or `</div\n>`).
        const tagEnd = (): number => {
          const gt = html.indexOf('>', parser.endIndex);
          return gt < 0 ? html.length : gt + 1;
        };
        let end = ending ? html.length : isImplied ? parser.startIndex : tagEnd();
        if (end <= hiddenStart) end = tagEnd();
        cuts.push([hiddenStart, end]);
        hiddenDepth = 0;
      }
      depth--;
    },
  });
  try {
    parser.write(html);
    ending = true;
    parser.end();
    return withoutRanges(html, cuts);
  } catch (err) {
    if (stoppedAt < 0) throw err;
    if (hiddenDepth !== 0) cuts.push([hiddenStart, stoppedAt]);
    const rest = html.slice(stoppedAt).replace(/<[^<>]*>/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return withoutRanges(html.slice(0, stoppedAt), cuts) + rest;
  }
}

/** Sanitizes a mail's HTML body for display: see the module comment for the policy. */
export function sanitizeMailHtml(html: string, opts: SanitizeMailHtmlOptions = {}): string {
  const maxInputChars = opts.maxInputChars ?? SANITIZE_DEFAULTS.maxInputChars;
  const cid = lowerCaseCidMap(opts.cidUrls);
  const policy: Policy = {
    cid,
    cidTargets: new Set(cid.values()),
    allowRemoteImages: opts.allowRemoteImages ?? false,
  };
  const input = preparse(truncateHtml(html, Math.max(0, maxInputChars)));
  const out = sanitizeHtml(input, {
    allowedTags: [...ALLOWED_TAGS],
    allowedAttributes: ALLOWED_ATTRIBUTES,
    allowedStyles: { '*': ALLOWED_STYLES },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    nonTextTags: DROP_WITH_CONTENT,
    nestingLimit: opts.maxDepth ?? SANITIZE_DEFAULTS.maxDepth,
    selfClosing: ['img', 'br', 'hr', 'wbr', 'col'],
    transformTags: { '*': transformer(policy) },
    // An image left with no source at all (javascript:, unknown scheme) shows nothing: drop it.
    exclusiveFilter: (frame) =>
      frame.tag === 'img' &&
      frame.attribs.src === undefined &&
      frame.attribs['data-remote-src'] === undefined &&
      frame.attribs['data-cid'] === undefined,
    parseStyleAttributes: true,
  });
  return out.trim();
}
