// Editor.js documents written by API clients are shown by the same UIs as
// mail, so the document is checked as a whole, not only its text: `version`,
// every block's `id` and `type` (allowlisted tools), every key of its data,
// the nesting depth, and every URL, whatever key it sits under (url.ts holds
// the one URL rule; the Editor.js builder's output passes the same check, see
// test/unit/mail/rich/editorjs-input.test.ts). Structure and URLs are refused
// with the path of the offending value (the API answers 400 naming it); the
// text inside is then cleaned, each string going through the mail sanitizer,
// because inline markup is legitimate and a tag list cannot be refused.

import { sanitizeMailHtml } from './sanitize.js';
import type { DTO_editorjs } from './types.js';
import { scriptUrlProblem, urlValueProblem } from './url.js';

/** The standard Editor.js tools a document may use (the builder makes the first eight). */
export const EDITORJS_BLOCK_TYPES: readonly string[] = Object.freeze([
  'paragraph', 'header', 'list', 'quote', 'image', 'code', 'delimiter', 'table',
  'checklist', 'warning', 'embed', 'linkTool', 'attaches', 'simpleImage', 'marker',
]);
const BLOCK_TYPES = new Set(EDITORJS_BLOCK_TYPES);

/** Editor.js makes 10 URL-safe characters; this allows other editors' ids too, and nothing markup needs. */
export const BLOCK_ID = /^[A-Za-z0-9_-]{1,64}$/;
const VERSION = /^\d{1,4}\.\d{1,4}\.\d{1,4}(?:-[0-9A-Za-z.]{1,32})?$/;
/** Keys of block data: identifiers as block tools use them. */
const DATA_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]{0,63}$/;
/** Names that reach an object's prototype when a client copies data with plain assignment. */
const PROTO_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** A key holding a URL: `url`, `link`, `href`, `src`, `source`, `embed`, or ending so (`imageUrl`, `thumbnailSrc`). */
const URL_KEY = /(?:url|link|href|src|source|embed)$/i;
export const MAX_DATA_DEPTH = 16;
/** Problems reported for one document: enough to fix it, bounded however broken it is. */
const MAX_PROBLEMS = 20;

export interface EditorJsShape {
  time?: number;
  version?: string;
  blocks: { id?: string; type: string; data: Record<string, unknown> }[];
}

export interface EditorJsProblem {
  /** Path inside the document: `['blocks', 2, 'data', 'file', 'url']`. */
  path: (string | number)[];
  message: string;
}

/** Everything wrong with the document's structure and URLs; empty when it may be stored. */
export function editorJsProblems(doc: EditorJsShape): EditorJsProblem[] {
  const problems: EditorJsProblem[] = [];
  const add = (path: (string | number)[], message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ path, message });
  };
  if (doc.version !== undefined && !VERSION.test(doc.version)) add(['version'], 'must be a version number such as 2.31.0');
  doc.blocks.forEach((block, i) => {
    if (block.id !== undefined && !BLOCK_ID.test(block.id)) add(['blocks', i, 'id'], 'must be 1 to 64 letters, digits, _ or -');
    if (!BLOCK_TYPES.has(block.type)) add(['blocks', i, 'type'], `must be one of ${EDITORJS_BLOCK_TYPES.join(', ')}`);
    checkValue(block.data, ['blocks', i, 'data'], '', 0, add);
  });
  return problems;
}

function checkValue(value: unknown, path: (string | number)[], key: string, depth: number, add: (path: (string | number)[], message: string) => void): void {
  if (typeof value === 'string') {
    const problem = URL_KEY.test(key) ? urlValueProblem(value) : scriptUrlProblem(value);
    if (problem !== null) add(path, problem);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth >= MAX_DATA_DEPTH) {
    add(path, `nests deeper than ${MAX_DATA_DEPTH} levels`);
    return;
  }
  if (Array.isArray(value)) {
    // An array's items are judged by the key that holds the array (`urls: [...]`).
    value.forEach((item, i) => checkValue(item, [...path, i], key, depth + 1, add));
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (PROTO_KEYS.has(k) || !DATA_KEY.test(k)) {
      add([...path, k], 'is not an allowed key: keys are identifiers of up to 64 letters, digits, _, $ or -, and not __proto__, constructor or prototype');
      continue;
    }
    checkValue(v, [...path, k], k, depth + 1, add);
  }
}

/**
 * The stored form of a document that passed `editorJsProblems`: every string
 * that is not a URL is inline HTML run through the mail sanitizer; URLs are
 * kept as given (they passed the URL rule); ids are kept or made up.
 */
export function sanitizeEditorJs(doc: EditorJsShape, fallbackTime: number, version: string): DTO_editorjs {
  const clean = (value: unknown, key: string, depth: number): unknown => {
    if (depth > MAX_DATA_DEPTH) return null;
    if (typeof value === 'string') {
      if (URL_KEY.test(key)) return urlValueProblem(value) === null ? value : '';
      return sanitizeMailHtml(value);
    }
    if (Array.isArray(value)) return value.map((v) => clean(v, key, depth + 1));
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value).filter(([k]) => !PROTO_KEYS.has(k) && DATA_KEY.test(k));
      return Object.fromEntries(entries.map(([k, v]) => [k, clean(v, k, depth + 1)]));
    }
    return typeof value === 'number' || typeof value === 'boolean' || value === null ? value : null;
  };
  return {
    time: doc.time ?? fallbackTime,
    version: doc.version ?? version,
    blocks: doc.blocks.map((b, i) => ({
      id: b.id !== undefined && BLOCK_ID.test(b.id) ? b.id : `b${i}`,
      type: b.type,
      data: clean(b.data, '', 0) as Record<string, unknown>,
    })),
  };
}
