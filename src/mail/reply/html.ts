// Reply extraction on HTML: mail clients mark quoted history in their HTML
// far more reliably than in the text it renders to (Gmail's `gmail_quote`,
// Apple's `blockquote type=cite`, Outlook's `divRplyFwdMsg` and bordered
// "From:" block, Yahoo, Proton, Thunderbird, Zimbra). This module turns those
// marks into ordinary `<blockquote>`s, drops client signature blocks, and
// renders the result to text where quoted lines start with "> ", so the
// plain-text rules (text.ts) make the final decision for both kinds of mail.
// The DOM is walked iteratively, with depth and node caps, so hostile nesting
// cannot exhaust the stack in the parser, the serializer or html-to-text.

import { compile } from 'html-to-text';
import type { HtmlToTextOptions } from 'html-to-text';
import { DomUtils, parseDocument } from 'htmlparser2';
import { Element, Text } from 'domhandler';
import type { AnyNode, ChildNode, Document, ParentNode } from 'domhandler';
import type { ReplyLimits } from './limits.js';

/** Hard ceiling on nesting, whatever the configured limit: the serializer recurses. */
const ABSOLUTE_MAX_DEPTH = 512;

const DROPPED_TAGS = new Set(['script', 'style', 'head', 'title', 'template', 'noscript', 'iframe', 'object', 'svg']);

/** Client signature blocks (class tokens / ids, lower-case). */
const SIGNATURE_CLASSES = new Set([
  'gmail_signature', 'gmail_signature_prefix', 'moz-signature', 'protonmail_signature_block',
  'protonmail_signature_block-user', 'protonmail_signature_block-proton',
]);
const SIGNATURE_IDS = new Set(['signature', 'applemailsignature', 'x_signature']);

/** Containers that hold quoted history (class tokens, lower-case). */
const QUOTE_CLASSES = new Set([
  'gmail_quote', 'gmail_quote_container', 'gmail_extra', 'protonmail_quote', 'yahoo_quoted',
  'zmail_extra', 'tutanota_quote',
]);

const BASE_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  limits: { maxDepth: ABSOLUTE_MAX_DEPTH + 16, ellipsis: '' },
  selectors: [
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
    // Word's paragraphs have no margins: one line each, empty ones (&nbsp;) make the gaps.
    { selector: 'p.MsoNormal', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'table', format: 'block' },
    { selector: 'tr', format: 'block' },
    { selector: 'td', format: 'inline' },
    { selector: 'th', format: 'inline' },
  ],
};

/** Quotes rendered as "> " lines, for the reply rules. */
const toMarkedText = compile(BASE_OPTIONS);
/** Quotes rendered as plain blocks, for showing a whole mail (forwards). */
const toPlainText = compile({
  ...BASE_OPTIONS,
  selectors: [...(BASE_OPTIONS.selectors ?? []), { selector: 'blockquote', format: 'block' }],
});

function classTokens(el: Element): string[] {
  const cls = el.attribs['class'];
  return cls ? cls.toLowerCase().split(/\s+/).filter((t) => t.length > 0) : [];
}

function isSignature(el: Element, tokens: readonly string[]): boolean {
  const id = (el.attribs['id'] ?? '').toLowerCase();
  return SIGNATURE_IDS.has(id) || tokens.some((t) => SIGNATURE_CLASSES.has(t)) || el.attribs['data-smartmail'] === 'gmail_signature';
}

function isQuote(el: Element, tokens: readonly string[]): boolean {
  // Yahoo prefixes its classes per message: "ydp3f2a1b9yahoo_quoted".
  return tokens.some((t) => QUOTE_CLASSES.has(t) || t.endsWith('yahoo_quoted'));
}

/** Elements after which everything in document order is quoted history (Outlook, Zimbra). */
function startsHistory(el: Element, tokens: readonly string[]): boolean {
  const id = (el.attribs['id'] ?? '').toLowerCase();
  if (id.includes('divrplyfwdmsg') || id.includes('appendonsend') || id === 'olk_src_body_section') return true;
  if (tokens.includes('outlookmessageheader')) return true;
  if (el.name === 'hr' && id === 'zwchr') return true;
  if (el.name === 'div') {
    const style = (el.attribs['style'] ?? '').toLowerCase().replace(/\s+/g, '');
    if (style.includes('border:none') && (style.includes('border-top:solid#e1e1e1') || style.includes('border-top:solid#b5c4df'))) {
      return true;
    }
  }
  return false;
}

/** Text of a subtree, gathered without recursion and capped at `max` characters. */
function flatText(root: Element, max: number): string {
  const parts: string[] = [];
  let size = 0;
  const stack: AnyNode[] = [root];
  while (stack.length > 0 && size < max) {
    const node = stack.pop() as AnyNode;
    if (node instanceof Text) {
      parts.push(node.data);
      size += node.data.length;
    } else if (node instanceof Element) {
      if (DROPPED_TAGS.has(node.name)) continue;
      if (node.name === 'br' || node.name === 'p' || node.name === 'div') parts.push('\n');
      for (let k = node.children.length - 1; k >= 0; k--) stack.push(node.children[k] as AnyNode);
    }
  }
  return parts.join('').slice(0, max);
}

/** Move `from` and everything after it (in document order) into blockquotes. */
function quoteFollowing(from: ChildNode): void {
  let node: ChildNode | ParentNode = from;
  let inclusive = true;
  while (node.parent) {
    const parent: ParentNode = node.parent;
    const idx = parent.children.indexOf(node as ChildNode);
    const moved = parent.children.slice(inclusive ? idx : idx + 1);
    if (moved.length > 0) {
      const bq = new Element('blockquote', {});
      for (const m of moved) {
        DomUtils.removeElement(m);
        DomUtils.appendChild(bq, m);
      }
      DomUtils.appendChild(parent, bq);
    }
    node = parent;
    inclusive = false;
  }
}

export interface HtmlRendering {
  /** Text with quoted history as "> " lines. */
  marked: string;
  /** The whole mail as text, quotes unmarked. */
  plain: () => string;
}

/** Parse, bound and annotate the HTML; render it for the reply rules. */
export function renderHtml(html: string, limits: ReplyLimits): HtmlRendering {
  const source = html.length > limits.maxHtmlChars ? html.slice(0, limits.maxHtmlChars) : html;
  const doc: Document = parseDocument(source);
  const maxDepth = Math.min(limits.maxHtmlDepth, ABSOLUTE_MAX_DEPTH);

  const drop: ChildNode[] = [];
  const quotes: Element[] = [];
  let historyStart: Element | null = null;
  let count = 0;
  const stack: { node: ChildNode; depth: number }[] = [];
  for (let k = doc.children.length - 1; k >= 0; k--) stack.push({ node: doc.children[k] as ChildNode, depth: 1 });
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: ChildNode; depth: number };
    if (++count > limits.maxHtmlNodes) {
      drop.push(node);
      continue;
    }
    if (!(node instanceof Element)) continue;
    if (DROPPED_TAGS.has(node.name)) {
      drop.push(node);
      continue;
    }
    const tokens = classTokens(node);
    if (isSignature(node, tokens)) {
      drop.push(node);
      continue;
    }
    if (isQuote(node, tokens)) quotes.push(node);
    if (historyStart === null && startsHistory(node, tokens)) historyStart = node;
    if (depth >= maxDepth) {
      // Too deep: keep the words, lose the structure.
      const text = new Text(flatText(node, limits.maxHtmlChars));
      for (const child of [...node.children]) DomUtils.removeElement(child);
      DomUtils.appendChild(node, text);
      continue;
    }
    for (let k = node.children.length - 1; k >= 0; k--) {
      stack.push({ node: node.children[k] as ChildNode, depth: depth + 1 });
    }
  }
  for (const node of drop) DomUtils.removeElement(node);

  const plainHtml = DomUtils.getOuterHTML(doc);
  for (const el of quotes) el.name = 'blockquote';
  if (historyStart !== null) quoteFollowing(historyStart);
  const markedHtml = DomUtils.getOuterHTML(doc);
  return {
    marked: toMarkedText(markedHtml),
    plain: () => toPlainText(plainHtml),
  };
}
