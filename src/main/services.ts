// The services of one Mailroom process, assembled once from the config: the
// Prisma client, the Redis connection, the blob store, the queues, the OAuth2
// token cache, the ingest context and the context sources run in. Entry
// points (the server, the CLI commands) call createServices and hand what they
// need down; no command, route or worker builds its own.
import { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { encryptSecret } from '../crypto/secrets.js';
import { createPrisma, type Db } from '../db/prisma.js';
import type { IngestContext } from '../ingest/types.js';
import type { Logger } from '../logging/logger.js';
import { AccessTokenCache } from '../mailboxes/oauth.js';
import { closeQueues, createQueues, enqueueAttachmentJobs, type AttachmentJobData, type Queues } from '../queues/queues.js';
import type { SourceContext } from '../sources/types.js';
import { createBlobStore } from '../storage/blob-store.js';
import type { BlobStore } from '../storage/blob.js';

export interface Services {
  readonly config: Config;
  readonly db: Db;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly blobs: BlobStore;
  readonly queues: Queues;
  readonly tokens: AccessTokenCache;
  readonly ingest: IngestContext;
  readonly source: SourceContext;
  enqueueAttachments(rows: AttachmentJobData[]): Promise<void>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger: Logger;
  /** Pool size of the Prisma client (default: Prisma's). */
  dbPoolMax?: number;
}

export function createServices(config: Config, options: ServiceOptions): Services {
  const { logger } = options;
  const db = createPrisma(config.databaseUrl, options.dbPoolMax === undefined ? undefined : { max: options.dbPoolMax });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection problem'));
  const blobs = createBlobStore(config.storageUrl);
  const queues = createQueues({ connection: redis, prefix: config.queuePrefix });
  const tokens = new AccessTokenCache();
  const ingest: IngestContext = { db, blobs, secretKey: config.secretKey, publicUrl: config.publicUrl, logger, parseLimits: { maxRawBytes: config.maxMessageBytes } };
  const source: SourceContext = {
    secretKeys: [config.secretKey],
    logger,
    tokens,
    maxRawBytes: config.maxMessageBytes,
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
    queues,
    tokens,
    ingest,
    source,
    async enqueueAttachments(rows) {
      await enqueueAttachmentJobs(queues.attachments, rows);
    },
    async close() {
      await closeQueues(queues).catch(() => undefined);
      await Promise.allSettled([db.$disconnect(), redis.quit()]);
    },
  };
}
