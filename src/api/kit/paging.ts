// The one page of every paginated route: `page` (from 1) and `page_size`
// (default 50, at most 200) in the query, and `meta.page`, `meta.page_size`,
// `meta.total` in the answer. The page itself (PageRequest, pageWindow) is the
// services' type, from src/db/page.ts.
import { z } from 'zod';
import { INT32_MAX, intParam } from '../../conversations/input.js';
import type { PageRequest } from '../../db/page.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** The query of a paginated route; `.extend()` it with the route's filters. */
export const pageQuery = z.object({
  page: intParam(1, INT32_MAX, 'Page number, from 1').optional().default(1),
  page_size: intParam(1, MAX_PAGE_SIZE, `Items per page (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE})`).optional().default(DEFAULT_PAGE_SIZE),
});

export interface PageMeta {
  page: number;
  page_size: number;
  total: number;
}

/** The page of a parsed query (which may carry the route's filters too). */
export function pageOf(query: PageRequest): PageRequest {
  return { page: query.page, page_size: query.page_size };
}

export function pageMeta(page: PageRequest, total: number): PageMeta {
  return { page: page.page, page_size: page.page_size, total };
}
