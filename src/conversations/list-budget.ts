// A list page's conversations bounded by bytes as well as by count: bodies are
// kept whole, oldest first, while the page's content stays within its budget
// (MAILROOM_API_LIST_MAX_BYTES); every later large body is cut to a preview
// and marked `content_truncated: true`. The whole body is one single read away
// (GET ticket_conversations/{ticket_id}/{id}). Pure: DTOs in, DTOs out.
import type { DTO_ticket_conversation } from './dto.js';

/** What a truncated body keeps of each of html, editorjs (JSON) and last_message_extracted, in characters. */
export const TRUNCATED_BODY_CHARS = 4096;

/** A stored conversation's content as PostgreSQL measures it (list-read.ts). */
export interface BodySize {
  id: number;
  /** html + editorjs (as text) + last_message_extracted, in bytes. */
  bytes: number;
  html_chars: number;
  text_chars: number;
  blocks: number;
}

/**
 * Which conversations of a page (ids in page order) are kept whole: oldest
 * first while their content fits the budget, and any small enough that a
 * cut would not shorten it. The rest are cut (truncateBody).
 */
export function planPage(ids: readonly number[], sizes: readonly BodySize[], budgetBytes: number): Set<number> {
  const byId = new Map(sizes.map((s) => [s.id, s]));
  const whole = new Set<number>();
  let used = 0;
  for (const id of ids) {
    const bytes = byId.get(id)?.bytes ?? 0;
    if (bytes <= TRUNCATED_BODY_CHARS || used + bytes <= budgetBytes) {
      whole.add(id);
      used += bytes;
    } else {
      used += Math.min(bytes, 3 * TRUNCATED_BODY_CHARS);
    }
  }
  return whole;
}

/** Whether a body read as a prefix (list-read.ts) lost anything against its stored size. */
export function wasCut(size: BodySize | undefined, dto: DTO_ticket_conversation): boolean {
  if (!size) return false;
  return size.html_chars > dto.sys_content_rich.html.length || size.text_chars > dto.last_message_extracted.length || size.blocks > dto.sys_content_rich.editorjs.blocks.length;
}

/** The conversation with html, editorjs and last_message_extracted cut to about `chars` each; unchanged if nothing was cut. */
export function truncateBody(c: DTO_ticket_conversation, chars: number): DTO_ticket_conversation {
  const rich = c.sys_content_rich;
  const html = cutHtml(rich.html, chars);
  const extracted = cutText(c.last_message_extracted, chars);
  const blocks: typeof rich.editorjs.blocks = [];
  let size = 0;
  for (const block of rich.editorjs.blocks) {
    size += JSON.stringify(block).length;
    if (size > chars) break;
    blocks.push(block);
  }
  const cut = html !== rich.html || extracted !== c.last_message_extracted || blocks.length < rich.editorjs.blocks.length;
  if (!cut) return c;
  return {
    ...c,
    last_message_extracted: extracted,
    sys_content_rich: { ...rich, html, editorjs: { ...rich.editorjs, blocks } },
    content_truncated: true,
  };
}

/** Text cut to `chars` without splitting a surrogate pair. */
function cutText(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(chars - 1)) ? chars - 1 : chars;
  return text.slice(0, end);
}

/** Html cut to `chars`, never inside a tag or an entity (unclosed elements are left to the reader's parser). */
function cutHtml(html: string, chars: number): string {
  if (html.length <= chars) return html;
  let cut = cutText(html, chars);
  const lt = cut.lastIndexOf('<');
  if (lt > cut.lastIndexOf('>')) cut = cut.slice(0, lt);
  const amp = cut.lastIndexOf('&');
  if (amp > cut.lastIndexOf(';') && cut.length - amp < 12) cut = cut.slice(0, amp);
  return cut;
}
