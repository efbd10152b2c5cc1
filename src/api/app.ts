// The HTTP app, built by a function separate from listen() so tests drive it with
// app.inject(). Dependencies are passed in; nothing is opened here.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { PrismaClient } from '../db/prisma.js';
import type { Logger } from '../logging/logger.js';

export interface AppDeps {
  db: PrismaClient;
  redis: Redis;
  logger: Logger;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, genReqId: () => crypto.randomUUID() });

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

  await app.ready();
  return app;
}

async function probe(fn: () => Promise<unknown>, timeoutMs = 2000): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}
