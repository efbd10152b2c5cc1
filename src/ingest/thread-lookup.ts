// The database side of threading: PrismaThreadLookup implements the mail
// core's ThreadLookup (src/threading/decide.ts) for one tenant's data.
// Message-IDs are stored and compared lower-cased (see ingest.ts).

import type { Db } from '../db/prisma.js';
import type { ThreadLookup } from '../threading/decide.js';

export class PrismaThreadLookup implements ThreadLookup {
  constructor(private readonly db: Db) {}

  async ticketsByMessageIds(tenantId: number, messageIds: readonly string[]): Promise<{ messageId: string; ticketId: number }[]> {
    if (messageIds.length === 0) return [];
    const rows = await this.db.conversation.findMany({
      where: { tenant_id: tenantId, message_id: { in: messageIds.map((id) => id.toLowerCase()) } },
      select: { message_id: true, ticket_id: true },
      orderBy: { id: 'asc' },
    });
    return rows.flatMap((r) => (r.message_id === null ? [] : [{ messageId: r.message_id, ticketId: r.ticket_id }]));
  }

  async ticketByNumber(tenantId: number, ticketNumber: number): Promise<{ ticketId: number } | null> {
    const ticket = await this.db.ticket.findUnique({ where: { tenant_id_number: { tenant_id: tenantId, number: ticketNumber } }, select: { id: true } });
    return ticket ? { ticketId: ticket.id } : null;
  }

  async isParticipant(tenantId: number, ticketId: number, address: string): Promise<boolean> {
    const email = address.toLowerCase();
    const ticket = await this.db.ticket.findFirst({
      where: {
        id: ticketId,
        tenant_id: tenantId,
        OR: [{ requester: { email } }, { conversations: { some: { email_addresses: { some: { email } } } } }],
      },
      select: { id: true },
    });
    return ticket !== null;
  }

  async ticketExists(tenantId: number, ticketId: number): Promise<boolean> {
    return (await this.db.ticket.count({ where: { id: ticketId, tenant_id: tenantId } })) > 0;
  }
}
