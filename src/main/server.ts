// `mailroom api` / `mailroom worker` / `mailroom start`: opens the connections,
// runs the HTTP app on HOST:PORT (api, start) and the mailbox worker (worker,
// start), and shuts down cleanly on SIGTERM/SIGINT: stop accepting work, let
// in-flight requests and the message in hand finish, close connections.
import { Redis } from 'ioredis';
import { buildApp, buildOpsApp } from '../api/app.js';
import type { Config } from '../config/config.js';
import { redactUrl } from '../config/config.js';
import { createPrisma } from '../db/prisma.js';
import { createLogger } from '../logging/logger.js';
import { createMetrics } from '../metrics/metrics.js';
import { closeQueues, createQueues } from '../queues/queues.js';
import { createBlobStore } from '../storage/blob-store.js';
import { startWorker } from '../sync/worker.js';
import type { WorkerHandle } from '../sync/worker.js';

export type ProcessRole = 'api' | 'worker' | 'start';

export async function runServer(config: Config, options: { role: ProcessRole }): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const db = createPrisma(config.databaseUrl);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection problem'));
  const metrics = createMetrics();

  const serveApi = options.role !== 'worker';
  const runWorker = options.role !== 'api';
  // A worker-only replica serves its own counters (ingest outcomes, sync and attachment results) only when asked.
  const serveWorkerMetrics = !serveApi && config.workerMetricsPort !== null;
  // The app's own queue handles (enqueueing, queue depths for /metrics); the worker keeps its own.
  const appQueues = serveApi || serveWorkerMetrics ? createQueues({ connection: redis, prefix: config.queuePrefix }) : null;
  const app = serveApi
    ? await buildApp({ db, redis, logger, config, blobs: createBlobStore(config.storageUrl), metrics, queues: appQueues ?? undefined })
    : serveWorkerMetrics
      ? await buildOpsApp({ db, logger, metrics, queues: appQueues ?? undefined })
      : null;
  let worker: WorkerHandle | null = null;
  try {
    if (runWorker) worker = await startWorker({ config, db, connection: redis, logger, metrics });
    if (app) await app.listen({ host: config.host, port: serveApi ? config.port : (config.workerMetricsPort ?? 0) });
  } catch (err) {
    await worker?.stop().catch(() => undefined);
    await app?.close().catch(() => undefined);
    if (appQueues) await closeQueues(appQueues).catch(() => undefined);
    await Promise.allSettled([db.$disconnect(), redis.quit()]);
    throw err;
  }
  logger.info({ role: options.role, database: redactUrl(config.databaseUrl), redis: redactUrl(config.redisUrl) }, 'mailroom started');

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
  if (appQueues) await closeQueues(appQueues).catch(() => undefined);
  await Promise.allSettled([db.$disconnect(), redis.quit()]);
  logger.info('stopped');
}
