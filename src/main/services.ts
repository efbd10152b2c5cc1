// The services of one Mailroom process, assembled once from the config: the
// Prisma client, the Redis connection, the blob store, the queues, the OAuth2
// token cache, the ingest context and the context sources run in. Entry
// points (the server, the CLI commands) call createServices and hand what they
// need down; no command, route or worker builds its own.
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/config.js';
import { encryptSecret } from '../crypto/secrets.js';
import { createPrisma } from '../db/prisma.js';
import type { AttachmentJudge } from '../attachments/processor.js';
import type { ContentPreparer } from '../conversations/content.js';
import { MapPool } from '../ingest/map-pool.js';
import { TenantContextCache } from '../ingest/tenant-context.js';
import type { IngestContext } from '../ingest/types.js';
import type { Logger } from '../logging/logger.js';
import { AccessTokenCache } from '../sources/oauth.js';
import { closeQueues, createQueues, enqueueAttachmentJobs, type Queues } from '../queues/queues.js';
import type { SourceContext } from '../sources/types.js';
import { createBlobStore } from '../storage/blob-store.js';
import { withTimeout } from '../util/timeout.js';
import type { CommandServices } from '../cli/io.js';
import { createMailboxLocks } from '../sync/lock.js';
import type { WorkerServices } from '../sync/worker.js';

/** Everything the worker (WorkerServices) and the commands (CommandServices) are handed, and the token cache. */
export interface Services extends WorkerServices, CommandServices {
  readonly tokens: AccessTokenCache;
  /** The parse pool, which also sanitizes API-posted conversations; absent: that runs in the main thread. */
  readonly preparer?: ContentPreparer;
  /** The attachment policy off the event loop (the same parse threads). */
  readonly attachmentJudge?: AttachmentJudge;
}

export interface ServiceOptions {
  logger: Logger;
  /** Pool size of the Prisma client (default 10; a CLI command needs 2). */
  dbPoolMax?: number;
  /** Extra ioredis options (a status command gives up on Redis quickly). */
  redis?: RedisOptions;
  /** A caller that reports Redis trouble itself (status) keeps it out of the log. */
  logRedisErrors?: boolean;
  /** Parse and map (and sanitize API content) in worker threads (config.parseThreads of them): servers do; commands do not. */
  mapPool?: boolean;
}

/** What ingest needs, from the config and the connections (also for tests that build an app by hand). */
export function ingestContext(config: Config, deps: Pick<IngestContext, 'db' | 'blobs' | 'logger'>): IngestContext {
  return { ...deps, secretKey: config.secretKey, publicUrl: config.publicUrl, parseLimits: config.parseLimits, tenants: new TenantContextCache() };
}

export function createServices(config: Config, options: ServiceOptions): Services {
  const { logger } = options;
  const db = createPrisma(config.databaseUrl, options.dbPoolMax === undefined ? undefined : { max: options.dbPoolMax });
  // Connected on first use: a command that never needs Redis (mailbox list) never dials it.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, ...options.redis, lazyConnect: true });
  redis.on('error', (err: Error) => (options.logRedisErrors === false ? undefined : logger.warn({ err: err.message }, 'redis connection problem')));
  const blobs = createBlobStore(config.storageUrl);
  let queues: Queues | null = null;
  const queuesNow = (): Queues => (queues ??= createQueues({ connection: redis, prefix: config.queuePrefix }));
  const tokens = new AccessTokenCache();
  // Connected when the first sync asks: a command that runs no sync never opens it.
  const locks = createMailboxLocks({ databaseUrl: config.databaseUrl, applicationName: 'mailroom-sync-locks' });
  const pool = options.mapPool && config.parseThreads > 0 ? new MapPool(config.parseThreads) : null;
  const ingest = { ...ingestContext(config, { db, blobs, logger }), ...(pool ? { mapper: pool } : {}) };
  const source: SourceContext = {
    secretKeys: [config.secretKey],
    policy: config.connectionPolicy,
    logger,
    tokens,
    maxRawBytes: config.maxMessageBytes,
    silenceTimeoutMs: config.imapTimeoutSeconds * 1000,
    // A rotated OAuth2 refresh token must be stored, or the next refresh may fail.
    onSecretRotated: async (mailboxId, secret) => {
      await db.mailbox.updateMany({ where: { id: mailboxId, auth: 'oauth2' }, data: { secret_encrypted: encryptSecret(secret, config.secretKey) } });
    },
  };
  return {
    config,
    db,
    redis,
    logger,
    blobs,
    get queues() {
      return queuesNow();
    },
    tokens,
    ...(pool ? { preparer: pool, attachmentJudge: pool } : {}),
    ingest,
    source,
    locks,
    async enqueueAttachments(rows) {
      if (rows.length > 0) await enqueueAttachmentJobs(queuesNow().attachments, rows);
    },
    async close() {
      if (queues) await withTimeout(closeQueues(queues), 1_000, () => new Error('closing the queues timed out')).catch(() => undefined);
      // A connection never used, or already given up, has nothing to say goodbye to.
      const quit = redis.status === 'wait' || redis.status === 'end' ? Promise.resolve(redis.disconnect()) : redis.quit().catch(() => redis.disconnect());
      await Promise.allSettled([db.$disconnect(), quit, pool?.close(), locks.close()]);
    },
  };
}
