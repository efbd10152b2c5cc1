// Reply extraction on HTML: mail clients mark quoted history in their HTML
// far more reliably than in the text it renders to (Gmail's `gmail_quote`,
// Apple's `blockquote type=cite`, Outlook's `divRplyFwdMsg` and bordered
// "From:" block, Yahoo, Proton, Thunderbird, Zimbra). This module turns those
// marks into ordinary `<blockquote>`s, drops client signature blocks, and
// renders the result to text where quoted lines start with "> ", so the
// plain-text rules (text.ts) make the final decision for both kinds of mail.
// The same bounded rendering, without the reply marks, gives the text of a
// mail that has only HTML (`htmlBodyText`, used by parse.ts).
// The DOM is walked iteratively, with depth and node caps, so hostile nesting
// cannot exhaust the stack in the parser, the serializer or html-to-text, and
// every change to it (dropping, flattening, wrapping history) rebuilds a
// parent's children once: removing nodes one by one costs a splice each, which
// is quadratic on a body of 100,000 sibling `<br>`s. Content the reader never
// sees (`display:none` preheaders, `hidden`) is dropped like scripts, and a
// link the sanitizer would strip loses its href, so the extracted text and the
// preview never show a `javascript:` URL the HTML no longer has.

import { compile } from 'html-to-text';
import type { HtmlToTextOptions } from 'html-to-text';
import { DomUtils, Parser } from 'htmlparser2';
import { DomHandler, Element, Text } from 'domhandler';
import type { AnyNode, ChildNode, Document, ParentNode } from 'domhandler';
import { isHiddenElement } from '../rich/css.js';
import { linkUrl } from '../rich/url.js';
import { detach, rewriteFollowing, setChildren } from './dom.js';
import { findInlineAnswers, quoteFollowingExcept, replyStyleColour } from './inline-answers.js';
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

/**
 * Containers that hold quoted history (class tokens, lower-case): the
 * attribution line and the quote. A container whose own children answer
 * between or after its blockquotes (Gmail's inline replies) is not one: see
 * `answersInline`. Gmail's older `gmail_extra` is absent on purpose: it wraps
 * the signature, text typed below it and the `gmail_quote`, and only that
 * inner `gmail_quote` is history.
 */
const QUOTE_CLASSES = new Set([
  'gmail_quote', 'gmail_quote_container', 'protonmail_quote', 'yahoo_quoted',
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

function isQuoteContainer(tokens: readonly string[]): boolean {
  // Yahoo prefixes its classes per message: "ydp3f2a1b9yahoo_quoted".
  return tokens.some((t) => QUOTE_CLASSES.has(t) || t.endsWith('yahoo_quoted'));
}

function isHidden(el: Element): boolean {
  return isHiddenElement(el.attribs);
}

/** Counts nodes looked at by `answersInline`, so nested containers cannot make it quadratic. */
interface Budget {
  left: number;
}

/** True when the subtree shows any non-blank text; false too when the budget runs out. */
function showsText(root: ChildNode, budget: Budget): boolean {
  const stack: ChildNode[] = [root];
  while (stack.length > 0 && budget.left-- > 0) {
    const node = stack.pop() as ChildNode;
    if (node instanceof Text) {
      if (/\S/.test(node.data)) return true;
    } else if (node instanceof Element && !DROPPED_TAGS.has(node.name) && !isHidden(node)) {
      for (const child of node.children) stack.push(child);
    }
  }
  return false;
}

/**
 * Gmail keeps inline answers inside its quote container: attribution, a
 * blockquote, the answer, the next blockquote, the next answer. Such a
 * container is not history as a whole; only its blockquotes are quotes, and
 * the attribution is left to the plain-text rules.
 */
function answersInline(container: Element, budget: Budget): boolean {
  let quoted = false;
  for (const child of container.children) {
    if (child instanceof Element && child.name === 'blockquote') quoted = true;
    else if (quoted && showsText(child, budget)) return true;
  }
  return false;
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

/**
 * Builds the DOM and stops the parser once it has made `maxNodes` nodes, so a
 * megabyte of `<br>` is not turned into 250,000 elements only to be cut.
 */
class CappedDomHandler extends DomHandler {
  private made = 0;
  capped = false;

  constructor(
    private readonly maxNodes: number,
    private readonly stop: () => void,
  ) {
    super();
  }

  protected override addNode(node: ChildNode): void {
    super.addNode(node);
    if (++this.made >= this.maxNodes && !this.capped) {
      this.capped = true;
      this.stop();
    }
  }
}

function parseCapped(source: string, maxNodes: number): { doc: Document; capped: boolean } {
  let parser: Parser | null = null;
  const handler = new CappedDomHandler(maxNodes, () => parser?.pause());
  parser = new Parser(handler);
  parser.end(source);
  return { doc: handler.root, capped: handler.capped };
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
      if (DROPPED_TAGS.has(node.name) || isHidden(node)) continue;
      if (node.name === 'br' || node.name === 'p' || node.name === 'div') parts.push('\n');
      for (let k = node.children.length - 1; k >= 0; k--) stack.push(node.children[k] as AnyNode);
    }
  }
  return parts.join('').slice(0, max);
}

/** Removes the nodes from the tree, rebuilding each affected parent's children once. */
function removeAll(nodes: readonly ChildNode[]): void {
  if (nodes.length === 0) return;
  const doomed = new Set(nodes);
  const parents = new Set<ParentNode>();
  for (const node of nodes) if (node.parent !== null) parents.add(node.parent);
  for (const parent of parents) setChildren(parent, parent.children.filter((c) => !doomed.has(c)));
  for (const node of nodes) detach(node);
}

/** Move `from` and everything after it (in document order) into blockquotes, one slice per ancestor. */
function quoteFollowing(from: ChildNode): void {
  rewriteFollowing(from, (slice) => {
    const bq = new Element('blockquote', {});
    setChildren(bq, slice);
    return [bq];
  });
}

export interface HtmlRendering {
  /** Text with quoted history as "> " lines. */
  marked: string;
  /** The whole mail as text, quotes unmarked. */
  plain: () => string;
}

interface BoundedDocument {
  doc: Document;
  /** Quote containers to turn into blockquotes (reply mode only). */
  quotes: Element[];
  /** The element where Outlook-style history starts (reply mode only). */
  historyStart: Element | null;
  /** True when elements beyond the node cap were cut. */
  truncated: boolean;
}

/**
 * Parses the HTML and bounds it: invisible content dropped, elements beyond
 * the node cap cut, nesting beyond the depth cap flattened to text. In reply
 * mode it also drops client signatures and finds the quote marks.
 */
function boundDocument(html: string, limits: ReplyLimits, reply: boolean): BoundedDocument {
  const source = html.length > limits.maxHtmlChars ? html.slice(0, limits.maxHtmlChars) : html;
  // Twice the walk's cap: nodes inside dropped elements are made by the parser but not counted below.
  const parsed = parseCapped(source, 2 * limits.maxHtmlNodes);
  const doc = parsed.doc;
  const maxDepth = Math.min(limits.maxHtmlDepth, ABSOLUTE_MAX_DEPTH);
  const budget: Budget = { left: limits.maxHtmlNodes };

  const drop: ChildNode[] = [];
  const quotes: Element[] = [];
  let historyStart: Element | null = null;
  let truncated = parsed.capped;
  let count = 0;
  const stack: { node: ChildNode; depth: number }[] = [];
  for (let k = doc.children.length - 1; k >= 0; k--) stack.push({ node: doc.children[k] as ChildNode, depth: 1 });
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: ChildNode; depth: number };
    if (++count > limits.maxHtmlNodes) {
      // The rest of the document: this node and every later sibling of it and of its ancestors.
      truncated = true;
      drop.push(node);
      for (const rest of stack) drop.push(rest.node);
      break;
    }
    if (!(node instanceof Element)) continue;
    if (DROPPED_TAGS.has(node.name) || isHidden(node)) {
      drop.push(node);
      continue;
    }
    // The sanitizer's link rule: a href it would remove (javascript:, data:, cid:) must not come back as text.
    if (node.name === 'a' && node.attribs.href !== undefined && linkUrl(node.attribs.href) === null) delete node.attribs.href;
    if (reply) {
      const tokens = classTokens(node);
      if (isSignature(node, tokens)) {
        drop.push(node);
        continue;
      }
      if (node.name !== 'blockquote' && isQuoteContainer(tokens) && !answersInline(node, budget)) quotes.push(node);
      if (historyStart === null && startsHistory(node, tokens)) historyStart = node;
    }
    if (depth >= maxDepth) {
      // Too deep: keep the words, lose the structure.
      const text = new Text(flatText(node, limits.maxHtmlChars));
      for (const child of node.children) detach(child);
      setChildren(node, [text]);
      continue;
    }
    for (let k = node.children.length - 1; k >= 0; k--) {
      stack.push({ node: node.children[k] as ChildNode, depth: depth + 1 });
    }
  }
  removeAll(drop);
  return { doc, quotes, historyStart, truncated };
}

/** `<hr>` siblings right after `el` (blank text between them skipped). */
function rulesAfter(el: Element): Element[] {
  const out: Element[] = [];
  for (let s = el.next; s !== null; s = s.next) {
    if (s instanceof Text && !/\S/.test(s.data)) continue;
    if (!(s instanceof Element) || s.name !== 'hr') break;
    out.push(s);
  }
  return out;
}

/** Parse, bound and annotate the HTML; render it for the reply rules. */
export function renderHtml(html: string, limits: ReplyLimits): HtmlRendering {
  const { doc, quotes, historyStart } = boundDocument(html, limits, true);
  const plainHtml = DomUtils.getOuterHTML(doc);
  const annotated = quotes.length > 0 || historyStart !== null;
  for (const el of quotes) el.name = 'blockquote';
  if (historyStart !== null) {
    // Outlook answers typed between the quoted paragraphs stay unquoted.
    const isMark = (el: Element): boolean => el !== historyStart && startsHistory(el, classTokens(el));
    const styleColour = replyStyleColour(html.length > limits.maxHtmlChars ? html.slice(0, limits.maxHtmlChars) : html);
    const { answers, header } = findInlineAnswers(doc, historyStart, isMark, { left: limits.maxHtmlNodes }, styleColour);
    if (answers.size > 0) {
      // The header block goes, like an "On … wrote:" line, with the rule above
      // it (new Outlook's <hr>, Zimbra's is the history start: kept in place,
      // emptied); the questions stay as quotes.
      removeAll([...header.filter((el) => el !== historyStart), ...rulesAfter(historyStart)]);
      if (historyStart.name === 'hr') historyStart.name = 'div';
      quoteFollowingExcept(historyStart, answers);
    } else {
      quoteFollowing(historyStart);
    }
  }
  const markedHtml = annotated ? DomUtils.getOuterHTML(doc) : plainHtml;
  return {
    marked: toMarkedText(markedHtml),
    plain: () => toPlainText(plainHtml),
  };
}

/**
 * The text of an HTML body, as a text/plain part would carry it: everything
 * visible, signatures included, the sender's own blockquotes as "> " lines,
 * no line wrapping. Bounded like `renderHtml`; `truncated` when elements
 * beyond the node cap were cut.
 */
export function htmlBodyText(html: string, limits: ReplyLimits): { text: string; truncated: boolean } {
  const { doc, truncated } = boundDocument(html, limits, false);
  return { text: toMarkedText(DomUtils.getOuterHTML(doc)), truncated };
}
