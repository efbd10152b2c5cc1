// The database side of the ingest and thread decisions: PrismaIngestLookup
// answers the questions of src/ingest/decide.ts and src/threading/decide.ts
// over one tenant's rows. Message-IDs are stored and compared lower-cased.

import type { Db } from '../db/prisma.js';
import type { DuplicateOf, IngestLookup } from './decide.js';

export class PrismaIngestLookup implements IngestLookup {
  constructor(private readonly db: Db) {}

  async conversationByDedupeKey(tenantId: number, dedupeKey: string): Promise<DuplicateOf | null> {
    const same = await this.db.conversation.findUnique({
      where: { tenant_id_dedupe_key: { tenant_id: tenantId, dedupe_key: dedupeKey } },
      select: { id: true, ticket_id: true, ingests: { select: { id: true }, orderBy: { id: 'asc' }, take: 1 } },
    });
    return same ? { recordId: same.ingests[0]?.id ?? null, conversationId: same.id, ticketId: same.ticket_id } : null;
  }

  async recordByRawSha256(tenantId: number, sha256: string, exceptRecordId: number | undefined): Promise<DuplicateOf | null> {
    const r = await this.db.ingestRecord.findFirst({
      where: { tenant_id: tenantId, raw_sha256: sha256, outcome: { notIn: ['duplicate', 'failed'] }, ...(exceptRecordId === undefined ? {} : { id: { not: exceptRecordId } }) },
      orderBy: { id: 'asc' },
      select: { id: true, conversation_id: true, ticket_id: true },
    });
    return r ? { recordId: r.id, conversationId: r.conversation_id, ticketId: r.ticket_id } : null;
  }

  async messageIdUsed(tenantId: number, messageId: string): Promise<boolean> {
    return (await this.db.conversation.count({ where: { tenant_id: tenantId, message_id: messageId } })) > 0;
  }

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
