// Global setup of the integration tests: one throw-away database, one BullMQ
// prefix and one Dovecot per run, handed to tests with provide/inject, and all of
// them removed afterwards (Redis keys under the prefix included).
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { deleteRedisPrefix } from './redis.js';
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
