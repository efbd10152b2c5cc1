// `sys_content_rich` of an inbound conversation: sanitized display HTML,
// Editor.js blocks, a plain preview and the reading time, from a parsed mail's
// HTML and/or text body and its extracted reply text. HTML wins when present
// and it shows anything; a text-only mail gets HTML built from its text.

import { htmlToEditorJs } from './editorjs.js';
import { plainPreview, readMinutes } from './preview.js';
import { sanitizeMailHtml } from './sanitize.js';
import { textToEditorJs, textToHtml } from './text.js';
import type { DTO_editorjs, DTO_rich_text } from './types.js';

export interface BuildRichTextInput {
  html: string | null;
  text: string | null;
  /** The new text of this mail (quotes and signature removed): preview and reading time. */
  extracted: string;
  /** Content-ID (without angle brackets) → URL of the stored inline part. */
  cidUrls?: ReadonlyMap<string, string>;
  /** Editor.js document time in ms (e.g. the conversation's `created`). */
  time?: number;
  allowRemoteImages?: boolean;
  maxInputChars?: number;
  maxBlocks?: number;
}

/** True when sanitized HTML shows something: text other than spaces, or an image. */
function showsAnything(html: string): boolean {
  if (/<img\b/i.test(html)) return true;
  return html.replace(/<[^<>]*>/g, '').replace(/&nbsp;|&#160;|\u00a0/g, '').trim() !== '';
}

export function buildRichText(input: BuildRichTextInput): DTO_rich_text {
  const sanitizeOptions = {
    cidUrls: input.cidUrls,
    allowRemoteImages: input.allowRemoteImages,
    maxInputChars: input.maxInputChars,
  };
  const editorOptions = { time: input.time, maxBlocks: input.maxBlocks, maxInputChars: input.maxInputChars };
  const text = input.text !== null && input.text.trim() !== '' ? input.text : null;

  let html = '';
  let editorjs: DTO_editorjs | null = null;
  if (input.html !== null && input.html.trim() !== '') {
    const sanitized = sanitizeMailHtml(input.html, sanitizeOptions);
    if (showsAnything(sanitized) || text === null) {
      html = sanitized;
      editorjs = htmlToEditorJs(sanitized, editorOptions);
    }
  }
  if (editorjs === null) {
    // Built HTML goes through the same sanitizer: one policy for every output.
    html = text === null ? '' : sanitizeMailHtml(textToHtml(text, editorOptions), sanitizeOptions);
    editorjs = textToEditorJs(text ?? '', editorOptions);
  }
  return {
    plain_preview: plainPreview(input.extracted),
    html,
    editorjs,
    read_minutes: readMinutes(input.extracted),
  };
}
