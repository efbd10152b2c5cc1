// Rich content of a conversation (`sys_content_rich`): the public surface of src/mail/rich.

export type { DTO_editorjs, DTO_editorjs_block, DTO_rich_text } from './types.js';
export { sanitizeMailHtml, type SanitizeMailHtmlOptions } from './sanitize.js';
export { htmlToEditorJs, type EditorJsOptions } from './editorjs.js';
export { EDITORJS_BLOCK_TYPES, editorJsProblems, sanitizeEditorJs, type EditorJsProblem, type EditorJsShape } from './editorjs-input.js';
export { textToEditorJs, textToHtml, linkify } from './text.js';
export { plainPreview, readMinutes, countWords } from './preview.js';
export { buildRichText, type BuildRichTextInput } from './rich.js';
export { EDITORJS_VERSION, EDITORJS_DEFAULT_TIME } from './blocks.js';
