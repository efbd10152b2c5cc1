// Browser sessions for the ops dashboard (/admin/queues). A person types the
// ADMIN token once on the login page; from then on the browser carries only a
// random session id in an HttpOnly, SameSite=Strict cookie. The token itself is
// never put in a cookie, a URL or a log line, and Redis holds only the sha256
// of the session id (a dump of Redis does not yield usable cookies) next to the
// API token's row id, which is checked again on every request so that revoking
// the token, or its expiry, ends its sessions at once (src/api/routes/admin-queues.ts).
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export const SESSION_COOKIE = 'mailroom_admin';
/** Absolute lifetime (no sliding renewal): a forgotten browser tab stops working after a working day. */
export const SESSION_TTL_SECONDS = 8 * 3600;

/** 32 random bytes in base64url: exactly 43 characters, which is checked before Redis is asked. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export interface AdminSession {
  tokenId: number;
  createdAt: string;
}

export interface SessionStore {
  /** Stores a new session and returns its id (the cookie value). */
  create(tokenId: number): Promise<string>;
  get(sessionId: string): Promise<AdminSession | null>;
  destroy(sessionId: string): Promise<void>;
}

/** Sessions live under the queue prefix, so one Redis (and its cluster hash tag) holds all of Mailroom's keys. */
export function createSessionStore(redis: Redis, prefix: string, ttlSeconds = SESSION_TTL_SECONDS): SessionStore {
  const key = (sessionId: string) => `${prefix}:admin-session:${createHash('sha256').update(sessionId).digest('hex')}`;
  return {
    async create(tokenId) {
      const sessionId = randomBytes(32).toString('base64url');
      const session: AdminSession = { tokenId, createdAt: new Date().toISOString() };
      await redis.set(key(sessionId), JSON.stringify(session), 'EX', ttlSeconds);
      return sessionId;
    },
    async get(sessionId) {
      if (!SESSION_ID.test(sessionId)) return null;
      const raw = await redis.get(key(sessionId));
      if (raw === null) return null;
      try {
        const parsed = JSON.parse(raw) as Partial<AdminSession>;
        return typeof parsed.tokenId === 'number' ? { tokenId: parsed.tokenId, createdAt: String(parsed.createdAt) } : null;
      } catch {
        return null;
      }
    },
    async destroy(sessionId) {
      if (SESSION_ID.test(sessionId)) await redis.del(key(sessionId));
    },
  };
}

/** One cookie's value from a `Cookie` header (no dependency on a cookie plugin for one name). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Path=/admin keeps the cookie away from the tenant API (which takes bearer
 * tokens only); SameSite=Strict means no other site can make the browser send
 * it, which is the CSRF protection of the dashboard; Secure when served over https.
 */
export function sessionCookie(sessionId: string, options: { secure: boolean; maxAgeSeconds?: number }): string {
  const maxAge = options.maxAgeSeconds ?? SESSION_TTL_SECONDS;
  return [`${SESSION_COOKIE}=${sessionId}`, 'Path=/admin', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAge}`, ...(options.secure ? ['Secure'] : [])].join('; ');
}

export function clearedSessionCookie(options: { secure: boolean }): string {
  return sessionCookie('', { ...options, maxAgeSeconds: 0 });
}

/**
 * The API token in an Authorization header: the password of HTTP Basic (the
 * user name is ignored, so `curl -u :TOKEN` works) or a bearer token.
 * Undefined when there is no header; null when there is one that holds no token.
 */
export function tokenFromAuthorization(header: string | undefined): string | null | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer?.[1]) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic?.[1]) return null;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon >= 0 ? decoded.slice(colon + 1) : '';
  return /^\S+$/.test(password) ? password : null;
}
