// GET /: a small HTML page saying what this server is and linking the rest
// (API docs, admin console, queues, metrics, health), so the first URL a
// newcomer opens after `mailroom start` is not a JSON 404.
//
// Static, no token, nothing tenant-specific. Its Content-Security-Policy
// allows nothing but its own stylesheet (by hash): no script at all, no
// framing, no forms, no remote content.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/swagger';

const CSS = `body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#1d2430}
h1{font-size:1.6rem;margin-bottom:.25rem}p.lead{margin-top:0;color:#4a5568}
ul{padding-left:1.2rem}li{margin:.35rem 0}a{color:#1a56db}code{background:#f1f3f6;padding:0 .25rem;border-radius:3px}`;

const LINKS: readonly [string, string][] = [
  ['/docs', 'API documentation (OpenAPI): every route under /api/{tenant}/v1/, try them with a token'],
  ['/admin', 'Admin console: mailboxes, their ingest log, reprocess, tickets (ADMIN token)'],
  ['/admin/queues', 'BullMQ dashboard: sync and attachment queues (ADMIN token)'],
  ['/metrics', 'Prometheus metrics'],
  ['/healthz', 'liveness'],
  ['/readyz', 'readiness: database and Redis reachable'],
];

export const LANDING_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mailroom</title>
<style>${CSS}</style>
</head>
<body>
<h1>Mailroom</h1>
<p class="lead">Support mailboxes (IMAP) in, ticket conversations out.</p>
<p>This server keeps a tenant's mailboxes in sync and turns every mail into a ticket conversation:
the reply text extracted, every address sorted by direction, attachments checked, loops and
automatic mail recognised. Its API is what a ticketing product reads and writes.</p>
<ul>
${LINKS.map(([href, what]) => `<li><a href="${href}">${href}</a> &mdash; ${what}</li>`).join('\n')}
</ul>
<p>Add a mailbox from a terminal: <code>mailroom tenant create SLUG</code>, then
<code>mailroom mailbox add --tenant SLUG ...</code> (<code>mailroom --help</code>).
To see it all with sample mail: <code>npm run demo</code>. The project's <code>docs/</code> folder explains the rest.</p>
</body>
</html>
`;

export const LANDING_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'`,
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export async function landingRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', { schema: { tags: ['ops'], summary: 'Landing page (HTML) linking the docs, the admin console, queues, metrics and health' } }, async (_req, reply) => {
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', LANDING_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .send(LANDING_HTML);
  });
}
