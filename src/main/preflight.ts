// Before `mailroom start|worker|api` starts anything, it checks that PostgreSQL
// and Redis answer and that the database is migrated, within a few seconds.
// Without this a newcomer's `mailroom start` on a missing database or a dead
// Redis "ran": it never listened, never exited, and printed a retry (with raw
// Prisma text or a stack) every few seconds. Now it exits 1 with one sentence
// naming the variable, the (redacted) URL and what failed. Once running, an
// outage is the worker's business as before (syncs back off, /readyz says 503).
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from '../config/config.js';
import { redactUrl } from '../config/config.js';
import { databaseNameOf, isDatabaseMissing } from '../db/create-database.js';
import { pendingMigrations } from '../db/migrate.js';
import { MailroomError } from '../errors.js';
import { failureReason as reason } from '../util/failure-reason.js';
import { withTimeout } from '../util/timeout.js';

export interface PreflightOptions {
  /** How long both checks together may keep trying an unreachable service (default 5 s). */
  deadlineMs?: number;
  /** One connection attempt at most (default 2 s). */
  attemptMs?: number;
  /** Where the migrations are (tests). */
  migrationsDir?: string;
}

/** Throws DATABASE_UNAVAILABLE, DATABASE_NOT_MIGRATED or REDIS_UNAVAILABLE with one sentence; resolves when both services are fit. */
export async function preflight(config: Config, options: PreflightOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.deadlineMs ?? 5_000);
  const attemptMs = options.attemptMs ?? 2_000;
  // Both at once: a newcomer with both down hears about the database first, and waits once.
  const [database, redis] = await Promise.allSettled([checkDatabase(config, deadline, attemptMs, options.migrationsDir), checkRedis(config, deadline, attemptMs)]);
  if (database.status === 'rejected') throw database.reason;
  if (redis.status === 'rejected') throw redis.reason;
}

/** A failure worth trying again until the deadline (the service may be starting), or one that will not change by waiting. */
class Final extends Error {}

async function retrying<T>(deadline: number, attempt: (timeoutMs: number) => Promise<T>): Promise<T> {
  for (let pause = 250; ; pause *= 2) {
    const left = deadline - Date.now();
    try {
      return await attempt(Math.max(250, Math.min(left, 2_000)));
    } catch (err) {
      if (err instanceof Final || Date.now() + pause >= deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, pause));
  }
}

async function checkDatabase(config: Config, deadline: number, attemptMs: number, migrationsDir: string | undefined): Promise<void> {
  const where = `DATABASE_URL=${redactUrl(config.databaseUrl)}`;
  let pending: string[];
  try {
    pending = await retrying(deadline, async (left) => {
      const client = new pg.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: Math.min(attemptMs, left) });
      client.on('error', () => undefined);
      try {
        await client.connect();
      } catch (err) {
        if (isDatabaseMissing(err) || isPgAuthError(err)) throw new Final('', { cause: err });
        throw err;
      }
      try {
        return await withTimeout(pendingMigrations(client, migrationsDir), Math.max(left, 1_000), () => new Error('no answer in time'));
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  } catch (err) {
    const cause = err instanceof Final ? err.cause : err;
    if (isDatabaseMissing(cause)) {
      throw new MailroomError('DATABASE_NOT_MIGRATED', `The database "${databaseNameOf(config.databaseUrl)}" does not exist (${where}); run "mailroom migrate", which creates and migrates it.`, { cause });
    }
    throw new MailroomError('DATABASE_UNAVAILABLE', `Cannot reach PostgreSQL at ${where}: ${reason(cause, 'is PostgreSQL running?')}.`, { cause });
  }
  if (pending.length > 0) {
    throw new MailroomError(
      'DATABASE_NOT_MIGRATED',
      `The database at ${where} is not migrated (${pending.length} migration(s) missing, the first ${pending[0]}); run "mailroom migrate" first.`,
    );
  }
}

async function checkRedis(config: Config, deadline: number, attemptMs: number): Promise<void> {
  try {
    await retrying(deadline, async (left) => {
      const redis = new Redis(config.redisUrl, {
        lazyConnect: true,
        connectTimeout: Math.min(attemptMs, left),
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      // The socket's own error (connect() itself only says "Connection is closed"); an 'error' event nobody hears would print a stack.
      let socketError: Error | undefined;
      redis.on('error', (err: Error) => (socketError ??= err));
      try {
        await redis.connect();
        await withTimeout(redis.ping(), Math.max(left, 1_000), () => new Error('no answer in time'));
      } catch (err) {
        const why = socketError ?? err;
        if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test((why as Error).message)) throw new Final('', { cause: why });
        throw why;
      } finally {
        redis.disconnect();
      }
    });
  } catch (err) {
    const cause = err instanceof Final ? err.cause : err;
    throw new MailroomError('REDIS_UNAVAILABLE', `Cannot reach Redis at REDIS_URL=${redactUrl(config.redisUrl)}: ${reason(cause, 'is Redis running?')}.`, { cause });
  }
}

function isPgAuthError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '28P01' || code === '28000';
}

