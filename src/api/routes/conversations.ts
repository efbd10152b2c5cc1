// The seed endpoint (ticket_conversations_create.txt): POST and GET
// `ticket_conversations/{ticket_id}`, minimum role USER.
//
// Path and query are validated by the API kit's zod validator
// (src/api/kit/validate.ts). The POST body is validated by the service (the
// one place that knows a conversation), so the CLI or a test calling it
// directly gets the same 400s; its JSON Schema only documents it. Responses
// are written with JSON.stringify: the response schemas document, they never
// filter (fast-json-stringify would drop a field the schema lacks).

import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/swagger';
import { z } from 'zod';
import { attachmentDownloadUrl } from '../../attachments/signing.js';
import type { Config } from '../../config/config.js';
import { conversationSchema } from '../../conversations/dto.js';
import type { DownloadUrlFn } from '../../conversations/dto.js';
import { conversationInput, INT32_MAX, intParam } from '../../conversations/input.js';
import type { ContentPreparer } from '../../conversations/content.js';
import { createConversations, getConversation, listConversations } from '../../conversations/service.js';
import type { PageRequest } from '../../db/page.js';
import type { PrismaClient } from '../../db/prisma.js';
import { MailroomError } from '../../errors.js';
import { principal, requireRole } from '../auth.js';
import { pageMeta, pageQuery } from '../kit/paging.js';
import { jsonSchema, plainJson, tenantParams, wrappedResponses } from '../kit/schemas.js';
import { wrap } from '../kit/wrap.js';

export interface ConversationRoutesOptions {
  db: PrismaClient;
  config: Config;
  /** Where posted content is sanitized (the parse pool); absent: in this thread. */
  preparer?: ContentPreparer;
}

const ticketParams = z.object({ ...tenantParams, ticket_id: intParam(1, INT32_MAX, 'The ticket id') });
type TicketParams = z.output<typeof ticketParams>;
const conversationParams = z.object({ ...ticketParams.shape, conversation_id: intParam(1, INT32_MAX, 'The conversation id') });
type ConversationParams = z.output<typeof conversationParams>;

/** download_url of the tenant's attachments: signed, valid for an hour, null unless OK/WARNING (src/attachments/signing.ts). */
export function downloadUrlFor(config: Config, tenantSlug: string): DownloadUrlFn {
  return (row) => attachmentDownloadUrl(row, { publicUrl: config.publicUrl, tenantSlug, secretKey: config.secretKey });
}

export async function conversationRoutes(app: FastifyInstance, opts: ConversationRoutesOptions): Promise<void> {
  const { db, config } = opts;
  const tags = ['ticket conversations'];
  const deps = (tenantSlug: string) => ({
    secretKey: config.secretKey,
    publicUrl: config.publicUrl,
    downloadUrl: downloadUrlFor(config, tenantSlug),
    limits: config.apiLimits,
    ...(opts.preparer ? { preparer: opts.preparer } : {}),
  });

  app.post<{ Params: TicketParams }>(
    '/ticket_conversations/:ticket_id',
    {
      onRequest: requireRole(db, 'USER'),
      // The seed's body is the conversations array: errors about it as a whole name `conversations`.
      config: { bodyName: 'conversations' },
      serializerCompiler: plainJson,
      schema: {
        tags,
        summary: 'Create conversations on a ticket (the seed endpoint)',
        description:
          'Body: DTO_ticket_conversation[], all created in one transaction. ReadOnly fields are ignored; enums take the value or the name. ' +
          'REPLY_OUTBOUND and FORWARD get a signed message_id to send the mail with. ' +
          'Content over MAILROOM_API_MAX_HTML_BYTES per conversation or MAILROOM_API_MAX_REQUEST_HTML_BYTES per request is a 413 naming the field.',
        params: ticketParams,
        body: jsonSchema(z.array(conversationInput)),
        response: wrappedResponses({ type: 'array', items: jsonSchema(conversationSchema, 'output') }, 'The created conversations, in request order', {
          failures: { 413: 'Content over a configured limit (TOO_LARGE, the field named)', 429: 'Too many requests for this token (RATE_LIMITED, Retry-After)' },
        }),
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
      serializerCompiler: plainJson,
      schema: {
        tags,
        summary: 'Conversations of a ticket, oldest first, paginated',
        description:
          'A page carries at most MAILROOM_API_LIST_MAX_BYTES of conversation content whole; later large bodies are cut to a preview and ' +
          'marked content_truncated: true (GET ticket_conversations/{ticket_id}/{conversation_id} has them whole).',
        params: ticketParams,
        querystring: pageQuery,
        response: wrappedResponses({ type: 'array', items: jsonSchema(conversationSchema, 'output') }, 'One page of conversations', { paged: true }),
      },
    },
    async (req) => {
      const p = principal(req);
      const { items, total } = await listConversations(db, p, req.params.ticket_id, req.query, deps(p.tenantSlug).downloadUrl, config.apiLimits.listMaxBytes);
      return wrap(req, items, pageMeta(req.query, total));
    },
  );

  app.get<{ Params: ConversationParams }>(
    '/ticket_conversations/:ticket_id/:conversation_id',
    {
      onRequest: requireRole(db, 'USER'),
      serializerCompiler: plainJson,
      schema: {
        tags,
        summary: 'One conversation of a ticket, its content whole (never truncated)',
        params: conversationParams,
        response: wrappedResponses(jsonSchema(conversationSchema, 'output'), 'The conversation'),
      },
    },
    async (req) => {
      const p = principal(req);
      return wrap(req, await getConversation(db, p, req.params.ticket_id, req.params.conversation_id, deps(p.tenantSlug).downloadUrl));
    },
  );
}
