import { describe, expect, it } from 'vitest';
import { AttachmentStatus, ConversationType, EmailAddressDirection as DbDirection } from '../../../src/generated/prisma/enums.js';
import { conversationInput } from '../../../src/conversations/input.js';
import { addressDirections, attachmentStatuses, conversationTypes, EmailAddressDirection } from '../../../src/wire/enums.js';

describe('seed enums', () => {
  it('names every number and numbers every name, both ways', () => {
    for (const seed of [conversationTypes, addressDirections, attachmentStatuses]) {
      seed.entries.forEach(([name, value], i) => {
        expect(value).toBe(i);
        expect(seed.name(value)).toBe(name);
        expect(seed.number(name)).toBe(value);
      });
    }
  });

  it('uses the database enum names (Prisma), in the same set', () => {
    expect(conversationTypes.entries.map(([n]) => n).sort()).toEqual(Object.keys(ConversationType).sort());
    expect(addressDirections.entries.map(([n]) => n).sort()).toEqual(Object.keys(DbDirection).sort());
    expect(attachmentStatuses.entries.map(([n]) => n).sort()).toEqual(Object.keys(AttachmentStatus).sort());
  });

  it('reads a number outside the enum as UNKNOWN', () => {
    expect(addressDirections.name(99)).toBe('UNKNOWN');
    expect(addressDirections.name(-1)).toBe('UNKNOWN');
    expect(conversationTypes.name(1.5)).toBe('UNKNOWN');
  });

  it('accepts a name in any case and refuses an unknown one', () => {
    expect(conversationTypes.number('note_private')).toBe(2);
    expect(addressDirections.number('Reply_To')).toBe(EmailAddressDirection.REPLY_TO);
    expect(addressDirections.number('SENDER')).toBeUndefined();
    expect(addressDirections.number('')).toBeUndefined();
  });

  it('describes the enum for the API documentation', () => {
    expect(addressDirections.describe()).toBe('0 UNKNOWN, 1 FROM, 2 TO, 3 CC, 4 BCC, 5 FORWARDED_TO, 6 RESENT_FROM, 7 REPLY_TO');
    expect(conversationTypes.describe({ exclude: ['UNKNOWN'] })).toBe('1 REPLY_INBOUND, 2 NOTE_PRIVATE, 3 NOTE_PUBLIC, 4 FORWARD, 5 REPLY_OUTBOUND, 6 SUGGESTED_REPLY');
    expect(attachmentStatuses.seedName).toBe('attachment_status');
  });
});

describe('enum input', () => {
  const parse = (type: unknown, direction: unknown) => conversationInput.safeParse({ type, email_addresses: [{ email: 'a@example.com', direction }] });

  it('takes the number or the name in any case, and gives the number', () => {
    const byName = parse('note_private', 'cc');
    expect(byName.success && byName.data).toMatchObject({ type: 2, email_addresses: [{ direction: 3 }] });
    const byNumber = parse(5, 0);
    expect(byNumber.success && byNumber.data).toMatchObject({ type: 5, email_addresses: [{ direction: 0 }] });
  });

  it('refuses an excluded name or number (type UNKNOWN) and unknown ones', () => {
    expect(parse('unknown', 1).success).toBe(false);
    expect(parse(0, 1).success).toBe(false);
    expect(parse(1, 8).success).toBe(false);
    expect(parse(1, 'sender').success).toBe(false);
  });
});
