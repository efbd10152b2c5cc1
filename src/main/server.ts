// `mailroom api` / `mailroom start`: opens the connections, serves the HTTP app on
// HOST:PORT and shuts down cleanly on SIGTERM/SIGINT (stop accepting, finish
// in-flight requests, close connections).
import { Redis } from 'ioredis';
import { buildApp } from '../api/app.js';
import type { Config } from '../config/config.js';
import { redactUrl } from '../config/config.js';
import { createPrisma } from '../db/prisma.js';
import { createLogger } from '../logging/logger.js';

export async function runServer(config: Config, options: { role: 'api' | 'start' }): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const db = createPrisma(config.databaseUrl);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection problem'));
  const app = await buildApp({ db, redis, logger });

  await app.listen({ host: config.host, port: config.port });
  logger.info({ role: options.role, database: redactUrl(config.databaseUrl), redis: redactUrl(config.redisUrl) }, 'mailroom started');

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await app.close();
  await Promise.allSettled([db.$disconnect(), redis.quit()]);
  logger.info('stopped');
}
