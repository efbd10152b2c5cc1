// Per-test access to the run's throw-away services.
import { inject } from 'vitest';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.js';
import { parseAllowList, type ConnectionPolicy } from '../../src/net/policy.js';
import type { TestEnv } from './global-setup.js';

/**
 * The run's Dovecot (and fake token endpoints) listen on loopback, which the connection
 * policy refuses by default: tests allow it as a self-hosted install would. A test of the
 * policy itself passes MAILROOM_ALLOW_PRIVATE_HOSTS: '' (unset) or its own list.
 */
export const TEST_ALLOW_PRIVATE_HOSTS = '127.0.0.1';

/** The connection policy of MAILROOM_ALLOW_PRIVATE_HOSTS=TEST_ALLOW_PRIVATE_HOSTS. */
export function testPolicy(list = TEST_ALLOW_PRIVATE_HOSTS): ConnectionPolicy {
  const parsed = parseAllowList(list);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.policy;
}

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
    MAILROOM_ALLOW_PRIVATE_HOSTS: TEST_ALLOW_PRIVATE_HOSTS,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}
