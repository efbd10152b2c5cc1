// Test helper: checks that sanitized HTML is inert, independently of the
// sanitizer's own allow-lists (these sets are written out again on purpose).

import { parseDocument } from 'htmlparser2';
import type { ChildNode, Element } from 'domhandler';

const TAGS = new Set([
  'a', 'abbr', 'address', 'b', 'bdi', 'bdo', 'blockquote', 'br', 'caption', 'cite', 'code', 'col',
  'colgroup', 'dd', 'del', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'h1', 'h2',
  'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'mark', 'ol', 'p', 'pre', 'q',
  's', 'samp', 'small', 'span', 'strike', 'strong', 'sub', 'sup', 'table', 'tbody', 'td',
  'tfoot', 'th', 'thead', 'tr', 'tt', 'u', 'ul', 'var', 'wbr',
]);
const ATTRS = new Set([
  'dir', 'lang', 'title', 'style', 'align', 'href', 'target', 'rel', 'src', 'alt', 'width',
  'height', 'data-remote-src', 'data-cid', 'referrerpolicy', 'loading', 'border', 'cellpadding',
  'cellspacing', 'bgcolor', 'valign', 'colspan', 'rowspan', 'span', 'start', 'type', 'reversed', 'value',
]);
const DANGEROUS_MARKUP = /<\s*\/?\s*(?:script|style|iframe|frame|object|embed|applet|svg|math|base|meta|link|form|input|button|noscript|template|textarea|select|xmp|plaintext|isindex)\b/i;
const BAD_CSS = /url\s*\(|expression|behavior|binding|javascript|@import|\\/i;
const DATA_IMAGE = /^data:image\/(?:png|jpeg|gif|webp)[;,]/i;

export interface InertOptions {
  /** URLs a cid: image may legitimately point to. */
  cidTargets?: ReadonlySet<string>;
  allowRemoteImages?: boolean;
}

function scheme(url: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url.replace(/[\u0000-\u0020]/g, ''));
  return m?.[1]?.toLowerCase() ?? null;
}

function elements(nodes: readonly ChildNode[]): Element[] {
  const out: Element[] = [];
  const stack = [...nodes];
  while (stack.length > 0) {
    const n = stack.pop() as ChildNode;
    if (n.type === 'tag' || n.type === 'script' || n.type === 'style') {
      out.push(n);
      stack.push(...n.children);
    }
  }
  return out;
}

/** Every reason the HTML is not inert; empty when it is. */
export function inertProblems(html: string, opts: InertOptions = {}): string[] {
  const problems: string[] = [];
  if (DANGEROUS_MARKUP.test(html)) problems.push(`dangerous markup: ${DANGEROUS_MARKUP.exec(html)?.[0]}`);
  if (html.includes('<!--')) problems.push('comment left in output');
  const doc = parseDocument(html);
  for (const node of doc.children) if (node.type !== 'tag' && node.type !== 'text') problems.push(`node type ${node.type}`);
  for (const el of elements(doc.children)) {
    if (!TAGS.has(el.name)) problems.push(`element <${el.name}>`);
    for (const [name, value] of Object.entries(el.attribs)) {
      if (/^on/i.test(name)) problems.push(`event handler ${name}`);
      if (!ATTRS.has(name)) problems.push(`attribute ${name} on <${el.name}>`);
      if (name === 'style' && BAD_CSS.test(value)) problems.push(`style ${value}`);
      if (name === 'href') {
        const s = scheme(value);
        if (s === null || !['http', 'https', 'mailto'].includes(s)) problems.push(`href ${value}`);
        if (el.attribs.rel !== 'noopener noreferrer nofollow' || el.attribs.target !== '_blank') {
          problems.push(`link without rel/target: ${value}`);
        }
      }
      if (name === 'src') {
        const s = scheme(value);
        const remoteOk = opts.allowRemoteImages === true && (s === 'http' || s === 'https');
        if (!(opts.cidTargets?.has(value) ?? false) && !DATA_IMAGE.test(value) && !remoteOk) problems.push(`src ${value}`);
      }
      if (name === 'data-remote-src' && !['http', 'https'].includes(scheme(value) ?? '')) {
        problems.push(`data-remote-src ${value}`);
      }
    }
  }
  return problems;
}
