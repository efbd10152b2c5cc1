// The seed endpoint (ticket_conversations_create.txt): POST and GET
// `ticket_conversations/{ticket_id}`, minimum role USER.
//
// Validation is zod's (src/conversations/input.ts), not Ajv's: the route's
// validatorCompiler runs the zod schema of each part, and the JSON schemas in
// `schema` are generated from the same zod schemas for the OpenAPI document
// only. The POST body is validated by the service (the one place that knows a
// conversation), so the CLI or a test calling it directly gets the same 400s.
// Responses are written with JSON.stringify: the response schemas document,
// they never filter (fast-json-stringify would drop a field the schema lacks).

import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';
import type {} from '@fastify/swagger';
import { z } from 'zod';
import type { ZodType } from 'zod';
import { attachmentDownloadUrl } from '../../attachments/signing.js';
import type { Config } from '../../config/config.js';
import { conversationSchema } from '../../conversations/dto.js';
import type { DownloadUrlFn } from '../../conversations/dto.js';
import { conversationInput, INT32_MAX, intParam } from '../../conversations/input.js';
import { createConversations, fieldPath, listConversations } from '../../conversations/service.js';
import type { PageRequest } from '../../db/page.js';
import type { PrismaClient } from '../../db/prisma.js';
import { MailroomError } from '../../errors.js';
import { principal, requireRole } from '../auth.js';
import { wrap } from '../wrap.js';

export interface ConversationRoutesOptions {
  db: PrismaClient;
  config: Config;
}

/** JSON Schema (2020-12, as OpenAPI 3.1 reads it) of a zod schema, for `schema` objects. */
export function jsonSchema(schema: ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

export type ZodParts = Partial<Record<'params' | 'querystring' | 'headers', ZodType>>;

/**
 * A route's validatorCompiler running zod: a part without a zod schema passes
 * as it is (its JSON schema only documents it). A bad part is a VALIDATION
 * error naming each field (`page_size`, `ticket_id`).
 */
export function zodValidator(parts: ZodParts): FastifySchemaCompiler<unknown> {
  return ({ httpPart }) => {
    const schema = httpPart ? parts[httpPart as keyof ZodParts] : undefined;
    if (!schema) return (data: unknown) => ({ value: data });
    return (data: unknown) => {
      const result = schema.safeParse(data ?? {});
      if (result.success) return { value: result.data };
      const fields = result.error.issues.map((issue) => {
        const field = fieldPath(issue.path as (string | number)[]) || httpPart || 'request';
        return { field, message: `${field} ${issue.message}` };
      });
      return { error: new MailroomError('VALIDATION', fields.map((f) => f.message).join('; '), { fields }) };
    };
  };
}

/** The wrap of PRODUCT.md around a payload schema, plus the error answers every tenant route can give. */
export function wrappedResponses(data: Record<string, unknown>, description: string, paged = false): FastifySchema['response'] {
  const error = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } };
  const meta = {
    type: 'object',
    properties: { request_id: { type: 'string' }, ...(paged ? { page: { type: 'integer' }, page_size: { type: 'integer' }, total: { type: 'integer' } } : {}) },
  };
  const failure = (what: string) => ({ description: what, type: 'object', properties: { data: { type: 'null' }, errors: { type: 'array', items: error }, meta } });
  return {
    200: { description, type: 'object', properties: { data, errors: { type: 'array', items: error }, meta } },
    400: failure('Bad path, query or body: each bad field is named in errors[].field'),
    401: failure('Missing or invalid bearer token'),
    403: failure('A token of another tenant, or a role too low'),
    404: failure('An id unknown within the tenant'),
  };
}

/** Responses as plain JSON: see the module comment. */
export const plainJson = () => (data: unknown) => JSON.stringify(data);

export const tenantParams = {
  tenant: z.string().meta({ description: 'Tenant slug (2+ characters, a-z 0-9 -)' }),
  version: z.string().meta({ description: 'API version: 1' }),
};

export const pageQuery = z.object({
  page: intParam(1, INT32_MAX, 'Page number, from 1').optional().default(1),
  page_size: intParam(1, 200, 'Items per page (default 50, at most 200)').optional().default(50),
});

export function pageMeta(page: PageRequest, total: number) {
  return { page: page.page, page_size: page.page_size, total };
}

const ticketParams = z.object({ ...tenantParams, ticket_id: intParam(1, INT32_MAX, 'The ticket id') });
type TicketParams = z.output<typeof ticketParams>;

/** download_url of the tenant's attachments: signed, valid for an hour, null unless OK/WARNING (src/attachments/signing.ts). */
export function downloadUrlFor(config: Config, tenantSlug: string): DownloadUrlFn {
  return (row) => attachmentDownloadUrl(row, { publicUrl: config.publicUrl, tenantSlug, secretKey: config.secretKey });
}

export async function conversationRoutes(app: FastifyInstance, opts: ConversationRoutesOptions): Promise<void> {
  const { db, config } = opts;
  const tags = ['ticket conversations'];
  const deps = (tenantSlug: string) => ({ secretKey: config.secretKey, publicUrl: config.publicUrl, downloadUrl: downloadUrlFor(config, tenantSlug) });

  app.post<{ Params: TicketParams }>(
    '/ticket_conversations/:ticket_id',
    {
      onRequest: requireRole(db, 'USER'),
      // The seed's body is the conversations array: errors about it as a whole name `conversations`.
      config: { bodyName: 'conversations' },
      validatorCompiler: zodValidator({ params: ticketParams }),
      serializerCompiler: plainJson,
      schema: {
        tags,
        summary: 'Create conversations on a ticket (the seed endpoint)',
        description:
          'Body: DTO_ticket_conversation[], all created in one transaction. ReadOnly fields are ignored; enums take the value or the name. ' +
          'REPLY_OUTBOUND and FORWARD get a signed message_id to send the mail with.',
        params: jsonSchema(ticketParams),
        body: jsonSchema(z.array(conversationInput)),
        response: wrappedResponses({ type: 'array', items: jsonSchema(conversationSchema, 'output') }, 'The created conversations, in request order'),
      },
    },
    async (req) => {
      const p = principal(req);
      return wrap(req, await createConversations(db, p, req.params.ticket_id, req.body, deps(p.tenantSlug)));
    },
  );

  // The path without its ticket: a 400 naming ticket_id (after auth, like every check of the request), not a 404.
  for (const path of ['/ticket_conversations', '/ticket_conversations/']) {
    app.route({
      method: ['GET', 'POST'],
      url: path,
      onRequest: requireRole(db, 'USER'),
      schema: { hide: true },
      handler: async () => {
        const message = 'ticket_id is required in the path: ticket_conversations/{ticket_id}';
        throw new MailroomError('VALIDATION', message, { fields: [{ field: 'ticket_id', message }] });
      },
    });
  }

  app.get<{ Params: TicketParams; Querystring: PageRequest }>(
    '/ticket_conversations/:ticket_id',
    {
      onRequest: requireRole(db, 'USER'),
      validatorCompiler: zodValidator({ params: ticketParams, querystring: pageQuery }),
      serializerCompiler: plainJson,
      schema: {
        tags,
        summary: 'Conversations of a ticket, oldest first, paginated',
        params: jsonSchema(ticketParams),
        querystring: jsonSchema(pageQuery),
        response: wrappedResponses({ type: 'array', items: jsonSchema(conversationSchema, 'output') }, 'One page of conversations', true),
      },
    },
    async (req) => {
      const p = principal(req);
      const { items, total } = await listConversations(db, p, req.params.ticket_id, req.query, deps(p.tenantSlug).downloadUrl);
      return wrap(req, items, pageMeta(req.query, total));
    },
  );
}
