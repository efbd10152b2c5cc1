// Assembles Editor.js documents. Block ids are derived from the block's index
// and content (not random, as Editor.js itself makes them) so that the same
// mail always yields byte-identical JSON: reprocessing a message or comparing
// two runs shows no spurious change.

import { createHash } from 'node:crypto';
import type { DTO_editorjs, DTO_editorjs_block } from './types.js';

/** The Editor.js release whose standard block tools' data shapes the blocks follow. */
export const EDITORJS_VERSION = '2.31.0';
/** `time` of a document when the caller gives none: fixed, so output stays deterministic. */
export const EDITORJS_DEFAULT_TIME = 0;
export const DEFAULT_MAX_BLOCKS = 500;

export interface RawBlock {
  type: string;
  data: Record<string, unknown>;
}

/** 10 URL-safe characters (the length Editor.js uses) from the block's position and content. */
export function blockId(index: number, block: RawBlock): string {
  return createHash('sha256')
    .update(`${index}\u0000${block.type}\u0000${JSON.stringify(block.data)}`)
    .digest('base64url')
    .slice(0, 10);
}

export function toEditorJsDocument(blocks: readonly RawBlock[], time?: number): DTO_editorjs {
  const out: DTO_editorjs_block[] = blocks.map((block, index) => ({
    id: blockId(index, block),
    type: block.type,
    data: block.data,
  }));
  return { time: time ?? EDITORJS_DEFAULT_TIME, version: EDITORJS_VERSION, blocks: out };
}

/** Removes leading and trailing spaces and `<br>`s from a block's inline HTML (loops, no regex backtracking). */
export function trimInline(html: string): string {
  let start = 0;
  let end = html.length;
  for (;;) {
    if (start < end && /\s/.test(html[start] ?? '')) start++;
    else if (html.startsWith('<br>', start) && start + 4 <= end) start += 4;
    else break;
  }
  for (;;) {
    if (end > start && /\s/.test(html[end - 1] ?? '')) end--;
    else if (end - 4 >= start && html.startsWith('<br>', end - 4)) end -= 4;
    else break;
  }
  return html.slice(start, end);
}

/** True when inline HTML shows no text (only tags, spaces and no-break spaces). */
export function isBlankInline(html: string): boolean {
  return html.replace(/<[^<>]*>/g, '').replace(/&nbsp;|&#160;|\u00a0/g, '').trim() === '';
}
