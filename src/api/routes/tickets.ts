// Tickets of the token's tenant (PRODUCT.md "HTTP API", the ticket shape):
// `GET tickets` (newest activity first, filters `mailbox_id` and `status`,
// paginated) and `GET tickets/{id}`. Minimum role USER.
//
// `status` takes a status key of the tenant (`new`, `open`, …) or a status id
// (digits); one the tenant does not have is a 400 naming `status`. A
// `mailbox_id` filter is a plain filter: an unknown mailbox lists nothing.

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ticketDto, ticketInclude, ticketSchema } from '../../conversations/dto.js';
import { INT32_MAX, intParam } from '../../conversations/input.js';
import { pageWindow } from '../../db/page.js';
import type { PrismaClient } from '../../db/prisma.js';
import { MailroomError } from '../../errors.js';
import type { Prisma } from '../../generated/prisma/client.js';
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

/** The status a filter names, within the tenant; a VALIDATION error (field `status`) when there is none. */
async function statusFilter(db: PrismaClient, tenantId: number, value: string): Promise<number> {
  const where = /^\d{1,10}$/.test(value) ? { tenant_id: tenantId, id: Number(value) } : { tenant_id: tenantId, key: value.toLowerCase() };
  const status = Number(value) > INT32_MAX ? null : await db.status.findFirst({ where, select: { id: true } });
  if (!status) throw new MailroomError('VALIDATION', `status "${value}" is not a status of this tenant`, { fields: [{ field: 'status', message: 'status is not a status key or id of this tenant' }] });
  return status.id;
}

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
      const { tenantId } = principal(req);
      const q = req.query;
      const where: Prisma.TicketWhereInput = { tenant_id: tenantId };
      if (q.mailbox_id !== undefined) where.mailbox_id = q.mailbox_id;
      if (q.status !== undefined) where.status_id = await statusFilter(db, tenantId, q.status);
      const page = pageOf(q);
      const [total, rows] = await Promise.all([
        db.ticket.count({ where }),
        db.ticket.findMany({
          where,
          include: ticketInclude,
          orderBy: [{ last_activity: 'desc' }, { id: 'desc' }],
          ...pageWindow(page),
        }),
      ]);
      return wrap(req, rows.map(ticketDto), pageMeta(page, total));
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
    async (req) => {
      const row = await db.ticket.findFirst({ where: { id: req.params.id, tenant_id: principal(req).tenantId }, include: ticketInclude });
      if (!row) throw new MailroomError('NOT_FOUND', `Ticket ${req.params.id} does not exist.`);
      return wrap(req, ticketDto(row));
    },
  );
}
