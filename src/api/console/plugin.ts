// The admin console at /admin: a small server-rendered site for a tenant's
// ADMIN (mailboxes and their health, the ingest log with reprocess, tickets as
// an agent reads them). It logs in through /admin/login like the queue board
// (../routes/admin-queues.ts) and holds only that session cookie; an ADMIN
// token sent as a header is not enough here, because every form is tied to
// the session (csrf.ts). It reads and writes only through the services the
// API's routes call (mailboxes/service.ts, mailboxes/connection.ts,
// ../ingest-records.ts, conversations/tickets.ts, conversations/service.ts),
// so the console cannot show or do anything the API would not.
//
// Pages: no inline script or style (Content-Security-Policy default-src
// 'self'), one stylesheet of its own, no JavaScript at all; every value is
// escaped by the html`` builder (html.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE, clearedSessionCookie, createSessionStore, readCookie, tokenFromAuthorization } from '../admin-session.js';
import { principalFor } from '../auth.js';
import { sessionPrincipal } from '../routes/admin-queues.js';
import { describeError, isMailroomError } from '../../errors.js';
import { CSRF_FIELD, crossSiteProblem, csrfToken, csrfTokenMatches } from './csrf.js';
import { BASE, bare, type Notice } from './layout.js';
import type { Html } from './html.js';
import type { ConsoleAuth, ConsoleDeps, ConsoleOptions } from './types.js';
import { mailboxConsoleRoutes } from './mailbox-routes.js';
import { ticketConsoleRoutes } from './ticket-routes.js';

export type { ConsoleOptions } from './types.js';
import { CONSOLE_CSS } from './style.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A console route anyone may fetch (the stylesheet). */
    consolePublic?: boolean;
  }
}

const FLASH_COOKIE = 'mailroom_flash';

export async function consoleRoutes(app: FastifyInstance, deps: ConsoleOptions): Promise<void> {
  const { db, config } = deps;
  const sessions = createSessionStore(deps.redis, config.queuePrefix);
  const secure = config.publicUrl.startsWith('https:');
  const publicOrigin = new URL(config.publicUrl).origin;
  const authOf = new WeakMap<FastifyRequest, ConsoleAuth>();

  const send = (reply: FastifyReply, status: number, body: Html | string) => reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(String(body));
  const refuse = (reply: FastifyReply, status: number, title: string, message: string) => send(reply, status, bare(title, message, { href: `${BASE}/login`, text: 'Log in with an ADMIN token' }));

  // Room for a mailbox's private CA (up to 256 KiB of PEM, percent-encoded by the browser).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 768 * 1024 }, (_req, body, done) => {
    done(null, new URLSearchParams(String(body)));
  });

  app.addHook('onSend', async (req, reply) => {
    // The conversation frame sets its own, looser-for-style policy (ticket-routes.ts).
    if (!reply.hasHeader('content-security-policy')) {
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
      reply.header('x-frame-options', 'DENY');
    }
    reply.header('referrer-policy', 'same-origin');
    reply.header('x-content-type-options', 'nosniff');
    void req;
  });

  // Errors as pages: a missing id or a bad filter says so in a sentence; anything else is logged, not shown.
  app.setErrorHandler(async (err, req, reply) => {
    const status = isMailroomError(err) ? err.status : ((err as { statusCode?: number }).statusCode ?? 500);
    if (status < 500) return send(reply, status, bare(status === 404 ? 'Not found' : 'Not possible', err instanceof Error ? err.message : 'Bad request.', { href: BASE, text: 'Back to the mailboxes' }));
    req.log.error({ err: describeError(err), path: req.url.split('?', 1)[0] }, 'console request failed');
    return send(reply, 500, bare('Something went wrong', 'The console could not do this; the server log says why.', { href: BASE, text: 'Back to the mailboxes' }));
  });

  app.get('/static/console.css', { config: { consolePublic: true } }, async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=300').type('text/css; charset=utf-8').send(CONSOLE_CSS),
  );

  // Who: the login session, ADMIN only.
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config.consolePublic) return;
    const sessionId = readCookie(req.headers.cookie, SESSION_COOKIE);
    const principal = sessionId ? await sessionPrincipal(db, sessions, sessionId) : null;
    if (principal && sessionId) {
      authOf.set(req, { principal, csrf: csrfToken(config.secretKey, sessionId) });
      return;
    }
    if (sessionId) {
      // Expired, logged out, or its token revoked: forget it.
      await sessions.destroy(sessionId);
      reply.header('set-cookie', clearedSessionCookie({ secure }));
    }
    const token = tokenFromAuthorization(req.headers.authorization);
    const asked = token ? await principalFor(db, `Bearer ${token}`) : null;
    if (asked && asked.role !== 'ADMIN') return refuse(reply, 403, 'Forbidden', 'The admin console needs an ADMIN login; this is a USER token.');
    if (req.method === 'GET' || req.method === 'HEAD') return reply.redirect(`${BASE}/login`, 302);
    return refuse(reply, 401, 'Not logged in', `Log in at ${BASE}/login with an ADMIN token.`);
  });

  // Forms: same site only, and the session's token.
  app.addHook('preHandler', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const auth = authOf.get(req);
    const sessionId = readCookie(req.headers.cookie, SESSION_COOKIE);
    const problem = crossSiteProblem(req, publicOrigin);
    if (problem) return refuse(reply, 403, 'Refused', problem);
    const body = req.body instanceof URLSearchParams ? req.body : null;
    if (!auth || !sessionId || !csrfTokenMatches(config.secretKey, sessionId, body?.get(CSRF_FIELD))) {
      req.log.warn({ path: req.url.split('?', 1)[0] }, 'console form refused: missing or wrong CSRF token');
      return refuse(reply, 403, 'Refused', 'The form is missing its security token or is from an old session; reload the page and try again.');
    }
  });

  const ctx: ConsoleDeps = {
    db,
    redis: deps.redis,
    config,
    ingest: deps.ingest,
    queues: deps.queues,
    auth(req) {
      const auth = authOf.get(req);
      if (!auth) throw new Error('console route without a session');
      return auth;
    },
    context(req, reply, notice) {
      const auth = ctx.auth(req);
      return { principal: auth.principal, csrf: auth.csrf, notice: notice ?? takeFlash(req, reply, secure) };
    },
    redirectWith(reply, location, notice) {
      const value = Buffer.from(JSON.stringify({ kind: notice.kind, text: notice.text.slice(0, 500) })).toString('base64url');
      reply.header('set-cookie', `${FLASH_COOKIE}=${value}; Path=${BASE}; HttpOnly; SameSite=Strict; Max-Age=60${secure ? '; Secure' : ''}`);
      return reply.redirect(location, 303);
    },
    send,
  };
  mailboxConsoleRoutes(app, ctx);
  ticketConsoleRoutes(app, ctx);
}

/** The notice a redirect left, read once. */
function takeFlash(req: FastifyRequest, reply: FastifyReply, secure: boolean): Notice | null {
  const raw = readCookie(req.headers.cookie, FLASH_COOKIE);
  if (!raw) return null;
  reply.header('set-cookie', `${FLASH_COOKIE}=; Path=${BASE}; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`);
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Notice>;
    const kind = parsed.kind === 'ok' || parsed.kind === 'bad' ? parsed.kind : 'info';
    return typeof parsed.text === 'string' ? { kind, text: parsed.text.slice(0, 500) } : null;
  } catch {
    return null;
  }
}
