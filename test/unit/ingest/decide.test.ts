// The ingest outcome rules (src/ingest/decide.ts) over an in-memory lookup:
// duplicates by dedupe key and by raw bytes, a reused Message-ID, own-address
// mail, auto-replies and bounces that thread nowhere or onto a ticket, and
// mail that cannot be parsed. No database.
import { describe, expect, it } from 'vitest';
import { decideIngest, decideUnparsed } from '../../../src/ingest/decide.js';
import type { DecisionMail, DuplicateOf, IngestLookup } from '../../../src/ingest/decide.js';
import type { Classification } from '../../../src/mail/classify.js';

const KEY = Buffer.alloc(32, 7);

class MemoryLookup implements IngestLookup {
  conversations = new Map<string, DuplicateOf>();
  records = new Map<string, DuplicateOf & { recordId: number }>();
  messageIds = new Set<string>();
  /** Message-ID (lower-case) → ticket id, as threading sees it. */
  threads = new Map<string, number>();
  participants = new Map<number, string[]>();
  tickets = new Map<number, number>();

  async sameMail(q: { tenantId: number; dedupeKey: string; rawSha256: string; exceptRecordId: number | undefined; messageId: string | null }) {
    return {
      sameConversation: this.conversations.get(q.dedupeKey) ?? null,
      sameRaw: await this.recordByRawSha256(q.tenantId, q.rawSha256, q.exceptRecordId),
      messageIdUsed: q.messageId !== null && this.messageIds.has(q.messageId),
    };
  }
  async recordByRawSha256(_tenantId: number, sha: string, except: number | undefined) {
    const r = this.records.get(sha);
    return r && r.recordId !== except ? r : null;
  }
  async ticketsByMessageIds(_tenantId: number, ids: readonly string[]) {
    return ids.flatMap((id) => (this.threads.has(id) ? [{ messageId: id, ticketId: this.threads.get(id)! }] : []));
  }
  async ticketByNumber(_tenantId: number, n: number) {
    const id = this.tickets.get(n);
    return id === undefined ? null : { ticketId: id };
  }
  async isParticipant(_tenantId: number, ticketId: number, address: string) {
    return (this.participants.get(ticketId) ?? []).includes(address);
  }
  async ticketExists(_tenantId: number, ticketId: number) {
    return [...this.tickets.values()].includes(ticketId) || [...this.threads.values()].includes(ticketId);
  }
}

function mail(opts: { classification?: Classification; key?: string; messageId?: string | null; inReplyTo?: string[]; subject?: string; from?: string | null } = {}): DecisionMail {
  return {
    classification: opts.classification ?? 'human',
    dedupe_key: opts.key ?? 'key-1',
    thread: { message_id: opts.messageId === undefined ? 'new@example.com' : opts.messageId },
    threadInput: { fromAddress: opts.from === undefined ? 'anna@example.com' : opts.from, inReplyTo: opts.inReplyTo ?? [], references: [], subject: opts.subject ?? 'Printer on fire' },
  };
}

const input = { tenantId: 1, rawSha256: 'sha-1' };

describe('decideIngest', () => {
  it('makes a new conversation on a new ticket when nothing matches', async () => {
    expect(await decideIngest(input, mail(), new MemoryLookup(), KEY)).toEqual({ kind: 'conversation', thread: { kind: 'new', reason: 'new_ticket' }, warnings: [] });
  });

  it('is a duplicate of the conversation with the same dedupe key, before anything else', async () => {
    const lookup = new MemoryLookup();
    lookup.conversations.set('key-1', { recordId: 5, conversationId: 9, ticketId: 3 });
    lookup.records.set('sha-1', { recordId: 6, conversationId: null, ticketId: null });
    expect(await decideIngest(input, mail({ classification: 'own_address' }), lookup, KEY)).toEqual({ kind: 'duplicate', of: { recordId: 5, conversationId: 9, ticketId: 3 }, warnings: [] });
  });

  it('is a duplicate of the first record of the same raw bytes (a skipped or failed mail seen again)', async () => {
    const lookup = new MemoryLookup();
    lookup.records.set('sha-1', { recordId: 6, conversationId: null, ticketId: null });
    expect(await decideIngest(input, mail(), lookup, KEY)).toMatchObject({ kind: 'duplicate', of: { recordId: 6 } });
    // ...but a reprocessed record is not a duplicate of itself.
    expect(await decideIngest({ ...input, recordId: 6 }, mail(), lookup, KEY)).toMatchObject({ kind: 'conversation' });
  });

  it('ingests a reused Message-ID (other From or subject) with a warning', async () => {
    const lookup = new MemoryLookup();
    lookup.messageIds.add('new@example.com');
    const d = await decideIngest(input, mail({ messageId: 'New@Example.com' }), lookup, KEY);
    expect(d.kind).toBe('conversation');
    expect(d.warnings).toEqual(['Message-ID <New@Example.com> was already used by a different mail (other From or subject); ingested as a new mail']);
  });

  it("skips mail from the tenant's own addresses", async () => {
    expect(await decideIngest(input, mail({ classification: 'own_address' }), new MemoryLookup(), KEY)).toEqual({
      kind: 'skipped',
      warnings: ["skipped: sent from one of the tenant's own mailbox addresses"],
    });
  });

  it('skips an auto-reply or bounce that threads onto no ticket, and never opens one', async () => {
    for (const classification of ['auto_reply', 'bounce'] as const) {
      const d = await decideIngest(input, mail({ classification }), new MemoryLookup(), KEY);
      expect(d).toEqual({ kind: 'skipped', thread: { kind: 'new', reason: 'new_ticket' }, warnings: [`skipped: ${classification} that threads onto no ticket`] });
    }
  });

  it('puts an auto-reply that answers a known Message-ID on that ticket', async () => {
    const lookup = new MemoryLookup();
    lookup.threads.set('ours@mailroom.test', 12);
    const d = await decideIngest(input, mail({ classification: 'auto_reply', inReplyTo: ['ours@mailroom.test'] }), lookup, KEY);
    expect(d).toEqual({ kind: 'conversation', thread: { kind: 'existing', ticketId: 12, reason: 'references' }, warnings: [] });
  });

  it('joins a ticket by its subject tag only when the sender already takes part', async () => {
    const lookup = new MemoryLookup();
    lookup.tickets.set(123, 40);
    lookup.participants.set(40, ['anna@example.com']);
    expect(await decideIngest(input, mail({ subject: 'Re: [#123] Printer' }), lookup, KEY)).toMatchObject({ kind: 'conversation', thread: { kind: 'existing', ticketId: 40, reason: 'subject_tag' } });
    const stranger = await decideIngest(input, mail({ subject: 'Re: [#123] Printer', from: 'mallory@example.net' }), lookup, KEY);
    expect(stranger).toMatchObject({ kind: 'conversation', thread: { kind: 'new', reason: 'subject_tag_not_participant' } });
  });
});

describe('decideUnparsed', () => {
  const error = { code: 'MAIL_UNREADABLE' as const, message: 'The message cannot be read' };

  it('fails a mail that cannot be parsed', async () => {
    expect(await decideUnparsed(input, error, new MemoryLookup())).toEqual({ kind: 'failed', error, warnings: [] });
  });

  it('is a duplicate when the same bytes were recorded before', async () => {
    const lookup = new MemoryLookup();
    lookup.records.set('sha-1', { recordId: 2, conversationId: null, ticketId: null });
    expect(await decideUnparsed(input, error, lookup)).toEqual({ kind: 'duplicate', of: { recordId: 2, conversationId: null, ticketId: null }, warnings: [] });
  });
});
