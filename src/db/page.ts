// One page of a list, as every paginated read asks for it (PRODUCT.md "HTTP
// API": page from 1, page_size): a leaf module, so services and the API kit
// share the type without importing each other.

export interface PageRequest {
  page: number;
  page_size: number;
}

/** The rows of one page: Prisma's skip/take for a PageRequest. */
export function pageWindow(page: PageRequest): { skip: number; take: number } {
  return { skip: (page.page - 1) * page.page_size, take: page.page_size };
}
