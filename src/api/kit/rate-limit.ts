// Requests per token on the tenant API (/api/…), with @fastify/rate-limit: a
// token (or, without one, a client address) over MAILROOM_API_RATE_LIMIT
// requests in MAILROOM_API_RATE_WINDOW_SECONDS gets a 429 in the response wrap
// (errors[].code RATE_LIMITED) with Retry-After. /healthz, /readyz, /metrics,
// /docs and /admin are never counted. The counts live in this process's memory,
// not Redis: a Redis outage must not stall every API request behind a counter,
// so each API process allows the limit on its own (docs/api-limits.md).
//
// A client that makes up a new token for each request would get a fresh count
// each time, and each such request still costs a token lookup: so refused
// tokens (401) are also counted per client address, and an address with too
// many refusals in a window is answered 429 before any lookup.
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

/**
 * Refusals per key in fixed windows, in memory, at most `maxKeys` keys (the
 * oldest dropped first). Pure apart from the clock passed in.
 */
export class RefusalCounter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  add(key: string, now: number): void {
    const w = this.current(key, now);
    if (w) w.count++;
    else {
      if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
      this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
    }
  }

  /** Seconds until the key may try again, or null while it is under the limit. */
  blockedFor(key: string, now: number): number | null {
    const w = this.current(key, now);
    return w && w.count >= this.limit ? Math.max(1, Math.ceil((w.resetAt - now) / 1000)) : null;
  }

  private current(key: string, now: number): { count: number; resetAt: number } | undefined {
    const w = this.windows.get(key);
    if (w && w.resetAt <= now) {
      this.windows.delete(key);
      return undefined;
    }
    return w;
  }
}

/** Refused tokens one client address may send per window: a tenth of the per-token limit, at least 10. */
export function refusalLimit(max: number): number {
  return Math.max(10, Math.ceil(max / 10));
}

export async function installRateLimit(app: FastifyInstance, deps: { config: Config }): Promise<void> {
  const { rateLimit: max, rateWindowSeconds } = deps.config.apiLimits;
  if (max === 0) return;
  const windowMs = rateWindowSeconds * 1000;
  const refusals = new RefusalCounter(refusalLimit(max), windowMs);
  // Tokens accepted within the window pass an address's block: behind a proxy every client has
  // the proxy's address, and one client's made-up tokens must not lock out the others.
  const accepted = new Map<string, number>();
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/')) return;
    const now = Date.now();
    if ((accepted.get(rateKey(req)) ?? 0) > now) return;
    const wait = refusals.blockedFor(req.ip, now);
    if (wait === null) return;
    void reply.header('retry-after', String(wait));
    throw new MailroomError('RATE_LIMITED', `Too many requests with a token that was refused from this address; retry in ${wait} s.`);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (!req.url.startsWith('/api/')) return;
    const key = rateKey(req);
    if (reply.statusCode === 401) refusals.add(req.ip, Date.now());
    else if (key.startsWith('t:') && reply.statusCode !== 429) {
      accepted.delete(key);
      if (accepted.size >= 10_000) accepted.delete(accepted.keys().next().value as string);
      accepted.set(key, Date.now() + windowMs);
    }
  });
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
