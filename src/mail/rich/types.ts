// The seed API's rich-content shapes (`sys_content_rich` of a conversation):
// sanitized HTML for display, a plain preview for lists, Editor.js blocks for
// the editor, and an estimated reading time.

/** One Editor.js block: `id` is short and deterministic, `data` follows the block tool's shape. */
export interface DTO_editorjs_block {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** Editor.js's saved-document format (`editor.save()`). */
export interface DTO_editorjs {
  /** Milliseconds since the epoch. */
  time: number;
  /** The Editor.js version the blocks target. */
  version: string;
  blocks: DTO_editorjs_block[];
}

export interface DTO_rich_text {
  plain_preview: string;
  html: string;
  editorjs: DTO_editorjs;
  read_minutes: number;
}
