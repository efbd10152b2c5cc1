// The bench's own throw-away services: a Dovecot (test/support/dovecot.ts), a
// migrated database mailroom_test_* (test/support/database.ts), a BullMQ prefix
// of its own on the local Redis and a blob directory, all removed at the end,
// also on Ctrl-C or failure (every resource registers its undo in a Cleanup the
// moment it exists). Never a developer's data.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { deleteRedisPrefix } from '../../dev/redis.js';
import pg from 'pg';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.js';
import { ADMIN_URL, createTestDatabase, dropTestDatabase } from '../../test/support/database.js';
import { createDovecot, destroyDovecot, type DovecotInfo, type DovecotOptions } from '../../test/support/dovecot.js';

export const REDIS_URL = process.env.MAILROOM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Undo steps, run last-registered first, once, whatever happened. */
export class Cleanup {
  private readonly steps: { label: string; run: () => unknown }[] = [];
  private done: Promise<void> | null = null;

  add(label: string, run: () => unknown): void {
    this.steps.push({ label, run });
  }

  run(): Promise<void> {
    this.done ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.run();
        } catch (err) {
          console.error(`cleanup: ${step.label} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    })();
    return this.done;
  }
}

export interface BenchServices {
  dovecot: DovecotInfo;
  databaseUrl: string;
  redisUrl: string;
  /** Each scenario's queue prefix starts with this (one hash tag per scenario). */
  prefixBase: string;
  blobRoot: string;
  /** 64 hex characters, as the worker reads MAILROOM_SECRET_KEY. */
  secretKeyHex: string;
  prisma: PrismaClient;
  /** Plain SQL for the bench's own polling (lighter than Prisma at 20 ms intervals). */
  pool: pg.Pool;
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis at ${url} is not reachable (${err instanceof Error ? err.message : String(err)}): start redis-server, or set MAILROOM_TEST_REDIS_URL.`);
  } finally {
    redis.disconnect();
  }
}

async function createDatabase(cleanup: Cleanup): Promise<string> {
  try {
    const db = await createTestDatabase();
    cleanup.add(`drop database ${db.name}`, () => dropTestDatabase(db.name));
    return db.url;
  } catch (err) {
    throw new Error(`could not create a throw-away database on ${ADMIN_URL} (${err instanceof Error ? err.message : String(err)}): start PostgreSQL, or set MAILROOM_TEST_PG_URL.`);
  }
}

/** Dovecot is created with every user the run needs, so none has to wait for a users-file reload. */
export async function setUpServices(users: string[], cleanup: Cleanup, dovecotOptions: DovecotOptions = {}): Promise<BenchServices> {
  await checkRedis(REDIS_URL);
  const prefixBase = `mailroom-bench-${randomBytes(4).toString('hex')}`;
  cleanup.add(`delete Redis keys {${prefixBase}-*`, () => deleteRedisPrefix(REDIS_URL, `{${prefixBase}-`));
  const blobRoot = mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-blobs-'));
  cleanup.add(`remove ${blobRoot}`, () => rmSync(blobRoot, { recursive: true, force: true }));
  const databaseUrl = await createDatabase(cleanup);
  const dovecot = await createDovecot(users, dovecotOptions);
  cleanup.add('stop Dovecot', () => destroyDovecot(dovecot));
  // The bench's own connections are named, so counting the worker's (pg_stat_activity) can leave them out.
  const benchUrl = new URL(databaseUrl);
  benchUrl.searchParams.set('application_name', 'mailroom-bench');
  const prisma = createPrisma(benchUrl.toString(), { max: 4 });
  cleanup.add('disconnect Prisma', () => prisma.$disconnect());
  // Never closed when idle: sessions opened during a run (pg_stat_database) are then the worker's.
  const pool = new pg.Pool({ connectionString: benchUrl.toString(), max: 3, idleTimeoutMillis: 0 });
  cleanup.add('close the SQL pool', () => pool.end());
  return { dovecot, databaseUrl, redisUrl: REDIS_URL, prefixBase, blobRoot, secretKeyHex: randomBytes(32).toString('hex'), prisma, pool };
}
