// The HTTP app, built by a function separate from listen() so tests drive it with
// app.inject(). Dependencies are passed in; nothing is opened here. Routes live
// in plugins under ./routes; auth (./auth.ts) and the response wrap with the
// one error handler (./wrap.ts) are shared by all of them.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { PrismaClient } from '../db/prisma.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Queues } from '../queues/queues.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { IngestContext } from '../ingest/types.js';
import type { ContentPreparer } from '../conversations/content.js';
import { installRateLimit } from './kit/rate-limit.js';
import { withTimeout } from '../util/timeout.js';
import { quietRequests } from './ops-app.js';
import { adminQueuesRoutes } from './routes/admin-queues.js';
import { consoleRoutes } from './console/plugin.js';
import { attachmentRoutes } from './routes/attachments.js';
import { landingRoutes } from './routes/landing.js';
import { mailboxRoutes } from './routes/mailboxes.js';
import { metricsRoutes } from './routes/metrics.js';
import { installErrorHandler } from './kit/wrap.js';
import { openapiTransform } from './kit/schemas.js';
import { installValidation } from './kit/validate.js';
import { badUrlHandler } from './kit/input-strings.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { conversationRoutes } from './routes/conversations.js';
import { ticketRoutes } from './routes/tickets.js';
import { tokenRoutes } from './routes/tokens.js';

export interface AppDeps {
  db: PrismaClient;
  redis: Redis;
  logger: Logger;
  config: Config;
  blobs: BlobStore;
  /** The process's ingest context (reprocess runs through it). */
  ingest: IngestContext;
  /** Queue handles (enqueueing from the API, queue depths); absent: those features answer 503. */
  queues?: Queues;
  metrics?: Metrics;
  /** Where posted conversations are sanitized (the parse pool); absent: in the event loop's thread. */
  preparer?: ContentPreparer;
}

/** Every tenant route sits under this prefix (PRODUCT.md "HTTP API"). */
export const TENANT_PREFIX = '/api/:tenant/v:version';

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: () => crypto.randomUUID(),
    // Mail-sized JSON (conversations with HTML) but not unbounded.
    bodyLimit: 10 * 1024 * 1024,
    // Fastify's own request lines carry the full URL, and a download URL's query is a credential.
    logController: quietRequests(),
    // A path that does not %-decode (FST_ERR_BAD_URL) is a 400 in the wrap, like any bad input.
    frameworkErrors: badUrlHandler,
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, path: req.url.split('?', 1)[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request completed');
  });
  installErrorHandler(app);
  // One validator for every route: zod (src/api/kit/validate.ts), naming every bad field (PRODUCT.md: "400 naming each bad field").
  installValidation(app);
  // [rate-limit] per token on /api/ (src/api/kit/rate-limit.ts); /healthz, /readyz, /metrics are never limited.
  await installRateLimit(app, { config: deps.config });
  // [docs] OpenAPI (@fastify/swagger) is registered here, before every route, so it sees their schemas.
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Mailroom API', version: '1', description: 'Tenant routes answer in the wrap {data, errors, meta}; Authorization: Bearer TOKEN.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // Routes declare path, query and body in zod; the document shows them as JSON Schema.
    transform: openapiTransform,
  });
  // /docs: the UI; /docs/json and /docs/yaml: the OpenAPI document.
  await app.register(swaggerUi, { routePrefix: '/docs' });


  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const checks = await Promise.all([
      probe(() => deps.db.$queryRaw`SELECT 1`),
      probe(() => deps.redis.ping()),
    ]);
    const [database, redis] = checks;
    const ok = checks.every((c) => c === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', database, redis });
  });

  // [routes] Tenant routes: `await app.register(plugin, { prefix: TENANT_PREFIX, ...options })`, one line each.
  // [routes:conversations]
  await app.register(conversationRoutes, { prefix: TENANT_PREFIX, db: deps.db, config: deps.config, preparer: deps.preparer });
  // [routes:tickets]
  await app.register(ticketRoutes, { prefix: TENANT_PREFIX, db: deps.db });
  // [routes:mailboxes]
  await app.register(mailboxRoutes, { prefix: TENANT_PREFIX, db: deps.db, config: deps.config, ingest: deps.ingest, queues: deps.queues });
  // [routes:tokens] the tenant's API tokens: list, create, revoke (ADMIN).
  await app.register(tokenRoutes, { prefix: TENANT_PREFIX, db: deps.db });
  // [routes:attachments] the signed download carries its own full path (its signature, not a token, is the credential).
  await app.register(attachmentRoutes, { db: deps.db, blobs: deps.blobs, secretKey: deps.config.secretKey });
  // [routes:landing] GET /: what this is, linking the rest
  await app.register(landingRoutes);
  // [routes:ops] /metrics, /docs, /admin/queues
  await app.register(metricsRoutes, { db: deps.db, logger: deps.logger, metrics: deps.metrics, queues: deps.queues, redis: { client: deps.redis, prefix: deps.config.queuePrefix } });
  await app.register(adminQueuesRoutes, { prefix: '/admin', db: deps.db, redis: deps.redis, config: deps.config, queues: deps.queues });
  // [routes:console] /admin: the admin console (same login as /admin/queues).
  await app.register(consoleRoutes, { prefix: '/admin', ...deps });

  await app.ready();
  return app;
}

async function probe(fn: () => Promise<unknown>, timeoutMs = 2000): Promise<'ok' | 'unavailable'> {
  try {
    await withTimeout(fn(), timeoutMs, () => new Error('timeout'));
    return 'ok';
  } catch {
    return 'unavailable';
  }
}
