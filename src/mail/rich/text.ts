// Rich content for mail that has only a text/plain body: the text is split
// into paragraphs (blank lines), quoted runs (`>` lines) and simple lists,
// escaped, and its http(s)/www URLs turned into links. The same structure
// feeds both the display HTML and the Editor.js blocks, so they agree.

import { DEFAULT_MAX_BLOCKS, toEditorJsDocument, type RawBlock } from './blocks.js';
import { LINK_REL } from './sanitize.js';
import { classifyUrl, escapeHtml } from './url.js';
import type { DTO_editorjs } from './types.js';

export interface TextOptions {
  /** Text longer than this is cut before processing (default 2,000,000). */
  maxInputChars?: number;
}

export interface TextToEditorJsOptions extends TextOptions {
  time?: number;
  maxBlocks?: number;
}

type Segment =
  | { kind: 'paragraph'; lines: string[] }
  | { kind: 'quote'; lines: string[] }
  | { kind: 'list'; ordered: boolean; lines: string[] };

const DEFAULT_MAX_TEXT = 2_000_000;
const URL_IN_TEXT = /\b(?:https?:\/\/|www\.)[^\s<>"]+/gi;
const TRAILING_PUNCTUATION = new Set(['.', ',', ';', ':', '!', '?', "'", ')', ']', '}', '*', '_']);
const BULLET = /^ {0,3}[-*•] {1,4}(?=\S)/;
const NUMBERED = /^ {0,3}\d{1,3}[.)] {1,4}(?=\S)/;

/** Drops trailing punctuation that ends a sentence rather than the URL; keeps balanced `)`. */
function trimUrl(candidate: string): string {
  let end = candidate.length;
  let opens = 0;
  for (const ch of candidate) if (ch === '(') opens++;
  let closes = 0;
  for (const ch of candidate) if (ch === ')') closes++;
  while (end > 0) {
    const ch = candidate[end - 1] as string;
    if (!TRAILING_PUNCTUATION.has(ch)) break;
    if (ch === ')' && closes <= opens) break;
    if (ch === ')') closes--;
    end--;
  }
  return candidate.slice(0, end);
}

/**
 * Escapes a line of text and links its URLs. `linkAttributes` adds the
 * rel/target used in display HTML; Editor.js inline links carry only href.
 */
export function linkify(text: string, linkAttributes = true): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const start = match.index;
    const raw = trimUrl(match[0]);
    const href = raw.toLowerCase().startsWith('www.') ? `https://${raw}` : raw;
    const url = classifyUrl(href);
    if (url.kind !== 'http' || raw.length < 5) continue;
    const extra = linkAttributes ? ` rel="${LINK_REL}" target="_blank"` : '';
    out += escapeHtml(text.slice(last, start));
    out += `<a href="${escapeHtml(url.url)}"${extra}>${escapeHtml(raw)}</a>`;
    last = start + raw.length;
  }
  return out + escapeHtml(text.slice(last));
}

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

function lineKind(line: string): 'quote' | 'bullet' | 'number' | 'plain' {
  if (line.startsWith('>')) return 'quote';
  if (BULLET.test(line)) return 'bullet';
  if (NUMBERED.test(line)) return 'number';
  return 'plain';
}

/** Splits text into paragraphs, quoted runs and lists (a list is a run where every line is an item). */
export function segmentText(text: string, opts: TextOptions = {}): Segment[] {
  const lines = cut(text, opts.maxInputChars ?? DEFAULT_MAX_TEXT).split(/\r\n|\r|\n/);
  const segments: Segment[] = [];
  let group: string[] = [];
  let quoted = false;
  const close = (): void => {
    if (group.length === 0) return;
    if (quoted) {
      segments.push({ kind: 'quote', lines: group.map((l) => l.replace(/^> ?/, '')) });
    } else {
      const kinds = group.map(lineKind);
      const allBullets = kinds.every((k) => k === 'bullet');
      const allNumbers = kinds.every((k) => k === 'number');
      if (allBullets || allNumbers) {
        const marker = allBullets ? BULLET : NUMBERED;
        segments.push({ kind: 'list', ordered: allNumbers, lines: group.map((l) => l.replace(marker, '')) });
      } else segments.push({ kind: 'paragraph', lines: group });
    }
    group = [];
  };
  for (const line of lines) {
    const isQuote = line.startsWith('>');
    if (line.trim() === '') {
      close();
      continue;
    }
    if (group.length > 0 && isQuote !== quoted) close();
    quoted = isQuote;
    group.push(line.trimEnd());
  }
  close();
  return segments;
}

/** Display HTML for a text-only mail: escaped, paragraphs, line breaks, links. */
export function textToHtml(text: string, opts: TextOptions = {}): string {
  return segmentText(text, opts)
    .map((seg) => {
      const lines = seg.lines.map((l) => linkify(l));
      switch (seg.kind) {
        case 'paragraph':
          return `<p>${lines.join('<br>')}</p>`;
        case 'quote':
          return `<blockquote><p>${lines.join('<br>')}</p></blockquote>`;
        case 'list': {
          const tag = seg.ordered ? 'ol' : 'ul';
          return `<${tag}>${lines.map((l) => `<li>${l}</li>`).join('')}</${tag}>`;
        }
      }
    })
    .join('\n');
}

/** Editor.js blocks for a text-only mail (paragraph, quote and list blocks). */
export function textToEditorJs(text: string, opts: TextToEditorJsOptions = {}): DTO_editorjs {
  const maxBlocks = opts.maxBlocks ?? DEFAULT_MAX_BLOCKS;
  const blocks: RawBlock[] = [];
  for (const seg of segmentText(text, opts)) {
    if (blocks.length >= maxBlocks) break;
    const lines = seg.lines.map((l) => linkify(l, false));
    if (seg.kind === 'paragraph') blocks.push({ type: 'paragraph', data: { text: lines.join('<br>') } });
    else if (seg.kind === 'quote') {
      blocks.push({ type: 'quote', data: { text: lines.join('<br>'), caption: '', alignment: 'left' } });
    } else blocks.push({ type: 'list', data: { style: seg.ordered ? 'ordered' : 'unordered', items: lines } });
  }
  return toEditorJsDocument(blocks, opts.time);
}
