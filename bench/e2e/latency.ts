// Latency under IDLE: the worker runs and its mailbox is quiet (its watch is
// up), then one mail is appended every `intervalMs`; each mail's latency runs
// from the moment its APPEND returned to the moment its conversation is
// visible as committed to another connection (the bench polls every 20 ms, so
// figures carry up to 20 ms of polling granularity). The database's own stamp
// (ingest_records.created, taken inside the transaction) is kept beside it.
import { Redis } from 'ioredis';
import { imapClient } from '../../test/support/dovecot.js';
import { probeMail } from './corpus.js';
import { addBenchMailboxes, disableMailboxes, waitUntil } from './mailboxes.js';
import type { BenchServices, Cleanup } from './services.js';
import { spawnWorker, workerEnv, type WorkerProcess } from './worker-process.js';

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LatencyResult {
  mails: number;
  interval_ms: number;
  /** APPEND returned → conversation visible (polled every 20 ms), ms. */
  committed_ms: Percentiles;
  /** APPEND returned → ingest_records.created (the database's clock, same machine), ms. */
  db_stamp_ms: Percentiles;
}

/** Wall-clock ms with sub-ms precision (compared with the database's epoch stamps). */
export const now = () => performance.timeOrigin + performance.now();
export const POLL_MS = 20;

export function percentiles(values: number[]): Percentiles {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => Math.round(v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))] ?? NaN);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

/** Waits until the worker has synced the mailbox once and holds its IDLE watch. */
async function waitForWatch(s: BenchServices, worker: WorkerProcess, mailboxId: number, prefix: string): Promise<void> {
  const redis = new Redis(s.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const probe = async () => ({ lease: (await redis.get(`${prefix}:watch:${mailboxId}`)) !== null, state: (await s.prisma.mailbox.findUniqueOrThrow({ where: { id: mailboxId } })).state });
    await waitUntil('the worker to watch the latency mailbox', probe, (p) => p.lease && p.state === 'idle', { worker, timeoutMs: 60_000, everyMs: 100 });
  } finally {
    redis.disconnect();
  }
}

/** Every new committed conversation of the mailboxes, with when the bench first saw it. */
export function watchCommits(s: BenchServices, mailboxIds: number[]) {
  const seen = new Map<string, { seenAt: number; created: number }>();
  let lastId = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      // Timestamps are stored as UTC without a zone: the epoch is read in SQL, not by the pg driver's local-time parser.
      const { rows } = await s.pool.query<{ id: number; message_id: string | null; created_ms: string }>(
        'SELECT c.id, c.message_id, extract(epoch FROM r.created) * 1000 AS created_ms FROM conversations c JOIN ingest_records r ON r.conversation_id = c.id WHERE c.mailbox_id = ANY($1) AND c.id > $2 ORDER BY c.id',
        [mailboxIds, lastId],
      );
      const at = now();
      for (const r of rows) {
        lastId = Math.max(lastId, r.id);
        if (r.message_id) seen.set(r.message_id, { seenAt: at, created: Number(r.created_ms) });
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

export async function measureLatency(s: BenchServices, cleanup: Cleanup, opts: { user: string; count: number; intervalMs: number }): Promise<LatencyResult> {
  const [mailboxId] = await addBenchMailboxes(s, [opts.user], { backfill: false });
  const env = workerEnv(s, 'latency');
  const worker = spawnWorker(env, cleanup);
  await waitForWatch(s, worker, mailboxId!, String(env.MAILROOM_QUEUE_PREFIX));
  const commits = watchCommits(s, [mailboxId!]);
  const client = imapClient(s.dovecot, opts.user);
  client.on('error', () => undefined);
  await client.connect();
  const tag = `${Date.now().toString(36)}`;
  const appended = new Map<string, number>();
  try {
    // One unmeasured mail first: the first sync of a process pays for lazy loading.
    for (let n = 0; n <= opts.count; n++) {
      const started = now();
      const probe = probeMail(opts.user, tag, n);
      await client.append('INBOX', probe.raw);
      if (n > 0) appended.set(probe.messageId, now());
      else await waitUntil('the warm-up probe', async () => commits.seen.has(probe.messageId), Boolean, { worker, timeoutMs: 30_000, everyMs: POLL_MS });
      await new Promise((r) => setTimeout(r, Math.max(0, opts.intervalMs - (now() - started))));
    }
    await waitUntil(`${opts.count} probe mails committed`, async () => [...appended.keys()].filter((id) => commits.seen.has(id)).length, (n) => n === opts.count, { worker, timeoutMs: 60_000 });
  } finally {
    await commits.stop();
    await client.logout().catch(() => client.close());
    await worker.stop();
    await disableMailboxes(s, [mailboxId!]);
  }
  const committed: number[] = [];
  const stamped: number[] = [];
  for (const [id, at] of appended) {
    const c = commits.seen.get(id)!;
    committed.push(c.seenAt - at);
    stamped.push(c.created - at);
  }
  return { mails: opts.count, interval_ms: opts.intervalMs, committed_ms: percentiles(committed), db_stamp_ms: percentiles(stamped) };
}
