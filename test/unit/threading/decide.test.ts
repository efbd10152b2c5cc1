// decideThread against an in-memory ThreadLookup (the database implements the
// same interface later): each rule of PRODUCT.md "Threading", forged tags and
// Message-IDs, other tenants, deleted tickets, reference order and the cap.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMail } from '../../../src/mail/parse.js';
import { candidateIds, decideThread } from '../../../src/threading/decide.js';
import type { ThreadInput, ThreadLookup } from '../../../src/threading/decide.js';
import { formatSignedMessageId } from '../../../src/threading/message-id.js';
import { compileSubjectTag } from '../../../src/threading/subject-tag.js';

const KEY = Buffer.from('6d61696c726f6f6d2d746573742d6b65792d7468726561642d3332627974653f', 'hex');
const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/threading');

interface FakeTicket {
  tenantId: number;
  ticketId: number;
  number: number;
  participants: string[];
  messageIds: string[];
}

/** In-memory ThreadLookup that also records every call, to check what was asked. */
class FakeLookup implements ThreadLookup {
  readonly calls: { method: string; args: unknown[] }[] = [];
  constructor(private readonly tickets: FakeTicket[]) {}

  async ticketsByMessageIds(tenantId: number, messageIds: readonly string[]) {
    this.calls.push({ method: 'ticketsByMessageIds', args: [tenantId, [...messageIds]] });
    const rows: { messageId: string; ticketId: number }[] = [];
    for (const t of this.tickets) {
      if (t.tenantId !== tenantId) continue;
      for (const id of t.messageIds) if (messageIds.includes(id)) rows.push({ messageId: id, ticketId: t.ticketId });
    }
    return rows;
  }

  async ticketByNumber(tenantId: number, ticketNumber: number) {
    this.calls.push({ method: 'ticketByNumber', args: [tenantId, ticketNumber] });
    const t = this.tickets.find((x) => x.tenantId === tenantId && x.number === ticketNumber);
    return t ? { ticketId: t.ticketId } : null;
  }

  async isParticipant(tenantId: number, ticketId: number, address: string) {
    this.calls.push({ method: 'isParticipant', args: [tenantId, ticketId, address] });
    const t = this.tickets.find((x) => x.tenantId === tenantId && x.ticketId === ticketId);
    return t !== undefined && t.participants.includes(address);
  }

  async ticketExists(tenantId: number, ticketId: number) {
    this.calls.push({ method: 'ticketExists', args: [tenantId, ticketId] });
    return this.tickets.some((x) => x.tenantId === tenantId && x.ticketId === ticketId);
  }

  count(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }
}

const signed = (tenantId: number, ticketId: number): string =>
  formatSignedMessageId({ tenantId, ticketId, domain: 'support.acme-tools.example' }, KEY);

function world(): FakeLookup {
  return new FakeLookup([
    { tenantId: 1, ticketId: 10, number: 1, participants: ['alice@example.com'], messageIds: ['root-10@client.example', 'reply-10@client.example'] },
    { tenantId: 1, ticketId: 11, number: 2, participants: ['bob@example.com'], messageIds: ['root-11@client.example'] },
    { tenantId: 1, ticketId: 12, number: 3, participants: ['carol@example.com'], messageIds: ['shared@client.example'] },
    { tenantId: 1, ticketId: 13, number: 4, participants: ['carol@example.com'], messageIds: ['shared@client.example'] },
    { tenantId: 2, ticketId: 20, number: 1, participants: ['mallory@evil.example'], messageIds: ['root-20@client.example'] },
  ]);
}

function mail(partial: Partial<ThreadInput>): ThreadInput {
  return { tenantId: 1, fromAddress: 'alice@example.com', inReplyTo: [], references: [], subject: 'Printer on fire', ...partial };
}

describe('decideThread: Message-IDs', () => {
  it('makes a new ticket when nothing matches, without asking the store for zero ids', async () => {
    const lookup = world();
    expect(await decideThread(mail({}), lookup, KEY)).toEqual({ kind: 'new', reason: 'new_ticket' });
    expect(lookup.count('ticketsByMessageIds')).toBe(0);
  });

  it('joins the ticket that knows the In-Reply-To id', async () => {
    const d = await decideThread(mail({ inReplyTo: ['reply-10@client.example'] }), world(), KEY);
    expect(d).toEqual({ kind: 'existing', ticketId: 10, reason: 'references' });
  });

  it('prefers In-Reply-To over References', async () => {
    const d = await decideThread(mail({ inReplyTo: ['root-11@client.example'], references: ['root-10@client.example'] }), world(), KEY);
    expect(d).toEqual({ kind: 'existing', ticketId: 11, reason: 'references' });
  });

  it('takes the ticket named by the most recent reference (the last one)', async () => {
    const refs = ['root-10@client.example', 'unknown@elsewhere.example', 'root-11@client.example', 'also-unknown@x.example'];
    const d = await decideThread(mail({ references: refs }), world(), KEY);
    expect(d).toEqual({ kind: 'existing', ticketId: 11, reason: 'references' });
  });

  it('asks the store once, for all ids, newest first', async () => {
    const lookup = world();
    await decideThread(mail({ inReplyTo: ['irt@x.example'], references: ['r1@x.example', 'r2@x.example', 'irt@x.example'] }), lookup, KEY);
    expect(lookup.calls.filter((c) => c.method === 'ticketsByMessageIds')).toEqual([
      { method: 'ticketsByMessageIds', args: [1, ['irt@x.example', 'r2@x.example', 'r1@x.example']] },
    ]);
  });

  it('does not see ids known only to another tenant', async () => {
    const d = await decideThread(mail({ inReplyTo: ['root-20@client.example'] }), world(), KEY);
    expect(d).toEqual({ kind: 'new', reason: 'new_ticket' });
  });

  it('picks one ticket deterministically when one id is known to several', async () => {
    const d = await decideThread(mail({ inReplyTo: ['shared@client.example'] }), world(), KEY);
    expect(d).toEqual({ kind: 'existing', ticketId: 13, reason: 'references' });
  });

  it('ignores rows for ids it did not ask about', async () => {
    const lookup = world();
    lookup.ticketsByMessageIds = async () => [{ messageId: 'never-asked@x.example', ticketId: 11 }];
    expect(await decideThread(mail({ inReplyTo: ['a@x.example'] }), lookup, KEY)).toEqual({ kind: 'new', reason: 'new_ticket' });
  });

  it('looks at no more than maxReferences ids, keeping the newest', async () => {
    const refs = ['root-10@client.example', ...Array.from({ length: 500 }, (_, i) => `noise-${i}@spam.example`)];
    const lookup = world();
    const d = await decideThread(mail({ references: refs }), lookup, KEY);
    expect(d).toEqual({ kind: 'new', reason: 'new_ticket' }); // the thread root is beyond the newest 50
    const asked = lookup.calls.find((c) => c.method === 'ticketsByMessageIds')?.args[1] as string[];
    expect(asked).toHaveLength(50);
    expect(asked[0]).toBe('noise-499@spam.example');
    expect(asked[49]).toBe('noise-450@spam.example');

    const few = await decideThread(mail({ references: ['root-10@client.example', 'a@x.example', 'b@x.example'] }), world(), KEY, { maxReferences: 2 });
    expect(few).toEqual({ kind: 'new', reason: 'new_ticket' });
    const enough = await decideThread(mail({ references: ['root-10@client.example', 'a@x.example', 'b@x.example'] }), world(), KEY, { maxReferences: 3 });
    expect(enough).toEqual({ kind: 'existing', ticketId: 10, reason: 'references' });
  });
});

describe('decideThread: signed Message-IDs', () => {
  it('joins the ticket named by a valid signed id even when the store does not know it', async () => {
    const lookup = world();
    const d = await decideThread(mail({ inReplyTo: [signed(1, 11)] }), lookup, KEY);
    expect(d).toEqual({ kind: 'existing', ticketId: 11, reason: 'signed_message_id' });
    expect(lookup.calls).toEqual([{ method: 'ticketExists', args: [1, 11] }]);
  });

  it('accepts a signed id that a mail system upper-cased', async () => {
    const d = await decideThread(mail({ references: [signed(1, 10).toUpperCase()] }), world(), KEY);
    expect(d).toEqual({ kind: 'existing', ticketId: 10, reason: 'signed_message_id' });
  });

  it('does not trust a signed id with a bad HMAC', async () => {
    const good = signed(1, 10);
    const forged = good.replace('mr1.10.1.', 'mr1.11.1.');
    const d = await decideThread(mail({ inReplyTo: [forged] }), world(), KEY);
    expect(d).toEqual({ kind: 'new', reason: 'new_ticket' });
  });

  it('does not trust an id signed with another key', async () => {
    const foreign = formatSignedMessageId({ tenantId: 1, ticketId: 10, domain: 'support.acme-tools.example' }, Buffer.alloc(32, 1));
    expect(await decideThread(mail({ inReplyTo: [foreign] }), world(), KEY)).toEqual({ kind: 'new', reason: 'new_ticket' });
  });

  it('still matches a forged-looking id that the tenant has stored (lookup decides)', async () => {
    const forged = signed(1, 10).replace('mr1.10.1.', 'mr1.11.1.');
    const lookup = new FakeLookup([{ tenantId: 1, ticketId: 12, number: 3, participants: [], messageIds: [forged] }]);
    expect(await decideThread(mail({ inReplyTo: [forged] }), lookup, KEY)).toEqual({ kind: 'existing', ticketId: 12, reason: 'references' });
  });

  it("ignores another tenant's signed id, unless this tenant stored it", async () => {
    const theirs = signed(2, 20);
    const lookup = world();
    expect(await decideThread(mail({ inReplyTo: [theirs] }), lookup, KEY)).toEqual({ kind: 'new', reason: 'new_ticket' });
    expect(lookup.count('ticketExists')).toBe(0);

    const stored = new FakeLookup([{ tenantId: 1, ticketId: 10, number: 1, participants: [], messageIds: [theirs] }]);
    expect(await decideThread(mail({ inReplyTo: [theirs] }), stored, KEY)).toEqual({ kind: 'existing', ticketId: 10, reason: 'references' });
  });

  it('does not join a deleted ticket; older evidence is still used', async () => {
    const deleted = signed(1, 99);
    expect(await decideThread(mail({ inReplyTo: [deleted] }), world(), KEY)).toEqual({ kind: 'new', reason: 'new_ticket' });
    const d = await decideThread(mail({ references: ['root-11@client.example', deleted] }), world(), KEY);
    expect(d).toEqual({ kind: 'existing', ticketId: 11, reason: 'references' });
  });

  it('follows the newest evidence whichever kind it is', async () => {
    const newerSigned = await decideThread(mail({ references: ['root-10@client.example', signed(1, 11)] }), world(), KEY);
    expect(newerSigned).toEqual({ kind: 'existing', ticketId: 11, reason: 'signed_message_id' });
    const newerStored = await decideThread(mail({ references: [signed(1, 11), 'root-10@client.example'] }), world(), KEY);
    expect(newerStored).toEqual({ kind: 'existing', ticketId: 10, reason: 'references' });
  });

  it('wins over a subject tag naming another ticket', async () => {
    const d = await decideThread(mail({ inReplyTo: [signed(1, 11)], subject: 'Re: [#1] Printer' }), world(), KEY);
    expect(d).toEqual({ kind: 'existing', ticketId: 11, reason: 'signed_message_id' });
  });
});

describe('decideThread: subject tag', () => {
  it('joins when the sender is a participant (address compared lower-case)', async () => {
    const lookup = world();
    const d = await decideThread(mail({ subject: 'AW: [#1] Printer on fire', fromAddress: ' Alice@Example.COM ' }), lookup, KEY);
    expect(d).toEqual({ kind: 'existing', ticketId: 10, reason: 'subject_tag' });
    expect(lookup.calls.find((c) => c.method === 'isParticipant')?.args).toEqual([1, 10, 'alice@example.com']);
  });

  it('makes a new ticket for a forged tag from a non-participant, and says why', async () => {
    const d = await decideThread(mail({ subject: 'Re: [#2] please refund me', fromAddress: 'mallory@evil.example' }), world(), KEY);
    expect(d).toEqual({ kind: 'new', reason: 'subject_tag_not_participant', ticketNumberTried: 2 });
  });

  it('treats a mail without a usable From as not a participant', async () => {
    const lookup = world();
    const d = await decideThread(mail({ subject: '[#1] x', fromAddress: null }), lookup, KEY);
    expect(d).toEqual({ kind: 'new', reason: 'subject_tag_not_participant', ticketNumberTried: 1 });
    expect(lookup.count('isParticipant')).toBe(0);
  });

  it('makes a new ticket when no ticket has that number in this tenant', async () => {
    expect(await decideThread(mail({ subject: '[#777] x' }), world(), KEY)).toEqual({ kind: 'new', reason: 'new_ticket', ticketNumberTried: 777 });
    // number 4 exists in tenant 1 only; tenant 2 cannot reach it
    const d = await decideThread(mail({ tenantId: 2, subject: '[#4] x', fromAddress: 'carol@example.com' }), world(), KEY);
    expect(d).toEqual({ kind: 'new', reason: 'new_ticket', ticketNumberTried: 4 });
  });

  it('uses the first valid tag and ignores invalid ones', async () => {
    const d = await decideThread(mail({ subject: 'Re: [#0] [#-1] foo[#2] [#1] [#2]' }), world(), KEY);
    expect(d).toEqual({ kind: 'existing', ticketId: 10, reason: 'subject_tag' });
  });

  it('follows a configured tag format', async () => {
    const subjectTag = compileSubjectTag('[Ticket#<n>]');
    expect(await decideThread(mail({ subject: 'Re: [Ticket#1] x' }), world(), KEY, { subjectTag })).toEqual({
      kind: 'existing',
      ticketId: 10,
      reason: 'subject_tag',
    });
    expect(await decideThread(mail({ subject: 'Re: [#1] x' }), world(), KEY, { subjectTag })).toEqual({ kind: 'new', reason: 'new_ticket' });
  });

  it('is used only when no Message-ID matched', async () => {
    const d = await decideThread(mail({ inReplyTo: ['unknown@x.example'], subject: 'Re: [#1] x' }), world(), KEY);
    expect(d).toEqual({ kind: 'existing', ticketId: 10, reason: 'subject_tag' });
  });
});

describe('decideThread: input checks', () => {
  it('refuses an invalid tenant id', async () => {
    await expect(decideThread(mail({ tenantId: 0 }), world(), KEY)).rejects.toThrow(/tenant/);
  });

  it('drops empty and over-long ids and duplicates before asking', () => {
    const ids = candidateIds({ inReplyTo: ['a@x', ' ', 'a@x'], references: ['b@x', `${'z'.repeat(999)}@x`, 'a@x', ''] }, 50);
    expect(ids).toEqual(['a@x', 'b@x']);
    expect(candidateIds({ inReplyTo: ['a@x'], references: ['b@x'] }, 0)).toEqual([]);
    // A header of a million repeats is read only up to its budget.
    const repeats = { inReplyTo: [], references: [...Array.from({ length: 1_000_000 }, () => 'same@x'), 'newest@x'] };
    expect(candidateIds(repeats, 50)).toEqual(['newest@x', 'same@x']);
  });

  it('falls back to the default cap for a nonsensical maxReferences', async () => {
    const refs = Array.from({ length: 200 }, (_, i) => `r${i}@x.example`);
    for (const maxReferences of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const lookup = world();
      await decideThread(mail({ references: refs }), lookup, KEY, { maxReferences });
      expect((lookup.calls.find((c) => c.method === 'ticketsByMessageIds')?.args[1] as string[]).length).toBe(50);
    }
  });
});

describe('decideThread on parsed fixture mail', () => {
  const tickets = (): FakeLookup =>
    new FakeLookup([
      { tenantId: 3, ticketId: 5120, number: 2207, participants: ['j.mueller@kunde-gmbh.example'], messageIds: [] },
    ]);

  it('threads an Outlook reply by the signed Message-ID Mailroom sent', async () => {
    const parsed = await parseMail(fs.readFileSync(path.join(FIXTURES, 'outlook-reply-signed.eml')));
    const d = await decideThread(
      {
        tenantId: 3,
        fromAddress: parsed.addresses.from[0]?.address ?? null,
        inReplyTo: parsed.inReplyTo,
        references: parsed.references,
        subject: parsed.subject,
      },
      tickets(),
      KEY,
    );
    expect(d).toEqual({ kind: 'existing', ticketId: 5120, reason: 'signed_message_id' });
    // The same mail arriving at another tenant's mailbox does not thread there.
    const elsewhere = await decideThread({ tenantId: 4, fromAddress: null, inReplyTo: parsed.inReplyTo, references: parsed.references, subject: parsed.subject }, tickets(), KEY);
    expect(elsewhere).toEqual({ kind: 'new', reason: 'new_ticket', ticketNumberTried: 2207 });
  });

  it('does not let a tag-only mail from a stranger into the ticket', async () => {
    const parsed = await parseMail(fs.readFileSync(path.join(FIXTURES, 'apple-mail-tag-only.eml')));
    expect(parsed.subject).toBe('SV: [#2207] Drucker druckt nur leere Seiten');
    const input = { tenantId: 3, fromAddress: parsed.addresses.from[0]?.address ?? null, inReplyTo: parsed.inReplyTo, references: parsed.references, subject: parsed.subject };
    expect(await decideThread(input, tickets(), KEY)).toEqual({ kind: 'new', reason: 'subject_tag_not_participant', ticketNumberTried: 2207 });
  });
});
