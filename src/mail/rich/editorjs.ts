// Builds Editor.js blocks from a mail's (already sanitized) HTML, so an agent
// can quote, edit or forward the content in the ticket editor. Mail HTML is
// mostly layout (nested tables, divs, Outlook's MsoNormal paragraphs); the
// walker flattens layout into paragraphs and maps real structure onto the
// standard block tools: paragraph, header, list (classic shape), quote, image,
// code, delimiter and table. Inline markup is reduced to what the paragraph
// tool accepts: <b>, <i>, <a href>, <br>. Depth and block count are capped.

import { parseDocument } from 'htmlparser2';
import type { ChildNode, Element } from 'domhandler';
import { DEFAULT_MAX_BLOCKS, isBlankInline, toEditorJsDocument, trimInline, type RawBlock } from './blocks.js';
import { classifyUrl, escapeHtml, linkUrl, normalizeUrl } from './url.js';
import type { DTO_editorjs } from './types.js';

export interface EditorJsOptions {
  /** Document `time` in ms (default EDITORJS_DEFAULT_TIME). */
  time?: number;
  /** At most this many blocks (default 500); the rest of the content is left out. */
  maxBlocks?: number;
  /** Elements nested deeper than this contribute only their text (default 64). */
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 64;
const MAX_LIST_ITEMS = 1000;
const MAX_TABLE_CELLS = 2000;

const CONTAINERS = new Set([
  'html', 'body', 'p', 'div', 'section', 'article', 'header', 'footer', 'main', 'aside', 'nav',
  'address', 'figure', 'figcaption', 'dl', 'dt', 'dd', 'center', 'caption', 'thead', 'tbody',
  'tfoot', 'tr', 'td', 'th', 'form', 'fieldset', 'details', 'summary', 'li',
]);
const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
/** Elements that break inline flow (used to separate text inside headers, quotes and items). */
const BLOCK_LIKE = new Set([...CONTAINERS, ...HEADINGS, 'ul', 'ol', 'blockquote', 'pre', 'hr', 'table']);
/** Elements that make a table a layout table rather than data. */
const NOT_IN_DATA_CELL = new Set([...HEADINGS, 'table', 'img', 'ul', 'ol', 'blockquote', 'pre', 'hr']);

const BOLD = new Set(['b', 'strong']);
const ITALIC = new Set(['i', 'em']);

function isElement(node: ChildNode): node is Element {
  return node.type === 'tag' || node.type === 'script' || node.type === 'style';
}

function collapse(text: string): string {
  return text.replace(/[ \t\n\r\f]+/g, ' ');
}

/** Text content with <br> as newlines; iterative, so depth does not matter. */
function textOf(node: ChildNode): string {
  let out = '';
  const stack: ChildNode[] = [node];
  while (stack.length > 0) {
    const n = stack.pop() as ChildNode;
    if (n.type === 'text') out += n.data;
    else if (isElement(n)) {
      if (n.name === 'br') out += '\n';
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i] as ChildNode);
    }
  }
  return out;
}

function safeHref(el: Element): string | null {
  const href = el.attribs.href;
  return href === undefined ? null : linkUrl(href);
}

/** Inline HTML of the node's children; block-level children are separated by <br>. */
function inlineHtml(children: readonly ChildNode[], depth: number, maxDepth: number): string {
  let out = '';
  for (const child of children) {
    if (child.type === 'text') {
      out += escapeHtml(collapse(child.data));
      continue;
    }
    if (!isElement(child)) continue;
    if (depth >= maxDepth) {
      out += escapeHtml(collapse(textOf(child)));
      continue;
    }
    const name = child.name;
    if (name === 'br') out += '<br>';
    else if (name === 'img') continue;
    else if (BOLD.has(name)) out += `<b>${inlineHtml(child.children, depth + 1, maxDepth)}</b>`;
    else if (ITALIC.has(name)) out += `<i>${inlineHtml(child.children, depth + 1, maxDepth)}</i>`;
    else if (name === 'a') {
      const href = safeHref(child);
      const inner = inlineHtml(child.children, depth + 1, maxDepth);
      out += href === null ? inner : `<a href="${escapeHtml(href)}">${inner}</a>`;
    } else if (BLOCK_LIKE.has(name)) {
      const inner = trimInline(inlineHtml(child.children, depth + 1, maxDepth));
      if (inner !== '') out += `<br>${inner}<br>`;
    } else out += inlineHtml(child.children, depth + 1, maxDepth);
  }
  return out;
}

/** Inline HTML for a block's text: trimmed and with runs of <br> reduced to one. */
function blockText(children: readonly ChildNode[], maxDepth: number): string {
  return trimInline(inlineHtml(children, 0, maxDepth).replace(/(?:<br> ?){2,}/g, '<br>'));
}

function tableRows(table: Element): Element[] {
  const rows: Element[] = [];
  for (const child of table.children) {
    if (!isElement(child)) continue;
    if (child.name === 'tr') rows.push(child);
    else if (child.name === 'thead' || child.name === 'tbody' || child.name === 'tfoot') {
      for (const row of child.children) if (isElement(row) && row.name === 'tr') rows.push(row);
    }
  }
  return rows;
}

function cellsOf(row: Element): Element[] {
  return row.children.filter((c): c is Element => isElement(c) && (c.name === 'td' || c.name === 'th'));
}

function hasDescendant(node: Element, names: ReadonlySet<string>): boolean {
  const stack: ChildNode[] = [...node.children];
  while (stack.length > 0) {
    const n = stack.pop() as ChildNode;
    if (!isElement(n)) continue;
    if (names.has(n.name)) return true;
    for (const c of n.children) stack.push(c);
  }
  return false;
}

/** A data table has at least 2×2 cells, none holding layout (nested tables, images, blocks). */
function dataTable(table: Element, maxDepth: number): RawBlock | null {
  const rows = tableRows(table).map(cellsOf).filter((cells) => cells.length > 0);
  const width = Math.max(0, ...rows.map((cells) => cells.length));
  if (rows.length < 2 || width < 2 || rows.length * width > MAX_TABLE_CELLS) return null;
  if (rows.some((cells) => cells.some((cell) => hasDescendant(cell, NOT_IN_DATA_CELL)))) return null;
  const content = rows.map((cells) => {
    const texts = cells.map((cell) => blockText(cell.children, maxDepth));
    while (texts.length < width) texts.push('');
    return texts;
  });
  const first = rows[0] ?? [];
  const withHeadings = first.length > 0 && first.every((cell) => cell.name === 'th');
  return { type: 'table', data: { withHeadings, stretched: false, content } };
}

class BlockBuilder {
  readonly blocks: RawBlock[] = [];
  /** Inline HTML of the paragraph being collected. */
  private inline = '';
  /** Inline tags open around the current position, reopened after each paragraph break. */
  private readonly open: { start: string; end: string }[] = [];

  constructor(
    private readonly maxBlocks: number,
    private readonly maxDepth: number,
  ) {}

  get full(): boolean {
    return this.blocks.length >= this.maxBlocks;
  }

  push(block: RawBlock): void {
    if (!this.full) this.blocks.push(block);
  }

  /** Ends the current paragraph (if it shows any text) and starts a new one inside the same inline tags. */
  flush(): void {
    const closes = this.open.map((t) => t.end).reverse().join('');
    const text = trimInline(this.inline + closes);
    if (!isBlankInline(text)) this.push({ type: 'paragraph', data: { text } });
    this.inline = this.open.map((t) => t.start).join('');
  }

  walk(children: readonly ChildNode[], depth: number): void {
    for (const child of children) {
      if (this.full) return;
      if (child.type === 'text') this.inline += escapeHtml(collapse(child.data));
      else if (isElement(child)) this.element(child, depth + 1);
    }
  }

  private wrap(el: Element, depth: number, start: string, end: string): void {
    this.inline += start;
    this.open.push({ start, end });
    this.walk(el.children, depth);
    this.open.pop();
    this.inline += end;
  }

  private element(el: Element, depth: number): void {
    const name = el.name;
    if (depth > this.maxDepth) {
      this.inline += escapeHtml(collapse(textOf(el)));
      return;
    }
    if (name === 'br') {
      // Two line breaks in a row end a paragraph, as they do for the reader.
      if (this.inline.endsWith('<br>')) {
        this.inline = this.inline.slice(0, -4);
        this.flush();
      } else this.inline += '<br>';
    } else if (BOLD.has(name)) this.wrap(el, depth, '<b>', '</b>');
    else if (ITALIC.has(name)) this.wrap(el, depth, '<i>', '</i>');
    else if (name === 'a') {
      const href = safeHref(el);
      if (href === null) this.walk(el.children, depth);
      else this.wrap(el, depth, `<a href="${escapeHtml(href)}">`, '</a>');
    } else if (HEADINGS.has(name)) {
      this.block(this.textBlock('header', el, { level: Number(name.slice(1)) }));
    } else if (name === 'ul' || name === 'ol') this.block(this.list(el));
    else if (name === 'blockquote') {
      this.block(this.textBlock('quote', el, { caption: '', alignment: 'left' }));
    } else if (name === 'pre') {
      const code = textOf(el).replace(/^\n/, '');
      this.block(code.trim() === '' ? null : { type: 'code', data: { code } });
    } else if (name === 'hr') this.block({ type: 'delimiter', data: {} });
    else if (name === 'img') this.image(el);
    else if (name === 'table') {
      const table = dataTable(el, this.maxDepth);
      if (table) this.block(table);
      else this.container(el, depth);
    } else if (CONTAINERS.has(name)) this.container(el, depth);
    else this.walk(el.children, depth);
  }

  private container(el: Element, depth: number): void {
    this.flush();
    this.walk(el.children, depth);
    this.flush();
  }

  private block(block: RawBlock | null): void {
    this.flush();
    if (block) this.push(block);
  }

  private textBlock(type: string, el: Element, extra: Record<string, unknown>): RawBlock | null {
    const text = blockText(el.children, this.maxDepth);
    return isBlankInline(text) ? null : { type, data: { text, ...extra } };
  }

  /** Classic list tool shape; nested lists are flattened into the same list. */
  private list(el: Element): RawBlock | null {
    const items: string[] = [];
    const visit = (list: Element, depth: number): void => {
      for (const child of list.children) {
        if (items.length >= MAX_LIST_ITEMS) return;
        if (!isElement(child)) {
          if (child.type === 'text' && child.data.trim() !== '') items.push(escapeHtml(collapse(child.data).trim()));
          continue;
        }
        if ((child.name === 'ul' || child.name === 'ol') && depth < this.maxDepth) {
          visit(child, depth + 1);
          continue;
        }
        const nested = child.children.filter((c): c is Element => isElement(c) && (c.name === 'ul' || c.name === 'ol'));
        const own = child.children.filter((c) => !nested.includes(c as Element));
        const text = blockText(own, this.maxDepth);
        if (!isBlankInline(text)) items.push(text);
        if (depth < this.maxDepth) for (const sub of nested) visit(sub, depth + 1);
      }
    };
    visit(el, 0);
    if (items.length === 0) return null;
    return { type: 'list', data: { style: el.name === 'ol' ? 'ordered' : 'unordered', items } };
  }

  private image(el: Element): void {
    const src = el.attribs.src;
    if (src === undefined) return; // blocked remote image or unknown cid: nothing to show
    const url = classifyUrl(src);
    const usable = url.kind === 'http' || url.kind === 'data-image' || url.kind === 'relative';
    if (!usable) return;
    const caption = escapeHtml(collapse(el.attribs.alt ?? el.attribs.title ?? '').trim());
    this.block({
      type: 'image',
      data: { file: { url: url.kind === 'relative' ? normalizeUrl(src) : url.url }, caption, withBorder: false, stretched: false, withBackground: false },
    });
  }
}

/** Editor.js blocks from (sanitized) HTML. Deterministic: the same HTML gives the same JSON. */
export function htmlToEditorJs(html: string, opts: EditorJsOptions = {}): DTO_editorjs {
  const builder = new BlockBuilder(opts.maxBlocks ?? DEFAULT_MAX_BLOCKS, opts.maxDepth ?? DEFAULT_MAX_DEPTH);
  const doc = parseDocument(html);
  builder.walk(doc.children, 0);
  builder.flush();
  return toEditorJsDocument(builder.blocks, opts.time);
}
