// Requests per token on the tenant API (/api/…), with @fastify/rate-limit: a
// token (or, without one, a client address) over MAILROOM_API_RATE_LIMIT
// requests in MAILROOM_API_RATE_WINDOW_SECONDS gets a 429 in the response wrap
// (errors[].code RATE_LIMITED) with Retry-After. /healthz, /readyz, /metrics,
// /docs and /admin are never counted. The counts live in this process's memory,
// not Redis: a Redis outage must not stall every API request behind a counter,
// so each API process allows the limit on its own (docs/api-limits.md).
import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import { MailroomError } from '../../errors.js';

/** The counter's key: a hash of the bearer token (the token itself is never kept), else the client address. */
export function rateKey(req: FastifyRequest): string {
  const auth = req.headers.authorization;
  const token = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth.trim())?.[1] : undefined;
  return token ? `t:${createHash('sha256').update(token).digest('base64url').slice(0, 22)}` : `ip:${req.ip}`;
}

export async function installRateLimit(app: FastifyInstance, deps: { config: Config }): Promise<void> {
  const { rateLimit: max, rateWindowSeconds } = deps.config.apiLimits;
  if (max === 0) return;
  await app.register(rateLimit, {
    // Not per route: one app-level onRequest hook (below), so the limit is checked before a route's
    // own hooks — a flood of bad tokens is refused without a token lookup each.
    global: false,
    max,
    timeWindow: rateWindowSeconds * 1000,
    // Keys kept at once (least recently used dropped first): bounded memory whatever the clients send.
    cache: 10_000,
    keyGenerator: rateKey,
    allowList: (req) => !req.url.startsWith('/api/'),
    errorResponseBuilder: (_req, ctx) =>
      new MailroomError('RATE_LIMITED', `Too many requests: at most ${ctx.max} per ${rateWindowSeconds} s for one token; retry in ${Math.max(1, Math.ceil(ctx.ttl / 1000))} s.`),
  });
  app.addHook('onRequest', app.rateLimit());
}
