// The database side of the ingest and thread decisions: PrismaIngestLookup
// answers the questions of src/ingest/decide.ts and src/threading/decide.ts
// over one tenant's rows. Message-IDs are stored and compared lower-cased.

import type { Db } from '../db/prisma.js';
import type { DuplicateOf, IngestLookup, SameMailFacts, SameMailQuery } from './decide.js';
import type { IngestOutcome } from './types.js';
import type { Classification } from '../mail/classify.js';

/** The ingest record an item already has (same mailbox, same source key). */
export interface ItemRecord {
  id: number;
  outcome: IngestOutcome;
  classification: Classification | null;
  conversationId: number | null;
  ticketId: number | null;
}

export class PrismaIngestLookup implements IngestLookup {
  constructor(private readonly db: Db) {}

  async sameMail(q: SameMailQuery): Promise<SameMailFacts> {
    return (await this.sameMailAndRecord(q, null)).facts;
  }

  /**
   * The three questions of decideIngest and, for `item`, its own ingest record
   * if it has one (a re-read after the cursor was moved back): one statement,
   * which runs once per ingested mail.
   */
  async sameMailAndRecord(q: SameMailQuery, item: { mailboxId: number; sourceKey: string } | null): Promise<{ facts: SameMailFacts; record: ItemRecord | null }> {
    const except = q.exceptRecordId ?? null;
    const rows = await this.db.$queryRaw<{ same: DuplicateOf | null; raw: DuplicateOf | null; mid_used: boolean; rec: ItemRecord | null }[]>`
      SELECT
        (SELECT json_build_object('id', r.id, 'outcome', r.outcome, 'classification', r.classification,
                 'conversationId', r.conversation_id, 'ticketId', r.ticket_id)
           FROM ingest_records r WHERE r.mailbox_id = ${item?.mailboxId ?? null}::int AND r.source_key = ${item?.sourceKey ?? null}::text) AS rec,
        (SELECT json_build_object('conversationId', c.id, 'ticketId', c.ticket_id,
                 'recordId', (SELECT min(r.id) FROM ingest_records r WHERE r.conversation_id = c.id))
           FROM conversations c WHERE c.tenant_id = ${q.tenantId} AND c.dedupe_key = ${q.dedupeKey}) AS same,
        (SELECT json_build_object('recordId', r.id, 'conversationId', r.conversation_id, 'ticketId', r.ticket_id)
           FROM ingest_records r
          WHERE r.tenant_id = ${q.tenantId} AND r.raw_sha256 = ${q.rawSha256}
            AND r.outcome NOT IN ('duplicate', 'failed') AND (${except}::int IS NULL OR r.id <> ${except}::int)
          ORDER BY r.id LIMIT 1) AS raw,
        (${q.messageId}::text IS NOT NULL AND EXISTS (
           SELECT 1 FROM conversations c WHERE c.tenant_id = ${q.tenantId} AND c.message_id = ${q.messageId}::text)) AS mid_used`;
    const row = rows[0];
    return { facts: { sameConversation: row?.same ?? null, sameRaw: row?.raw ?? null, messageIdUsed: row?.mid_used === true }, record: row?.rec ?? null };
  }

  async recordByRawSha256(tenantId: number, sha256: string, exceptRecordId: number | undefined): Promise<DuplicateOf | null> {
    const r = await this.db.ingestRecord.findFirst({
      where: { tenant_id: tenantId, raw_sha256: sha256, outcome: { notIn: ['duplicate', 'failed'] }, ...(exceptRecordId === undefined ? {} : { id: { not: exceptRecordId } }) },
      orderBy: { id: 'asc' },
      select: { id: true, conversation_id: true, ticket_id: true },
    });
    return r ? { recordId: r.id, conversationId: r.conversation_id, ticketId: r.ticket_id } : null;
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
