// GET /metrics: Prometheus text of the process's registry (src/metrics), with
// the numbers that live elsewhere read at scrape time: jobs per state of every
// BullMQ queue (Redis) and mailboxes per state (the database, all tenants).
//
// Open like /healthz, with no token: Prometheus scrapes without one, and the
// page holds counts only (no tenant, address or message data). Deployments
// keep it off the public internet like the rest of the ops endpoints, e.g.
// by serving HOST on a private interface or blocking /metrics at the proxy.
//
// A scrape never hangs or fails on Redis or the database: a source that does
// not answer in time leaves its series out for that scrape (the process
// metrics still come), and the failure is logged.
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/swagger';
import type { PrismaClient } from '../../db/prisma.js';
import type { MailboxState } from '../../generated/prisma/enums.js';
import type { Logger } from '../../logging/logger.js';
import { createMetrics, readQueueDepths, type Metrics } from '../../metrics/metrics.js';
import { lastSweep, type Queues } from '../../queues/queues.js';
import type { Redis } from 'ioredis';
import { withTimeout } from '../../util/timeout.js';

export interface MetricsRouteOptions {
  db: PrismaClient;
  logger: Logger;
  /** The process's metrics (the worker's counters when it runs in the same process); absent: a registry of the app's own, made on the first scrape. */
  metrics?: Metrics;
  /** Absent: no queue series (a process without queue handles). */
  queues?: Queues;
  /** With the queue prefix: the sweeper's last run (absent: no such series). */
  redis?: { client: Redis; prefix: string };
  /** Budget of each scrape-time read. */
  timeoutMs?: number;
}

export async function metricsRoutes(app: FastifyInstance, opts: MetricsRouteOptions): Promise<void> {
  const { logger } = opts;
  const timeoutMs = opts.timeoutMs ?? 2000;
  // Lazily: default process metrics start collectors, wasted on an app that is never scraped (tests).
  let own: Metrics | undefined;

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['ops'],
        summary: 'Prometheus metrics (no token)',
        description:
          'Text exposition format: process metrics, mailroom_ingest_total, mailroom_ingest_duration_seconds, mailroom_sync_duration_seconds, mailroom_mailbox_state, mailroom_attachment_jobs_total, mailroom_queue_jobs{queue,state}, mailroom_attachment_sweep_last_run_timestamp_seconds. Unauthenticated, like /healthz: keep it on a private network.',
      },
      // A scrape every few seconds would drown the request log.
      logLevel: 'warn',
    },
    async (_req, reply) => {
      const metrics = opts.metrics ?? (own ??= createMetrics());
      await Promise.all([
        refreshQueues(opts.queues, metrics, timeoutMs).catch((err: unknown) => {
          metrics.setQueueJobs(null);
          logger.warn({ err: String(err) }, 'metrics: queue depths unavailable');
        }),
        refreshSweep(opts.redis, metrics, timeoutMs).catch((err: unknown) => {
          metrics.sweepLastRun.reset();
          logger.warn({ err: String(err) }, 'metrics: last sweep unavailable');
        }),
        refreshMailboxStates(opts.db, metrics, timeoutMs).catch((err: unknown) => {
          metrics.mailboxState.reset();
          logger.warn({ err: String(err) }, 'metrics: mailbox states unavailable');
        }),
      ]);
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
}

async function refreshQueues(queues: Queues | undefined, metrics: Metrics, timeoutMs: number): Promise<void> {
  if (!queues) return;
  const depths = await readQueueDepths(queues, timeoutMs);
  // Labelled with the BullMQ queue name, as bull-board and redis keys show it.
  metrics.setQueueJobs({ [queues.sync.name]: depths.sync, [queues.attachments.name]: depths.attachments });
}

async function refreshSweep(redis: MetricsRouteOptions['redis'], metrics: Metrics, timeoutMs: number): Promise<void> {
  if (!redis) return;
  const at = await withTimeout(lastSweep(redis.client, redis.prefix), timeoutMs, () => new Error(`Redis did not answer within ${timeoutMs / 1000} s`));
  if (at) metrics.sweepLastRun.set(at.getTime() / 1000);
  else metrics.sweepLastRun.reset();
}

async function refreshMailboxStates(db: PrismaClient, metrics: Metrics, timeoutMs: number): Promise<void> {
  const groups = await withTimeout(
    db.mailbox.groupBy({ by: ['state'], _count: { _all: true } }),
    timeoutMs,
    () => new Error(`the database did not answer within ${timeoutMs / 1000} s`),
  );
  const counts: Partial<Record<MailboxState, number>> = {};
  for (const g of groups) counts[g.state] = g._count._all;
  metrics.setMailboxStates(counts);
}
