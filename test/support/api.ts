// Shared ground of the HTTP API tests: the app built as `mailroom api` builds
// it (buildApp with a real config), pointed at the run's throw-away PostgreSQL
// and Redis and a temporary blob directory, driven with app.inject(); and
// tenants with their tokens, one fresh tenant per call so tests never share data.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/app.js';
import { ingestContext } from '../../src/main/services.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { PrismaClient } from '../../src/db/prisma.js';
import { createLogger } from '../../src/logging/logger.js';
import type { Metrics } from '../../src/metrics/metrics.js';
import { createRedisConnection, type Queues } from '../../src/queues/queues.js';
import { createBlobStore, type BlobStore } from '../../src/storage/blob-store.js';
import { createTenant } from '../../src/tenants/service.js';
import { createToken } from '../../src/tokens/service.js';
import { TEST_ALLOW_PRIVATE_HOSTS, testEnv, testPrisma } from './env.js';

export interface TestApp {
  app: FastifyInstance;
  db: PrismaClient;
  redis: Redis;
  config: Config;
  /** The app's blob store (raw messages stored by a test are what reprocess reads). */
  blobs: BlobStore;
  close(): Promise<void>;
}

/** `env` overrides configuration variables (e.g. MAILROOM_MAX_MESSAGE_BYTES). Closing leaves `db` open when it was handed in. */
export async function buildTestApp(options: { db?: PrismaClient; queues?: Queues; metrics?: Metrics; env?: Record<string, string> } = {}): Promise<TestApp> {
  const env = testEnv();
  const db = options.db ?? testPrisma();
  const redis = createRedisConnection(env.redisUrl);
  const blobDir = mkdtempSync(path.join(tmpdir(), 'mailroom-api-blobs-'));
  const config = loadConfig({
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    MAILROOM_SECRET_KEY: env.secretKey,
    MAILROOM_QUEUE_PREFIX: env.queuePrefix,
    MAILROOM_STORAGE_URL: `file://${blobDir}`,
    MAILROOM_PUBLIC_URL: 'http://mailroom.test',
    MAILROOM_ALLOW_PRIVATE_HOSTS: TEST_ALLOW_PRIVATE_HOSTS,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const blobs = createBlobStore(config.storageUrl);
  const logger = createLogger({ level: 'silent' });
  const app = await buildApp({ db, redis, logger, config, blobs, ingest: ingestContext(config, { db, blobs, logger }), queues: options.queues, metrics: options.metrics });
  return {
    app,
    db,
    redis,
    config,
    blobs,
    close: async () => {
      await app.close();
      redis.disconnect();
      if (!options.db) await db.$disconnect();
      rmSync(blobDir, { recursive: true, force: true });
    },
  };
}

export interface ApiTenant {
  id: number;
  slug: string;
  adminToken: string;
  userToken: string;
}

/** A fresh tenant with an ADMIN and a USER token. */
export async function createApiTenant(db: PrismaClient, prefix = 'api'): Promise<ApiTenant> {
  const tenant = await createTenant(db, { slug: `${prefix}-${randomBytes(5).toString('hex')}` });
  const admin = await createToken(db, { tenantSlug: tenant.slug, role: 'ADMIN' });
  const user = await createToken(db, { tenantSlug: tenant.slug, role: 'USER', userEmail: `agent-${randomBytes(3).toString('hex')}@example.test` });
  return { id: tenant.id, slug: tenant.slug, adminToken: admin.token, userToken: user.token };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The parsed DTO_response_wrap of a response. */
export interface Wrapped<T = unknown> {
  data: T;
  errors: { code: string; message: string; field?: string }[];
  meta: { request_id: string; page?: number; page_size?: number; total?: number };
}
