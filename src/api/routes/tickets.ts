// Tickets of the token's tenant (PRODUCT.md "HTTP API", the ticket shape):
// `GET tickets` (newest activity first, filters `mailbox_id` and `status`,
// paginated) and `GET tickets/{id}`. Minimum role USER.
//
// `status` takes a status key of the tenant (`new`, `open`, …) or a status id
// (digits); one the tenant does not have is a 400 naming `status`. A
// `mailbox_id` filter is a plain filter: an unknown mailbox lists nothing.
// The reads themselves live in src/conversations/tickets.ts (shared with the admin console).

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ticketSchema } from '../../conversations/dto.js';
import { getTicket, listTickets } from '../../conversations/tickets.js';
import { INT32_MAX, intParam } from '../../conversations/input.js';
import type { PrismaClient } from '../../db/prisma.js';
import { principal, requireRole } from '../auth.js';
import { pageMeta, pageOf, pageQuery } from '../kit/paging.js';
import { jsonSchema, plainJson, tenantParams, wrappedResponses } from '../kit/schemas.js';
import { wrap } from '../kit/wrap.js';

export interface TicketRoutesOptions {
  db: PrismaClient;
}

const listParams = z.object(tenantParams);
const listQuery = pageQuery.extend({
  mailbox_id: intParam(1, INT32_MAX, 'Only tickets of this mailbox').optional(),
  status: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .meta({ description: 'Only tickets in this status: a status key (new, open, pending, solved, closed) or a status id' }),
});
type ListQuery = z.output<typeof listQuery>;
const ticketParams = z.object({ ...tenantParams, id: intParam(1, INT32_MAX, 'The ticket id') });
type TicketParams = z.output<typeof ticketParams>;

export async function ticketRoutes(app: FastifyInstance, opts: TicketRoutesOptions): Promise<void> {
  const { db } = opts;
  const tags = ['tickets'];

  app.get<{ Querystring: ListQuery }>(
    '/tickets',
    {
      onRequest: requireRole(db, 'USER'),
      serializerCompiler: plainJson,
      schema: {
        tags,
        summary: 'Tickets, newest activity first, paginated',
        params: listParams,
        querystring: listQuery,
        response: wrappedResponses({ type: 'array', items: jsonSchema(ticketSchema, 'output') }, 'One page of tickets', { paged: true }),
      },
    },
    async (req) => {
      const { mailbox_id, status } = req.query;
      const page = pageOf(req.query);
      const { tickets, total } = await listTickets(db, principal(req).tenantId, { mailbox_id, status }, page);
      return wrap(req, tickets, pageMeta(page, total));
    },
  );

  app.get<{ Params: TicketParams }>(
    '/tickets/:id',
    {
      onRequest: requireRole(db, 'USER'),
      serializerCompiler: plainJson,
      schema: {
        tags,
        summary: 'One ticket',
        params: ticketParams,
        response: wrappedResponses(jsonSchema(ticketSchema, 'output'), 'The ticket'),
      },
    },
    async (req) => wrap(req, await getTicket(db, principal(req).tenantId, req.params.id)),
  );
}
