// Reading a list page of conversations without loading every body whole: the
// page's rows come first without their content, then the content's sizes
// (PostgreSQL measures them), then the bodies the page budget keeps whole
// (list-budget.ts planPage) and, for the rest, only a prefix cut in SQL (html
// and text to a few KB, the leading Editor.js blocks that fit). So a page of
// 200 large conversations costs the process what the budget allows, not
// every body in full.
import type { Prisma } from '../generated/prisma/client.js';
import { pageWindow, type PageRequest } from '../db/page.js';
import type { Db } from '../db/prisma.js';
import { conversationDto, conversationInclude, type ConversationRow, type DownloadUrlFn, type DTO_ticket_conversation } from './dto.js';
import { planPage, TRUNCATED_BODY_CHARS, truncateBody, wasCut, type BodySize } from './list-budget.js';

type Content = Pick<ConversationRow, 'html' | 'editorjs' | 'last_message_extracted'>;

export async function readConversationPage(
  db: Db,
  where: Prisma.ConversationWhereInput,
  page: PageRequest,
  downloadUrl: DownloadUrlFn,
  budgetBytes: number,
): Promise<DTO_ticket_conversation[]> {
  const heads = await db.conversation.findMany({
    where,
    include: conversationInclude,
    omit: { html: true, editorjs: true, last_message_extracted: true },
    orderBy: [{ created: 'asc' }, { id: 'asc' }],
    ...pageWindow(page),
  });
  if (heads.length === 0) return [];
  const ids = heads.map((h) => h.id);
  const sizes = await db.$queryRaw<BodySize[]>`
    SELECT id,
           (octet_length(html) + coalesce(octet_length(editorjs::text), 0) + octet_length(last_message_extracted))::float8 AS bytes,
           char_length(html)::float8 AS html_chars,
           char_length(last_message_extracted)::float8 AS text_chars,
           (CASE WHEN jsonb_typeof(editorjs->'blocks') = 'array' THEN jsonb_array_length(editorjs->'blocks') ELSE 0 END)::float8 AS blocks
    FROM conversations WHERE id = ANY(${ids}::int[])`;
  const whole = planPage(ids, sizes, budgetBytes);
  const sizeOf = new Map(sizes.map((s) => [s.id, s]));
  const cutIds = ids.filter((id) => !whole.has(id));
  const [full, cut] = await Promise.all([
    whole.size === 0 ? [] : db.conversation.findMany({ where: { id: { in: [...whole] } }, select: { id: true, html: true, editorjs: true, last_message_extracted: true } }),
    cutIds.length === 0 ? [] : readPrefixes(db, cutIds),
  ]);
  const content = new Map<number, Content>([...full, ...cut].map((c) => [c.id, c]));
  return heads.map((head) => {
    const body = content.get(head.id) ?? { html: '', editorjs: null, last_message_extracted: '' };
    const dto = conversationDto({ ...head, ...body }, downloadUrl);
    if (whole.has(head.id)) return dto;
    const shown = truncateBody(dto, TRUNCATED_BODY_CHARS);
    return wasCut(sizeOf.get(head.id), shown) ? { ...shown, content_truncated: true } : shown;
  });
}

/** The first few KB of each body: html and text cut by PostgreSQL, the leading Editor.js blocks within the same size. */
function readPrefixes(db: Db, ids: number[]): Promise<({ id: number } & Content)[]> {
  const chars = TRUNCATED_BODY_CHARS;
  return db.$queryRaw<({ id: number } & Content)[]>`
    SELECT c.id,
           left(c.html, ${chars + 1}::int) AS html,
           left(c.last_message_extracted, ${chars + 1}::int) AS last_message_extracted,
           CASE WHEN jsonb_typeof(c.editorjs->'blocks') = 'array' THEN jsonb_build_object(
             'time', c.editorjs->'time',
             'version', c.editorjs->'version',
             'blocks', (SELECT coalesce(jsonb_agg(s.b ORDER BY s.i), '[]'::jsonb)
                        FROM (SELECT x.b, x.i, sum(octet_length(x.b::text)) OVER (ORDER BY x.i) AS run
                              FROM jsonb_array_elements(c.editorjs->'blocks') WITH ORDINALITY AS x(b, i)) s
                        WHERE s.run <= ${chars}::int))
           END AS editorjs
    FROM conversations c WHERE c.id = ANY(${ids}::int[])`;
}
