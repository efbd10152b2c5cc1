// Per-test access to the run's throw-away services.
import { inject } from 'vitest';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.js';
import type { TestEnv } from './global-setup.js';

export function testEnv(): TestEnv {
  return inject('env');
}

export function testPrisma(): PrismaClient {
  return createPrisma(testEnv().databaseUrl, { max: 4 });
}

/** Environment for a child `mailroom` process pointed at the test services. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = testEnv();
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    MAILROOM_SECRET_KEY: env.secretKey,
    MAILROOM_QUEUE_PREFIX: env.queuePrefix,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}
