// `mailroom api` / `mailroom worker` / `mailroom start`: assembles the
// services (services.ts), runs the HTTP app on HOST:PORT (api, start) and the
// mailbox worker (worker, start), and shuts down cleanly on SIGTERM/SIGINT:
// stop accepting work, let in-flight requests and the message in hand finish,
// close connections.
import type { Config } from '../config/config.js';
import { redactUrl } from '../config/config.js';
import { createLogger } from '../logging/logger.js';
import { createMetrics } from '../metrics/metrics.js';
import { startWorker } from '../sync/worker.js';
import type { WorkerHandle } from '../sync/worker.js';
import { nextSteps } from './next-steps.js';
import { preflight } from './preflight.js';
import { createServices } from './services.js';

export type ProcessRole = 'api' | 'worker' | 'start';

export async function runServer(config: Config, options: { role: ProcessRole }): Promise<void> {
  // PostgreSQL, Redis and the migrations, checked in a few seconds: a start that cannot work says so and exits.
  await preflight(config);
  const logger = createLogger({ level: config.logLevel });
  // The API sanitizes posted conversations in the same pool the worker parses mail in.
  const services = createServices(config, { logger, mapPool: true });
  const { db, redis, queues } = services;
  const metrics = createMetrics();

  const serveApi = options.role !== 'worker';
  const runWorker = options.role !== 'api';
  // A worker-only replica serves its own counters (ingest outcomes, sync and attachment results) only when asked.
  const serveWorkerMetrics = !serveApi && config.workerMetricsPort !== null;
  // Each app is loaded only by a process that serves it: a worker without a metrics port loads no HTTP code at
  // all, one with it Fastify and /metrics only (api/ops-app.ts), never the tenant API, the docs and the console.
  const app = serveApi
    ? await (await import('../api/app.js')).buildApp({ db, redis, logger, config, blobs: services.blobs, ingest: services.ingest, preparer: services.preparer, metrics, queues })
    : serveWorkerMetrics
      ? await (await import('../api/ops-app.js')).buildOpsApp({ db, logger, metrics, queues })
      : null;
  let worker: WorkerHandle | null = null;
  try {
    if (runWorker) worker = await startWorker(services, { metrics });
    if (app) await app.listen({ host: config.host, port: serveApi ? config.port : (config.workerMetricsPort ?? 0) });
  } catch (err) {
    await worker?.stop().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await services.close();
    throw err;
  }
  logger.info({ role: options.role, database: redactUrl(config.databaseUrl), redis: redactUrl(config.redisUrl) }, 'mailroom started');
  logger.info(nextSteps(options.role, serveApi ? app?.server.address() : null));

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await app?.close();
  await worker?.stop();
  await services.close();
  logger.info('stopped');
}
