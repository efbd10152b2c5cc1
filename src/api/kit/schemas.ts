// Schemas every tenant route shares: the path's tenant and version, the wrap
// of PRODUCT.md around a payload with the error answers, JSON Schema made
// from zod (for the OpenAPI document and response schemas), and the
// OpenAPI transform that turns a route's zod parts into JSON Schema for /docs.
import type { FastifySchema } from 'fastify';
import { z, type ZodType } from 'zod';
import { isZod } from './validate.js';

/** JSON Schema (2020-12, as OpenAPI 3.1 reads it) of a zod schema, for `schema` objects. */
export function jsonSchema(schema: ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** The path segments of every tenant route (`/api/{tenant}/v{version}`); requireRole checks both. */
export const tenantParams = {
  tenant: z.string().meta({ description: 'Tenant slug (2+ characters, a-z 0-9 -)' }),
  version: z.string().meta({ description: 'API version: 1' }),
};

const errorItem = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
    stage: { type: 'string', description: 'a failed connection test: the stage that failed' },
  },
};

const FAILURES: Record<number, string> = {
  400: 'Bad path, query or body: each bad field is named in errors[].field',
  401: 'Missing or invalid bearer token',
  403: 'A token of another tenant, or a role too low',
  404: 'An id unknown within the tenant',
};

/**
 * The wrap of PRODUCT.md around a payload schema (200), plus the error answers
 * every tenant route can give and any of the route's own (`failures`).
 * `paged`: meta carries page, page_size and total.
 */
export function wrappedResponses(data: Record<string, unknown>, description: string, options: { paged?: boolean; failures?: Record<number, string> } = {}): FastifySchema['response'] {
  const paging = options.paged ? { page: { type: 'integer' }, page_size: { type: 'integer' }, total: { type: 'integer' } } : {};
  const meta = { type: 'object', properties: { request_id: { type: 'string' }, ...paging } };
  const errors = { type: 'array', items: errorItem };
  const failure = (what: string) => ({ description: what, type: 'object', properties: { data: { type: 'null' }, errors, meta: { type: 'object', properties: { request_id: { type: 'string' } } } } });
  const failures = Object.entries({ ...FAILURES, ...options.failures }).map(([status, what]) => [status, failure(what)]);
  return { 200: { description, type: 'object', properties: { data, errors, meta } }, ...Object.fromEntries(failures) };
}

/** A route's serializerCompiler writing JSON.stringify: its response schemas document, they never filter. */
export const plainJson = () => (data: unknown) => JSON.stringify(data);

const REQUEST_PARTS = ['params', 'querystring', 'body', 'headers'] as const;

/** @fastify/swagger's `transform`: the zod parts of a route's schema as JSON Schema. */
export function openapiTransform({ schema, url }: { schema: FastifySchema; url: string }): { schema: FastifySchema; url: string } {
  // A route without a schema (healthz) is documented as it is.
  if (!schema) return { schema, url };
  const out: Record<string, unknown> = { ...schema };
  for (const part of REQUEST_PARTS) {
    const value = schema[part];
    if (isZod(value)) out[part] = jsonSchema(value);
  }
  return { schema: out, url };
}
