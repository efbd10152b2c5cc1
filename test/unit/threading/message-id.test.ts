// Mailroom's signed outbound Message-ID: format, round trip, case folding,
// and that no tampering (any single-character change, a different key,
// non-canonical numbers, over-long ids) is ever accepted.

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isMailroomError } from '../../../src/errors.js';
import { formatSignedMessageId, parseSignedMessageId } from '../../../src/threading/message-id.js';

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const OTHER_KEY = Buffer.alloc(32, 7);

// RFC 5322 dot-atom-text: atext runs separated by single dots.
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const DOT_ATOM = new RegExp(`^${ATEXT}(?:\\.${ATEXT})*$`);

function isRfc5322MsgId(id: string): boolean {
  const at = id.indexOf('@');
  return at > 0 && DOT_ATOM.test(id.slice(0, at)) && DOT_ATOM.test(id.slice(at + 1));
}

describe('formatSignedMessageId', () => {
  it('writes mr1.<ticket>.<tenant>.<conversation>.<nonce>.<hmac>@<domain>, lower-case, a valid msg-id', () => {
    const id = formatSignedMessageId({ tenantId: 7, ticketId: 4211, domain: 'Mail.Example.COM' }, KEY);
    expect(id).toMatch(/^mr1\.4211\.7\.0\.[0-9a-f]{32}\.[0-9a-f]{32}@mail\.example\.com$/);
    expect(isRfc5322MsgId(id)).toBe(true);
    expect(id.length).toBeLessThanOrEqual(255);
  });

  it('is unique per call (random nonce)', () => {
    const ids = new Set(Array.from({ length: 200 }, () => formatSignedMessageId({ tenantId: 1, ticketId: 1, domain: 'example.com' }, KEY)));
    expect(ids.size).toBe(200);
  });

  it('is deterministic for a given nonce and covers conversation id', () => {
    const a = formatSignedMessageId({ tenantId: 3, ticketId: 9, conversationId: 12, nonce: 'abcdef0123', domain: 'example.com' }, KEY);
    const b = formatSignedMessageId({ tenantId: 3, ticketId: 9, conversationId: 12, nonce: 'abcdef0123', domain: 'example.com' }, KEY);
    expect(a).toBe(b);
    expect(a.startsWith('mr1.9.3.12.abcdef0123.')).toBe(true);
  });

  it('uses HMAC-SHA256 truncated to 16 bytes over a domain-separated field list', () => {
    const id = formatSignedMessageId({ tenantId: 3, ticketId: 9, nonce: 'n0nce0001', domain: 'example.com' }, KEY);
    const msg = ['mailroom/outbound-message-id', 'mr1', 3, 9, 0, 'n0nce0001', 'example.com'].join('\0');
    const mac = createHmac('sha256', KEY).update(msg).digest().subarray(0, 16).toString('hex');
    expect(id).toBe(`mr1.9.3.0.n0nce0001.${mac}@example.com`);
  });

  it.each([
    ['tenantId 0', { tenantId: 0, ticketId: 1, domain: 'example.com' }],
    ['negative ticket', { tenantId: 1, ticketId: -1, domain: 'example.com' }],
    ['fractional ticket', { tenantId: 1, ticketId: 1.5, domain: 'example.com' }],
    ['unsafe ticket', { tenantId: 1, ticketId: 2 ** 53, domain: 'example.com' }],
    ['conversation 0', { tenantId: 1, ticketId: 1, conversationId: 0, domain: 'example.com' }],
    ['nonce with a dot', { tenantId: 1, ticketId: 1, nonce: 'abc.defgh', domain: 'example.com' }],
    ['short nonce', { tenantId: 1, ticketId: 1, nonce: 'abc', domain: 'example.com' }],
    ['upper-case nonce', { tenantId: 1, ticketId: 1, nonce: 'ABCDEFGHI', domain: 'example.com' }],
    ['domain with @', { tenantId: 1, ticketId: 1, domain: 'a@example.com' }],
    ['domain with space', { tenantId: 1, ticketId: 1, domain: 'exa mple.com' }],
    ['empty domain', { tenantId: 1, ticketId: 1, domain: '' }],
    ['empty label', { tenantId: 1, ticketId: 1, domain: 'example..com' }],
    ['too long overall', { tenantId: 1, ticketId: 1, domain: `${'a'.repeat(60)}.`.repeat(4) + 'com' }],
  ])('rejects %s', (_name, input) => {
    let caught: unknown;
    try {
      formatSignedMessageId(input, KEY);
    } catch (err) {
      caught = err;
    }
    expect(isMailroomError(caught, 'VALIDATION')).toBe(true);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => formatSignedMessageId({ tenantId: 1, ticketId: 1, domain: 'example.com' }, Buffer.alloc(16))).toThrow(/32 bytes/);
    expect(() => parseSignedMessageId('x@example.com', Buffer.alloc(33))).toThrow(/32 bytes/);
  });
});

describe('parseSignedMessageId', () => {
  const id = formatSignedMessageId({ tenantId: 42, ticketId: 1001, conversationId: 5, domain: 'helpdesk.example.org' }, KEY);

  it('round-trips tenant, ticket and conversation', () => {
    expect(parseSignedMessageId(id, KEY)).toEqual({ tenantId: 42, ticketId: 1001, conversationId: 5 });
    const noConv = formatSignedMessageId({ tenantId: 1, ticketId: Number.MAX_SAFE_INTEGER, domain: 'x.io' }, KEY);
    expect(parseSignedMessageId(noConv, KEY)).toEqual({ tenantId: 1, ticketId: Number.MAX_SAFE_INTEGER, conversationId: null });
  });

  it('survives a mail system that upper-cases or mixes case', () => {
    expect(parseSignedMessageId(id.toUpperCase(), KEY)).toEqual({ tenantId: 42, ticketId: 1001, conversationId: 5 });
    const mixed = [...id].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('');
    expect(parseSignedMessageId(mixed, KEY)?.ticketId).toBe(1001);
  });

  it('rejects every single-character change (substitution, deletion, insertion)', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789.@-_+';
    let tried = 0;
    for (let i = 0; i < id.length; i++) {
      const original = id[i] ?? '';
      for (const c of alphabet) {
        if (c === original.toLowerCase()) continue; // a case change is not a change
        const changed = id.slice(0, i) + c + id.slice(i + 1);
        expect(parseSignedMessageId(changed, KEY), changed).toBeNull();
        const inserted = id.slice(0, i) + c + id.slice(i);
        expect(parseSignedMessageId(inserted, KEY), inserted).toBeNull();
        tried += 2;
      }
      expect(parseSignedMessageId(id.slice(0, i) + id.slice(i + 1), KEY)).toBeNull();
    }
    expect(tried).toBeGreaterThan(id.length * 30);
  });

  it('rejects an id signed with another key', () => {
    expect(parseSignedMessageId(id, OTHER_KEY)).toBeNull();
  });

  it('rejects a forged id whose fields were changed and re-used with the old HMAC', () => {
    const forged = id.replace('mr1.1001.42.', 'mr1.1002.42.');
    expect(forged).not.toBe(id);
    expect(parseSignedMessageId(forged, KEY)).toBeNull();
    const otherTenant = id.replace('mr1.1001.42.', 'mr1.1001.43.');
    expect(parseSignedMessageId(otherTenant, KEY)).toBeNull();
  });

  it('rejects non-canonical numbers even with a matching HMAC for the canonical value', () => {
    const leadingZero = id.replace('mr1.1001.', 'mr1.01001.');
    expect(parseSignedMessageId(leadingZero, KEY)).toBeNull();
  });

  it.each([
    '',
    'mr1@example.com',
    'not-ours.123@mail.gmail.com',
    'CAF=abc123+def@mail.gmail.com',
    '<mr1.1.1.0.abcdefgh.00000000000000000000000000000000@example.com>',
    'mr1.1.1.0.abcdefgh.00000000000000000000000000000000@example.com',
    'mr1.1.1.0.abcdefgh.0000000000000000000000000000000@example.com',
    'mr1.1.1.abcdefgh.00000000000000000000000000000000@example.com',
    'mr1.99999999999999999.1.0.abcdefgh.00000000000000000000000000000000@example.com',
    'mr1.1.1.0.abcdefgh.00000000000000000000000000000000@example.com@example.com',
  ])('rejects %j', (bad) => {
    expect(parseSignedMessageId(bad, KEY)).toBeNull();
  });

  it('rejects ids over 255 characters before doing any work', () => {
    expect(parseSignedMessageId(`${id}${'a'.repeat(256)}`, KEY)).toBeNull();
    const huge = 'a'.repeat(10_000_000);
    expect(parseSignedMessageId(huge, KEY)).toBeNull();
  });

  it('rejects an id whose case fold changes length', () => {
    // U+0130 lower-cases to two code units; such ids can never be ours.
    expect(parseSignedMessageId(`\u0130${id}`, KEY)).toBeNull();
  });
});
