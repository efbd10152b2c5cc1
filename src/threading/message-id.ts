// Mailroom's own outbound Message-ID. Every mail Mailroom sends carries an id
// that names the tenant and ticket and is signed with an HMAC, so a reply that
// quotes it in In-Reply-To/References can be threaded even when the stored
// outbound id was lost, while nobody can make up an id that points into a
// ticket (or a tenant) they do not know the key of.
//
// Format (no angle brackets, all lower-case, a valid RFC 5322 dot-atom msg-id):
//
//   mr1.<ticketId>.<tenantId>.<conversationId|0>.<nonce>.<hmac>@<domain>
//
// - numbers are decimal without leading zeros (one spelling per value);
// - nonce: 32 lower-case hex chars (16 random bytes) unless given;
// - hmac: HMAC-SHA256 truncated to 16 bytes, lower-case hex, over a
//   domain-separated string of version, tenant, ticket, conversation, nonce
//   and domain. Everything in the id is covered, so no character can change.
// Mail systems may fold case; the id is lower-case throughout and parsing
// lower-cases first, so a case change never breaks verification.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { MailroomError } from '../errors.js';

export interface SignedMessageIdInput {
  tenantId: number;
  ticketId: number;
  /** Conversation the mail belongs to, when known (covered by the HMAC). */
  conversationId?: number;
  /** Lower-case `[0-9a-z]{8,64}`; random 16 bytes hex when left out (tests pass one). */
  nonce?: string;
  /** Right-hand side, a host name such as `mail.example.com`. */
  domain: string;
}

export interface SignedMessageIdFields {
  tenantId: number;
  ticketId: number;
  /** Null when the id was issued without a conversation. */
  conversationId: number | null;
}

const VERSION = 'mr1';
const KEY_BYTES = 32;
const MAC_BYTES = 16;
/** RFC 5321 path limits make longer ids useless; parsing rejects them before any work. */
export const MAX_MESSAGE_ID_CHARS = 255;

const POSITIVE_INT = /^[1-9][0-9]{0,15}$/;
const NONCE = /^[0-9a-z]{8,64}$/;
const MAC_HEX = /^[0-9a-f]{32}$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Builds a new signed Message-ID (without angle brackets). Throws VALIDATION on bad input. */
export function formatSignedMessageId(input: SignedMessageIdInput, key: Buffer): string {
  checkKey(key);
  const tenantId = checkId('tenantId', input.tenantId);
  const ticketId = checkId('ticketId', input.ticketId);
  const conversationId = input.conversationId === undefined ? 0 : checkId('conversationId', input.conversationId);
  const nonce = input.nonce ?? randomBytes(16).toString('hex');
  if (!NONCE.test(nonce)) throw invalid('nonce', 'must be 8 to 64 lower-case letters or digits');
  const domain = input.domain.toLowerCase();
  if (!isHostName(domain)) throw invalid('domain', 'must be a host name such as mail.example.com');

  const mac = computeMac(key, tenantId, ticketId, conversationId, nonce, domain);
  const id = `${VERSION}.${ticketId}.${tenantId}.${conversationId}.${nonce}.${mac}@${domain}`;
  if (id.length > MAX_MESSAGE_ID_CHARS) throw invalid('domain', `makes the Message-ID longer than ${MAX_MESSAGE_ID_CHARS} characters`);
  return id;
}

/**
 * Reads a Mailroom signed Message-ID (without angle brackets). Returns null
 * unless the id has exactly the format above and its HMAC verifies with `key`.
 * The caller still checks that the tenant is the mailbox's and the ticket exists.
 */
export function parseSignedMessageId(id: string, key: Buffer): SignedMessageIdFields | null {
  checkKey(key);
  if (typeof id !== 'string' || id.length > MAX_MESSAGE_ID_CHARS) return null;
  const lower = id.toLowerCase();
  // A case fold that changes the length (some non-ASCII letters) cannot be ours.
  if (lower.length !== id.length) return null;

  const at = lower.indexOf('@');
  if (at < 0 || lower.indexOf('@', at + 1) >= 0) return null;
  const domain = lower.slice(at + 1);
  const parts = lower.slice(0, at).split('.');
  if (parts.length !== 6 || !isHostName(domain)) return null;
  const [version, ticketText, tenantText, conversationText, nonce, mac] = parts as [string, string, string, string, string, string];
  if (version !== VERSION || !NONCE.test(nonce) || !MAC_HEX.test(mac)) return null;

  const ticketId = readId(ticketText);
  const tenantId = readId(tenantText);
  const conversationId = conversationText === '0' ? 0 : readId(conversationText);
  if (ticketId === null || tenantId === null || conversationId === null) return null;

  const expected = Buffer.from(computeMac(key, tenantId, ticketId, conversationId, nonce, domain), 'hex');
  const given = Buffer.from(mac, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return { tenantId, ticketId, conversationId: conversationId === 0 ? null : conversationId };
}

function computeMac(key: Buffer, tenantId: number, ticketId: number, conversationId: number, nonce: string, domain: string): string {
  // NUL separators cannot occur in any field, so no two field lists share a message.
  const message = ['mailroom/outbound-message-id', VERSION, tenantId, ticketId, conversationId, nonce, domain].join('\0');
  return createHmac('sha256', key).update(message, 'utf8').digest().subarray(0, MAC_BYTES).toString('hex');
}

function readId(text: string): number | null {
  if (!POSITIVE_INT.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

function isHostName(domain: string): boolean {
  if (domain.length === 0 || domain.length > 253) return false;
  return domain.split('.').every((label) => label.length <= 63 && DNS_LABEL.test(label));
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new MailroomError('CONFIG_INVALID', `The Message-ID signing key must be ${KEY_BYTES} bytes`);
  }
}

function checkId(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw invalid(field, 'must be a positive safe integer');
  return value;
}

function invalid(field: string, message: string): MailroomError {
  return new MailroomError('VALIDATION', `Cannot build a Message-ID: ${field} ${message}`, { fields: [{ field, message }] });
}
