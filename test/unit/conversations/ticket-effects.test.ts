import { describe, expect, it } from 'vitest';
import { movesLastActivity, statusAfter, ticketEffects } from '../../../src/conversations/ticket-effects.js';
import type { ConversationEffect, TicketRules } from '../../../src/conversations/ticket-effects.js';

const NEW = { id: 1, isClosed: false };
const OPEN = { id: 2, isClosed: false };
const CLOSED = { id: 3, isClosed: true };
const rules: TicketRules = { reopenOnReply: true, open: OPEN };
const t0 = new Date('2026-01-01T10:00:00Z');
const t1 = new Date('2026-01-01T11:00:00Z');

function c(over: Partial<ConversationEffect> = {}): ConversationEffect {
  return { type: 'REPLY_INBOUND', automatic: false, status: null, created: t0, ...over };
}

describe('statusAfter', () => {
  it('reopens a closed ticket on an inbound reply from a person when the tenant says so', () => {
    expect(statusAfter(CLOSED, c(), rules)).toBe(OPEN);
    expect(statusAfter(CLOSED, c(), { ...rules, reopenOnReply: false })).toBe(CLOSED);
    expect(statusAfter(CLOSED, c(), { reopenOnReply: true, open: null })).toBe(CLOSED);
    expect(statusAfter(NEW, c(), rules)).toBe(NEW);
  });

  it('never reopens for an auto-reply or bounce, or for other types', () => {
    expect(statusAfter(CLOSED, c({ automatic: true }), rules)).toBe(CLOSED);
    for (const type of ['REPLY_OUTBOUND', 'FORWARD', 'NOTE_PRIVATE', 'NOTE_PUBLIC', 'SUGGESTED_REPLY'] as const) {
      expect(statusAfter(CLOSED, c({ type }), rules)).toBe(CLOSED);
    }
  });

  it('takes a given status over the reopen rule', () => {
    expect(statusAfter(CLOSED, c({ status: NEW }), rules)).toBe(NEW);
    expect(statusAfter(OPEN, c({ type: 'NOTE_PRIVATE', status: CLOSED }), rules)).toBe(CLOSED);
  });
});

describe('movesLastActivity', () => {
  it('moves for replies and forwards from people only', () => {
    expect(['REPLY_INBOUND', 'REPLY_OUTBOUND', 'FORWARD'].map((type) => movesLastActivity(c({ type: type as ConversationEffect['type'] })))).toEqual([true, true, true]);
    expect(['NOTE_PRIVATE', 'NOTE_PUBLIC', 'SUGGESTED_REPLY', 'UNKNOWN'].map((type) => movesLastActivity(c({ type: type as ConversationEffect['type'] })))).toEqual([false, false, false, false]);
    expect(movesLastActivity(c({ automatic: true }))).toBe(false);
  });
});

describe('ticketEffects', () => {
  it('gives each conversation the status it leaves, in order, and the last one for the ticket', () => {
    const effects = ticketEffects(OPEN, [c({ type: 'NOTE_PRIVATE', status: CLOSED }), c(), c({ type: 'NOTE_PUBLIC' })], rules);
    expect(effects.statuses).toEqual([CLOSED, OPEN, OPEN]);
    expect(effects.status).toBe(OPEN);
  });

  it('moves the last activity to the latest conversation that moves it, or not at all', () => {
    expect(ticketEffects(OPEN, [c({ created: t1 }), c({ type: 'FORWARD', created: t0 })], rules).lastActivity).toBe(t1);
    expect(ticketEffects(OPEN, [c({ type: 'NOTE_PRIVATE', created: t1 }), c({ created: t0 })], rules).lastActivity).toBe(t0);
    expect(ticketEffects(OPEN, [c({ type: 'NOTE_PRIVATE' }), c({ automatic: true })], rules).lastActivity).toBeNull();
  });

  it('leaves the ticket as it is with no conversations', () => {
    expect(ticketEffects(CLOSED, [], rules)).toEqual({ statuses: [], status: CLOSED, lastActivity: null });
  });
});
