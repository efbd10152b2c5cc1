// The CPU-heavy part of an API-posted conversation — sanitizing its html,
// extracting the reply, building Editor.js blocks — as a pure step on plain
// data, so that it runs the same in this thread or in a worker thread of the
// parse pool (src/ingest/map-pool.ts): a big body must not hold up /healthz,
// other requests or ingestion in the same process. What it may cost is
// bounded first by checkContentCost (docs/api-limits.md).

import type { ApiLimits } from '../config/config.js';
import { MailroomError, type FieldProblem } from '../errors.js';
import { extractReply } from '../mail/reply/extract.js';
import { EDITORJS_VERSION, htmlToEditorJs, plainPreview, readMinutes, sanitizeMailHtml, textToEditorJs, textToHtml } from '../mail/rich/index.js';
import type { DTO_editorjs, DTO_rich_text } from '../mail/rich/index.js';
import { sanitizeEditorJs } from '../mail/rich/editorjs-input.js';
import type { ConversationInput } from './input.js';

export interface PreparedContent {
  extracted: string;
  rich: DTO_rich_text;
}

/** One item's content and what it needs, as plain data (it crosses to a worker thread). */
export interface ContentJob {
  item: Pick<ConversationInput, 'sys_content_rich' | 'last_message_extracted'>;
  /** `cid:` content id → the URL the image is shown from. */
  cidUrls: [string, string][];
  time: number;
}

/** Anything that runs prepareContent (in this thread, or the pool's worker threads). */
export interface ContentPreparer {
  prepare(job: ContentJob): Promise<PreparedContent>;
}

export const inThreadPreparer: ContentPreparer = { prepare: async (job) => prepareContent(job) };

export function prepareContent(job: ContentJob): PreparedContent {
  return richContent(job.item, new Map(job.cidUrls), job.time);
}

/**
 * sys_content_rich and last_message_extracted of an item. The html is
 * sanitized first and everything else is derived from the sanitized html, so
 * nothing the sanitizer removed (a `javascript:` link) reappears as text.
 */
export function richContent(item: ContentJob['item'], cidUrls: ReadonlyMap<string, string>, time: number): PreparedContent {
  const given = item.sys_content_rich;
  const rawHtml = given?.html ?? '';
  let html: string;
  let extracted: string;
  let editorjs: DTO_editorjs;
  if (rawHtml.trim() !== '') {
    html = sanitizeMailHtml(rawHtml, { cidUrls });
    extracted = item.last_message_extracted ?? extractReply({ html, text: null });
    editorjs = htmlToEditorJs(html, { time });
  } else {
    extracted = item.last_message_extracted ?? '';
    html = extracted.trim() === '' ? '' : sanitizeMailHtml(textToHtml(extracted));
    editorjs = textToEditorJs(extracted, { time });
  }
  if (given?.editorjs) editorjs = sanitizeEditorJs(given.editorjs, time, EDITORJS_VERSION);
  return { extracted, rich: { html, editorjs, plain_preview: plainPreview(extracted), read_minutes: given?.read_minutes ?? readMinutes(extracted) } };
}

/** The rich content of one posted item, in UTF-8 bytes: what sanitizing it costs grows with this. */
function contentBytes(item: ContentJob['item']): { html: number; editorjs: number } {
  const rich = item.sys_content_rich;
  return {
    html: Buffer.byteLength(rich?.html ?? '') + Buffer.byteLength(item.last_message_extracted ?? ''),
    editorjs: rich?.editorjs ? Buffer.byteLength(JSON.stringify(rich.editorjs)) : 0,
  };
}

/**
 * A 413 (TOO_LARGE) naming the field when an item's rich content (html,
 * editorjs and last_message_extracted) is over the per-conversation limit, or
 * the request's together over the per-request limit (the field of the item
 * where the total passes it). Checked before any sanitizing.
 */
export function checkContentCost(items: readonly ContentJob['item'][], limits: Pick<ApiLimits, 'maxHtmlBytes' | 'maxRequestHtmlBytes'>): void {
  const problems: FieldProblem[] = [];
  let total = 0;
  let totalReported = false;
  items.forEach((item, i) => {
    const size = contentBytes(item);
    const field = `conversations[${i}].sys_content_rich.${size.editorjs > size.html ? 'editorjs' : 'html'}`;
    if (size.html + size.editorjs > limits.maxHtmlBytes) {
      problems.push({ field, message: `${field} is ${size.html + size.editorjs} bytes of content; one conversation may carry at most ${limits.maxHtmlBytes}` });
    }
    total += size.html + size.editorjs;
    if (!totalReported && total > limits.maxRequestHtmlBytes) {
      totalReported = true;
      if (problems.at(-1)?.field !== field) {
        problems.push({ field, message: `${field} brings the request's content to ${total} bytes; one request may carry at most ${limits.maxRequestHtmlBytes}` });
      }
    }
  });
  if (problems.length > 0) throw new MailroomError('TOO_LARGE', problems.map((p) => p.message).join('; '), { fields: problems });
}
