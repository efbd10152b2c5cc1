// Global setup of the integration tests: one throw-away database, one BullMQ
// prefix and one Dovecot per run, handed to tests with provide/inject, and all of
// them removed afterwards (Redis keys under the prefix included).
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { Redis } from 'ioredis';
import { createDovecot, destroyDovecot, type DovecotInfo } from './dovecot.js';
import { createTestDatabase, dropTestDatabase } from './database.js';

export interface TestEnv {
  databaseName: string;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  secretKey: string;
  dovecot: DovecotInfo;
}

declare module 'vitest' {
  export interface ProvidedContext {
    env: TestEnv;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redisUrl = process.env.MAILROOM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const db = await createTestDatabase();
  let dovecot: DovecotInfo;
  try {
    dovecot = await createDovecot();
  } catch (err) {
    await dropTestDatabase(db.name);
    throw err;
  }
  const env: TestEnv = {
    databaseName: db.name,
    databaseUrl: db.url,
    redisUrl,
    queuePrefix: `{mailroom-test-${randomBytes(6).toString('hex')}}`,
    secretKey: randomBytes(32).toString('base64'),
    dovecot,
  };
  project.provide('env', env);

  return async () => {
    await destroyDovecot(dovecot).catch((err: unknown) => console.error('could not stop test Dovecot:', err));
    await dropTestDatabase(db.name);
    await deleteRedisPrefix(redisUrl, env.queuePrefix).catch((err: unknown) => console.error('could not clean Redis:', err));
  };
}

async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
