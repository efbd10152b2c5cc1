// The BullMQ dashboard (bull-board) at /admin/queues, for people: PRODUCT.md
// "HTTP API" lists it outside the tenant tree, for ADMIN tokens.
//
// Access: the queues are shared by all tenants (one `mailbox-sync` and one
// `attachments` queue per deployment), so there is no per-tenant view to give;
// job payloads carry tenant, mailbox and attachment ids only (no mail content,
// credentials, blob keys or content hashes of a customer's files). So the board
// is for operators: with MAILROOM_OPS_TENANT set, only ADMIN tokens of that
// (operators') tenant may look; unset, the board is open to ADMIN tokens only
// while a single tenant exists (a single-tenant install), and refused to
// everyone once there are more — the login page says why.
// Because one tenant's admin must not be able to disturb another tenant's work,
// the board is read-only: bull-board refuses retry, clean, pause, empty, add
// and the like (405) on the server, not just in the UI. Recovery goes through
// the tenant-scoped API and CLI (`reprocess`).
//
// Two ways in, and the token never travels in a URL or lands in a log:
// - a browser: the token typed once on /admin/login becomes a server-side
//   session (../admin-session.ts), whose id is the HttpOnly SameSite=Strict
//   cookie; unauthenticated page loads are redirected to the login page. The
//   same login serves the admin console (../console), where it lands: any
//   tenant's ADMIN may log in there, and the board refuses (403) a session
//   whose tenant it is closed to, without ending it;
// - curl and scripts: the token as the HTTP Basic password (or a bearer token)
//   on each request; no session is made.
// A token that is unknown, revoked or expired gets 401, a USER token 403.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../../config/config.js';
import type { PrismaClient } from '../../db/prisma.js';
import type { Queues } from '../../queues/queues.js';
import {
  SESSION_COOKIE,
  clearedSessionCookie,
  createSessionStore,
  readCookie,
  sessionCookie,
  tokenFromAuthorization,
  type SessionStore,
} from '../admin-session.js';
import { tokenUsable } from '../../tokens/lifecycle.js';
import { CSRF_FIELD, crossSiteProblem, csrfToken, csrfTokenMatches } from '../console/csrf.js';
import { principalFor } from '../auth.js';
import type { Principal } from '../../tokens/principal.js';

export interface AdminQueuesOptions {
  db: PrismaClient;
  /** Holds the login sessions, under the queue prefix. */
  redis: Redis;
  config: Config;
  /** Absent: only the login (for the console), no board. */
  queues?: Queues;
}

/** Where a login lands: the admin console, which links the queue board. */
const LANDING = (base: string) => base;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Registered with `prefix: '/admin'`: serves /admin/login, /admin/logout and /admin/queues. */
export async function adminQueuesRoutes(app: FastifyInstance, opts: AdminQueuesOptions): Promise<void> {
  const base = app.prefix;
  const secure = opts.config.publicUrl.startsWith('https:');
  const refusal = (slug: string) => accessRefusal(opts.db, opts.config.opsTenant, slug);
  const sessions = createSessionStore(opts.redis, opts.config.queuePrefix);
  const publicOrigin = new URL(opts.config.publicUrl).origin;

  /** Same-origin check for state-changing requests: browsers send Origin on every POST/PUT. */
  const sameOrigin = (req: FastifyRequest): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    try {
      return origin === publicOrigin || new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  };

  // The login form posts urlencoded; the parser lives only in this plugin's scope.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  app.addHook('onSend', async (_req, reply) => {
    // The dashboard must not be framed by another site (clickjacking of a logged-in browser).
    reply.header('x-frame-options', 'DENY');
    reply.header('content-security-policy', "frame-ancestors 'none'");
    reply.header('referrer-policy', 'same-origin');
    reply.header('x-content-type-options', 'nosniff');
  });

  app.get('/login', async (req, reply) => {
    const sessionId = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (sessionId && (await sessionPrincipal(opts.db, sessions, sessionId))) return reply.redirect(LANDING(base), 303);
    return sendPage(reply, 200, loginPage(base, { closed: await closedToAll(opts.db, opts.config.opsTenant) }));
  });

  app.post('/login', async (req, reply) => {
    if (!sameOrigin(req)) return sendPage(reply, 403, messagePage('Refused', 'The login form must be sent from this site.', base));
    const body = (req.body ?? {}) as Record<string, unknown>;
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const principal = token === '' ? null : await principalFor(opts.db, `Bearer ${token}`);
    if (!principal) return sendPage(reply, 401, loginPage(base, { error: 'Unknown, revoked or expired token.' }));
    if (principal.role !== 'ADMIN') return sendPage(reply, 403, loginPage(base, { error: 'This is a USER token; the admin console and the queue dashboard need an ADMIN token.' }));
    // Any tenant's ADMIN may use the console (it shows only that tenant); the
    // queue board asks its access rule on every request of its own.
    const sessionId = await sessions.create(principal.tokenId);
    req.log.info({ tenant: principal.tenantSlug, tokenId: principal.tokenId }, 'admin login');
    reply.header('set-cookie', sessionCookie(sessionId, { secure }));
    return reply.redirect(LANDING(base), 303);
  });

  // Logging out changes state, so another site must not be able to do it (a forced logout through a
  // link, an <img> or a form): POST from this site (Origin, Sec-Fetch-Site) with the session's CSRF
  // token, as the console's button sends it without any script. A GET (the queue board's "Log out"
  // link, a typed address) logs out only when the browser says it came from this site or from the user
  // (Sec-Fetch-Site same-origin or none); any other GET gets a page with the button instead.
  const endSession = async (req: FastifyRequest, reply: FastifyReply) => {
    const sessionId = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (sessionId) await sessions.destroy(sessionId);
    reply.header('set-cookie', clearedSessionCookie({ secure }));
    return reply.redirect(`${base}/login`, 303);
  };
  app.get('/logout', async (req, reply) => {
    const site = req.headers['sec-fetch-site'];
    if (site === 'same-origin' || site === 'none') return endSession(req, reply);
    const sessionId = readCookie(req.headers.cookie, SESSION_COOKIE);
    return sendPage(reply, 200, logoutPage(base, sessionId ? csrfToken(opts.config.secretKey, sessionId) : null));
  });
  app.post('/logout', async (req, reply) => {
    const problem = crossSiteProblem(req, publicOrigin);
    if (problem) return sendPage(reply, 403, messagePage('Refused', problem, base));
    const sessionId = readCookie(req.headers.cookie, SESSION_COOKIE);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (sessionId && !csrfTokenMatches(opts.config.secretKey, sessionId, body[CSRF_FIELD])) {
      return sendPage(reply, 403, messagePage('Refused', 'The logout form is missing its security token or is from an old session; reload the page and try again.', base));
    }
    return endSession(req, reply);
  });

  // The board in its own scope, so the guard covers it (pages, API, static
  // files) and nothing else.
  const queues = opts.queues;
  if (queues) await app.register(async (board) => boardRoutes(board, { opts: { ...opts, queues }, base, secure, sessions, sameOrigin, refusal }));
}

interface BoardContext {
  opts: AdminQueuesOptions & { queues: Queues };
  base: string;
  secure: boolean;
  sessions: ReturnType<typeof createSessionStore>;
  sameOrigin: (req: FastifyRequest) => boolean;
  /** Why this tenant's ADMIN may not look, or null. */
  refusal: (slug: string) => Promise<string | null>;
}

/** The read-only BullMQ board behind the session or Basic guard. */
async function boardRoutes(board: FastifyInstance, ctx: BoardContext): Promise<void> {
  const { opts, base, secure, sessions, sameOrigin, refusal } = ctx;
  board.addHook('onRequest', async (req, reply) => {
    if (!SAFE_METHODS.has(req.method) && !sameOrigin(req)) return deny(req, reply, 403, 'Cross-site request refused.', base);
    const token = tokenFromAuthorization(req.headers.authorization);
    if (token !== undefined) {
      const principal = token === null ? null : await principalFor(opts.db, `Bearer ${token}`);
      if (!principal) return deny(req, reply, 401, 'Unknown, revoked or expired token.', base, true);
      if (principal.role !== 'ADMIN') return deny(req, reply, 403, 'The queue dashboard needs an ADMIN token.', base);
      const refused = await refusal(principal.tenantSlug);
      if (refused) return deny(req, reply, 403, refused, base);
      return;
    }
    const sessionId = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (sessionId) {
      const principal = await sessionPrincipal(opts.db, sessions, sessionId);
      if (principal) {
        const refused = await refusal(principal.tenantSlug);
        // Logged in for the console of a tenant the board is closed to: the session stays, the board is not theirs.
        return refused ? deny(req, reply, 403, refused, base) : undefined;
      }
      // Expired, logged out, or its token revoked, expired or demoted: forget it.
      await sessions.destroy(sessionId);
      reply.header('set-cookie', clearedSessionCookie({ secure }));
    }
    if (wantsHtml(req)) return reply.redirect(`${base}/login`, 302);
    // A Basic challenge only where no session was involved: after a session
    // expires, the dashboard's own fetches must not pop up the browser's
    // password dialog.
    return deny(req, reply, 401, `Log in at ${base}/login, or send an ADMIN token as the HTTP Basic password.`, base, !sessionId);
  });
  const serverAdapter = new FastifyAdapter().setBasePath(`${base}/queues`);
  createBullBoard({
    queues: [opts.queues.sync, opts.queues.attachments].map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Mailroom queues', hideDocsLink: true, miscLinks: [{ text: 'Log out', url: `${base}/logout` }] } },
  });
  await board.register(serverAdapter.registerPlugin(), { prefix: '/queues' });
}

const OTHER_TENANT = 'The queue dashboard is for the ADMIN tokens of the operators\u2019 tenant (MAILROOM_OPS_TENANT).';
export const NO_OPS_TENANT =
  'The queue dashboard shows the jobs of every tenant, so with more than one tenant it is open only to the operators\u2019 tenant, and MAILROOM_OPS_TENANT (its slug) is not set.';
const RULE =
  'Any ADMIN token opens the admin console of its tenant. The queue dashboard is open to ADMIN tokens of the operators\u2019 tenant (MAILROOM_OPS_TENANT); while that is not set, only as long as a single tenant exists.';

/**
 * The access rule of the board, asked on every login, Basic request and
 * session check (so a second tenant created later closes an open board at
 * once): why an ADMIN of `slug` may not look, or null.
 */
async function accessRefusal(db: PrismaClient, opsTenant: string | null, slug: string): Promise<string | null> {
  if (opsTenant !== null) return slug === opsTenant ? null : OTHER_TENANT;
  return (await closedToAll(db, opsTenant)) ? NO_OPS_TENANT : null;
}

/** Without MAILROOM_OPS_TENANT, more than one tenant closes the board to everyone. */
async function closedToAll(db: PrismaClient, opsTenant: string | null): Promise<boolean> {
  if (opsTenant !== null) return false;
  return (await db.tenant.findMany({ select: { id: true }, take: 2 })).length > 1;
}

/**
 * The principal of a browser session: only while its API token exists, is
 * neither revoked nor expired, and is still ADMIN. The admin console
 * (../console) takes its tenant from here; the board asks its access rule too.
 */
export async function sessionPrincipal(db: PrismaClient, sessions: SessionStore, sessionId: string): Promise<Principal | null> {
  const session = await sessions.get(sessionId);
  if (!session) return null;
  const row = await db.apiToken.findUnique({
    where: { id: session.tokenId },
    select: { id: true, tenant_id: true, user_id: true, revoked_at: true, expires_at: true, role: true, tenant: { select: { slug: true } } },
  });
  if (row === null || !tokenUsable(row) || row.role !== 'ADMIN') return null;
  return { tokenId: row.id, tenantId: row.tenant_id, tenantSlug: row.tenant.slug, userId: row.user_id, role: row.role };
}

function wantsHtml(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

/** An HTML page for a browser, JSON for the dashboard's own fetches and for scripts. */
function deny(req: FastifyRequest, reply: FastifyReply, status: 401 | 403, message: string, base: string, challenge = false): FastifyReply {
  if (challenge) reply.header('www-authenticate', 'Basic realm="Mailroom admin", charset="UTF-8"');
  if (wantsHtml(req)) return sendPage(reply, status, messagePage(status === 401 ? 'Not logged in' : 'Forbidden', message, base));
  return reply.code(status).type('application/json').send({ error: status === 401 ? 'Unauthorized' : 'Forbidden', message });
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Mailroom</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1f2328;display:flex;justify-content:center;padding-top:12vh;margin:0}
main{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:2rem;width:22rem}
h1{font-size:1.25rem;margin:0 0 1rem}label{display:block;margin-bottom:.25rem}
input{box-sizing:border-box;width:100%;padding:.5rem;margin-bottom:1rem;font:inherit}
button{padding:.5rem 1rem;font:inherit;cursor:pointer}.error{color:#b42318;margin:0 0 1rem}.rule{color:#57606a;font-size:.875rem;margin:1rem 0 0}
</style></head><body><main>${body}</main></body></html>`;
}

/** `closed`: the board is refused to everyone (no MAILROOM_OPS_TENANT, several tenants); the page says so before anyone tries. */
function loginPage(base: string, options: { error?: string; closed?: boolean } = {}): string {
  // The login itself stays open (it is the console's too); a closed board is said before anyone tries it.
  const alert = options.error ?? (options.closed ? `Queue dashboard closed: ${NO_OPS_TENANT}` : undefined);
  return layout(
    'Log in',
    `<h1>Mailroom admin</h1>
${alert ? `<p class="error" role="alert">${escapeHtml(alert)}</p>` : ''}
<form method="post" action="${base}/login">
<label for="token">ADMIN API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>
<p class="rule">${escapeHtml(RULE)}</p>`,
  );
}

/** The logout button for a GET that did not come from this site: a form, so no script is needed. */
function logoutPage(base: string, csrf: string | null): string {
  const token = csrf ? `<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(csrf)}">` : '';
  return layout('Log out', `<h1>Log out?</h1><form method="post" action="${base}/logout">${token}<button type="submit">Log out</button></form>`);
}

function messagePage(title: string, message: string, base: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p class="error" role="alert">${escapeHtml(message)}</p><p><a href="${base}/login">Log in with an ADMIN token</a></p>`);
}
