// Reading tickets of a tenant: the list (newest activity first, filters
// mailbox and status) and one ticket, as DTO_ticket. One read path for every
// caller: the API's `tickets` routes and the admin console call these.
import { pageWindow, type PageRequest } from '../db/page.js';
import type { Db } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { ticketDto, ticketInclude, type DTO_ticket } from './dto.js';
import { INT32_MAX } from './input.js';

export interface TicketFilter {
  mailbox_id?: number;
  /** A status key of the tenant (`new`, `open`, …) or a status id (digits). */
  status?: string;
}

/** The status a filter names, within the tenant; a VALIDATION error (field `status`) when there is none. */
async function statusFilter(db: Db, tenantId: number, value: string): Promise<number> {
  const where = /^\d{1,10}$/.test(value) ? { tenant_id: tenantId, id: Number(value) } : { tenant_id: tenantId, key: value.toLowerCase() };
  const status = Number(value) > INT32_MAX ? null : await db.status.findFirst({ where, select: { id: true } });
  if (!status) throw new MailroomError('VALIDATION', `status "${value}" is not a status of this tenant`, { fields: [{ field: 'status', message: 'status is not a status key or id of this tenant' }] });
  return status.id;
}

/** One page of the tenant's tickets, newest activity first. */
export async function listTickets(db: Db, tenantId: number, filter: TicketFilter, page: PageRequest): Promise<{ tickets: DTO_ticket[]; total: number }> {
  const where: Prisma.TicketWhereInput = { tenant_id: tenantId };
  if (filter.mailbox_id !== undefined) where.mailbox_id = filter.mailbox_id;
  if (filter.status !== undefined) where.status_id = await statusFilter(db, tenantId, filter.status);
  const [total, rows] = await Promise.all([
    db.ticket.count({ where }),
    db.ticket.findMany({ where, include: ticketInclude, orderBy: [{ last_activity: 'desc' }, { id: 'desc' }], ...pageWindow(page) }),
  ]);
  return { tickets: rows.map(ticketDto), total };
}

/** One ticket of the tenant; NOT_FOUND otherwise. */
export async function getTicket(db: Db, tenantId: number, id: number): Promise<DTO_ticket> {
  const row = await db.ticket.findFirst({ where: { id, tenant_id: tenantId }, include: ticketInclude });
  if (!row) throw new MailroomError('NOT_FOUND', `Ticket ${id} does not exist.`);
  return ticketDto(row);
}

/** The tenant's ticket statuses (key and label), for a filter's choices. */
export async function listStatuses(db: Db, tenantId: number): Promise<{ id: number; key: string; label: string }[]> {
  return db.status.findMany({ where: { tenant_id: tenantId }, select: { id: true, key: true, label: true }, orderBy: [{ position: 'asc' }, { id: 'asc' }] });
}
