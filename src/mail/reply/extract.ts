// `last_message_extracted`: only the new text of an inbound mail, without
// quoted history, reply headers, forwarded originals or signatures (see
// PRODUCT.md "Mapping a mail onto a conversation"). The HTML part is preferred
// because clients mark their quotes there (html.ts); the plain-text rules
// (text.ts) then decide on the rendered text. When nothing new is left (a
// forward, a mail that is only a quote) the whole mail is returned, trimmed,
// so a ticket never shows an empty message for a mail that had content.

import { renderHtml } from './html.js';
import { resolveLimits } from './limits.js';
import type { ReplyLimits } from './limits.js';
import { normaliseLines, toLines, trimReplyText } from './text.js';

export type { ReplyLimits } from './limits.js';
export { DEFAULT_REPLY_LIMITS } from './limits.js';

function hasContent(s: string | null): s is string {
  return s !== null && s.trim().length > 0;
}

/** Never return more characters than the part the result was taken from. */
function clamp(result: string, source: string): string {
  return result.length > source.length ? result.slice(0, source.length).trimEnd() : result;
}

export function extractReply(
  input: { text: string | null; html: string | null },
  opts?: Partial<ReplyLimits>,
): string {
  const limits = resolveLimits(opts);
  const { text, html } = input;

  const rendered = hasContent(html) ? renderHtml(html, limits) : null;
  if (rendered !== null && html !== null) {
    const reply = trimReplyText(rendered.marked, limits);
    if (reply.length > 0) return clamp(reply, html);
  }
  if (hasContent(text)) {
    const reply = trimReplyText(text, limits);
    if (reply.length > 0) return clamp(reply, text);
  }
  // Nothing new: show the whole mail rather than an empty message.
  if (rendered !== null && html !== null) {
    const whole = normaliseLines(toLines(rendered.plain(), limits));
    if (whole.length > 0) return clamp(whole, html);
  }
  if (hasContent(text)) return clamp(normaliseLines(toLines(text, limits)), text);
  return '';
}
