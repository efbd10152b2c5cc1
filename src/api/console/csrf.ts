// CSRF protection of the console's forms. Three checks, every one of which a
// forged cross-site POST fails:
// - the session cookie is SameSite=Strict (admin-session.ts), so another site
//   cannot make the browser send it at all;
// - Sec-Fetch-Site, when the browser sends it, must be same-origin, and
//   Origin, when sent, must be this site's;
// - every form carries a synchronizer token tied to the session: an HMAC of
//   the session id under a key derived from MAILROOM_SECRET_KEY for this one
//   purpose. It is the session's own token (a new login gets a new one, and
//   logging out voids it) without a second value to store, and the session id
//   it is made from is an HttpOnly cookie no page script can read.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

const KEY_LABEL = 'mailroom admin console csrf v1';

/** The form field every console form posts its token in. */
export const CSRF_FIELD = '_csrf';

export function csrfToken(secretKey: Buffer, sessionId: string): string {
  const key = createHmac('sha256', secretKey).update(KEY_LABEL).digest();
  return createHmac('sha256', key).update(sessionId).digest('base64url');
}

export function csrfTokenMatches(secretKey: Buffer, sessionId: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== 43) return false;
  const expected = Buffer.from(csrfToken(secretKey, sessionId));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Why a state-changing request is refused as cross-site, or null when it comes from this site. */
export function crossSiteProblem(req: FastifyRequest, publicOrigin: string): string | null {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `The browser says this request came from another site (Sec-Fetch-Site: ${String(site)}).`;
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  try {
    if (origin === publicOrigin || new URL(origin).host === req.headers.host) return null;
  } catch {
    // "null" and other non-URLs: not this site.
  }
  return 'The form was sent from another site (Origin does not match).';
}
