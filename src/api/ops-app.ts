// What a worker-only process serves when MAILROOM_WORKER_METRICS_PORT is set:
// /healthz and /metrics (its own counters), nothing of the tenant API. A file
// of its own, apart from app.ts, so that a worker loads Fastify and the metrics
// route only, not the tenant API, the OpenAPI docs, the queue board and the
// admin console it does not serve (src/main/server.ts imports each on demand).
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { PrismaClient } from '../db/prisma.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Queues } from '../queues/queues.js';
import { metricsRoutes } from './routes/metrics.js';

export interface OpsAppDeps {
  db: PrismaClient;
  logger: Logger;
  metrics?: Metrics;
  queues?: Queues;
}

export async function buildOpsApp(deps: OpsAppDeps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, logController: quietRequests() });
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(metricsRoutes, { db: deps.db, logger: deps.logger, metrics: deps.metrics, queues: deps.queues });
  await app.ready();
  return app;
}

/** No per-request lines from Fastify itself (the onResponse hook logs the path without the query); the top-level disableRequestLogging option is deprecated (FSTDEP023). */
export function quietRequests(): LogController {
  return new LogController({ disableRequestLogging: true });
}
