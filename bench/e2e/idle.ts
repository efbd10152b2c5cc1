// Idle: one worker holding an IMAP IDLE watch on each of N quiet mailboxes
// (src/sync/watchers.ts), as the product promises up to MAILROOM_WATCH_LIMIT
// (1,000) per process. Two workers in turn, each a cold `mailroom worker`:
//
// 1. live: started with no mailbox at all (its RSS then is the baseline),
//    then N mailboxes are added through the mailbox service; until every one
//    is watched, and the syncs their arrival asked for are done. RSS after −
//    RSS before, ÷ N, is the memory of one watched mailbox.
// 2. cold: stopped, and a new worker started with the N mailboxes already
//    there (a deploy or a restart): until every watch is up again and the
//    start-up syncs are done; then a quiet window (CPU of holding the watches
//    and polling), then one probe mail to the last mailbox (highest id) and to
//    `probes` random others, one by one, each timed from its APPEND returning
//    to its conversation committed.
//
// Beside them, the floors without Mailroom (idle-floor.ts): how long Dovecot
// takes to announce a new mail to a bare IDLE client, and what N bare imapflow
// IDLE connections cost in one process after a full GC.
//
// "Watched" is what Dovecot says: the session of that user shows IDLE in its
// process title (idle-signals.ts). The Redis leases are counted too, but a
// lease is taken before the connection is made.
import { Redis } from 'ioredis';
import { freePort, imapClient } from '../../test/support/dovecot.js';
import { probeMail } from './corpus.js';
import { bareWatchMemory, dovecotAnnounceMs, type BareWatchMemory } from './idle-floor.js';
import { countLeases, ensureInotifyInstances, idleSessions, openFiles, settledRssKb, syncBacklog, type InotifyBudget } from './idle-signals.js';
import { now, percentiles, POLL_MS, watchCommits, type Percentiles } from './latency.js';
import { addBenchMailboxes, disableMailboxes, waitUntil, workerDbConnections } from './mailboxes.js';
import { createRng, seedOf } from './random.js';
import type { BenchServices, Cleanup } from './services.js';
import { machineBusyMs, readProc, spawnWorker, workerEnv, type WorkerProcess } from './worker-process.js';

export interface IdlePhase {
  /** From the phase's start (live: the first mailbox added; cold: spawn) until every lease is taken. */
  all_leases_ms: number;
  /** ... until Dovecot shows every mailbox's session in IDLE. */
  all_idle_ms: number;
  /** ... until the syncs asked for meanwhile are done (none waiting or running, every mailbox synced once). */
  syncs_settled_ms: number;
  /** Median VmRSS once settled (live: over 10 s, 20 s after the syncs; cold: over the quiet stretch). */
  rss_mb: number;
  /** (rss_mb − the live worker's RSS with no mailbox) ÷ N. */
  kb_per_mailbox: number;
  peak_rss_mb: number;
  open_files: number;
  /** Most connections the worker had to PostgreSQL at once (sampled every 250 ms). */
  pg_connections_max: number;
  worker_cpu_ms: number;
  /** SIGTERM → exited, with every watch open. */
  stop_ms: number;
}

export interface IdleResult {
  mailboxes: number;
  inotify_instances: InotifyBudget;
  live: IdlePhase & { rss_empty_mb: number; add_ms: number };
  cold: IdlePhase;
  /** A quiet stretch with every watch up (polls still run: MAILROOM default 60 s per mailbox). */
  quiet: { ms: number; worker_cpu_pct: number; machine_busy_pct: number; syncs: number };
  probes: {
    mails: number;
    interval_ms: number;
    last_mailbox_id: number;
    /** The probe to the last mailbox, APPEND returned → conversation visible. */
    last_mailbox_ms: number;
    committed_ms: Percentiles;
    db_stamp_ms: Percentiles;
    /** APPEND returned → EXISTS at a bare imapflow client in IDLE (Dovecot alone), same load. */
    dovecot_floor_ms: Percentiles;
  };
  /** The same N connections held by bare imapflow clients in the bench's process (no worker running). */
  bare_imapflow: BareWatchMemory;
}

const MB = 1024;
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
export const idleUser = (j: number) => `idle-${String(j).padStart(5, '0')}@bench.test`;

/** Samples the worker's PostgreSQL connections and open files while a phase runs. */
function sampler(s: BenchServices, worker: WorkerProcess) {
  const database = new URL(s.databaseUrl).pathname.slice(1);
  const max = { pg: 0, files: 0 };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      max.pg = Math.max(max.pg, await workerDbConnections(s.pool, database).catch(() => 0));
      max.files = Math.max(max.files, openFiles(worker.pid));
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    max,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function syncCount(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('mailroom_sync_duration_seconds_count'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

interface Ctx {
  s: BenchServices;
  redis: Redis;
  prefix: string;
  ids: number[];
  users: Set<string>;
}

/** Waits for every lease, every IDLE session and the syncs; the times are from `t0`. */
async function settle(c: Ctx, worker: WorkerProcess, t0: number, since: Date): Promise<Pick<IdlePhase, 'all_leases_ms' | 'all_idle_ms' | 'syncs_settled_ms'>> {
  const n = c.ids.length;
  const timeoutMs = 120_000 + n * 300;
  let leasesAt = 0;
  const idle = async () => {
    if (!leasesAt && (await countLeases(c.redis, c.prefix)) >= n) leasesAt = now();
    return [...idleSessions(c.s.dovecot)].filter((u) => c.users.has(u)).length;
  };
  await waitUntil(`${n} IDLE sessions`, idle, (k) => k === n, { worker, timeoutMs, everyMs: 250 });
  const idleAt = now();
  if (!leasesAt) leasesAt = idleAt;
  const settled = async () => ({
    backlog: await syncBacklog(c.redis, c.prefix),
    unsynced: await c.s.prisma.mailbox.count({ where: { id: { in: c.ids }, OR: [{ last_success_at: null }, { last_success_at: { lt: since } }] } }),
  });
  await waitUntil('the start-up syncs', settled, (v) => v.backlog === 0 && v.unsynced === 0, { worker, timeoutMs, everyMs: 250 });
  return { all_leases_ms: Math.round(leasesAt - t0), all_idle_ms: Math.round(idleAt - t0), syncs_settled_ms: Math.round(now() - t0) };
}

async function startWorker(c: Ctx, cleanup: Cleanup, metricsPort: number): Promise<WorkerProcess> {
  const worker = spawnWorker(workerEnv(c.s, 'idle', { MAILROOM_WORKER_METRICS_PORT: String(metricsPort) }), cleanup);
  const up = async () => (await fetch(`http://127.0.0.1:${metricsPort}/healthz`).catch(() => null))?.ok === true;
  await waitUntil('the worker to serve /healthz', up, Boolean, { worker, timeoutMs: 60_000, everyMs: 100 });
  return worker;
}

async function finish(worker: WorkerProcess, phase: Omit<IdlePhase, 'worker_cpu_ms' | 'stop_ms' | 'peak_rss_mb' | 'open_files' | 'pg_connections_max'>, sampled: ReturnType<typeof sampler>): Promise<IdlePhase> {
  await sampled.stop();
  const cpu = readProc(worker.pid)?.cpuMs ?? worker.last.cpuMs;
  const stopping = now();
  const final = await worker.stop();
  return {
    ...phase,
    peak_rss_mb: round(Math.max(final.hwmKb, worker.peakRssKb) / MB),
    open_files: sampled.max.files,
    pg_connections_max: sampled.max.pg,
    worker_cpu_ms: Math.round(cpu),
    stop_ms: Math.round(now() - stopping),
  };
}

async function probe(c: Ctx, worker: WorkerProcess, opts: { ids: number[]; intervalMs: number; lastId: number }): Promise<Omit<IdleResult['probes'], 'dovecot_floor_ms'>> {
  const commits = watchCommits(c.s, opts.ids);
  const byId = new Map(c.ids.map((id, j) => [id, idleUser(j)]));
  const tag = `idle-${Date.now().toString(36)}`;
  const appended = new Map<string, { at: number; mailboxId: number }>();
  try {
    for (const [n, id] of opts.ids.entries()) {
      const started = now();
      const user = byId.get(id)!;
      const mail = probeMail(user, tag, n);
      const client = imapClient(c.s.dovecot, user);
      client.on('error', () => undefined);
      await client.connect();
      await client.append('INBOX', mail.raw);
      appended.set(mail.messageId, { at: now(), mailboxId: id });
      await client.logout().catch(() => client.close());
      await new Promise((r) => setTimeout(r, Math.max(0, opts.intervalMs - (now() - started))));
    }
    const seen = async () => [...appended.keys()].filter((m) => commits.seen.has(m)).length;
    await waitUntil(`${appended.size} probe mails committed`, seen, (k) => k === appended.size, { worker, timeoutMs: 60_000, everyMs: POLL_MS });
  } finally {
    await commits.stop();
  }
  const committed: number[] = [];
  const stamped: number[] = [];
  let last = NaN;
  for (const [m, a] of appended) {
    const seen = commits.seen.get(m)!;
    committed.push(seen.seenAt - a.at);
    stamped.push(seen.created - a.at);
    if (a.mailboxId === opts.lastId) last = Math.round(seen.seenAt - a.at);
  }
  return { mails: appended.size, interval_ms: opts.intervalMs, last_mailbox_id: opts.lastId, last_mailbox_ms: last, committed_ms: percentiles(committed), db_stamp_ms: percentiles(stamped) };
}

/** The last mailbox first, then `count` others drawn at random (seeded), each once. */
function probeTargets(ids: number[], count: number, seed: number): number[] {
  const last = Math.max(...ids);
  const rest = ids.filter((id) => id !== last);
  const rng = createRng(seedOf('idle-probes', seed));
  for (let i = rest.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  return [last, ...rest.slice(0, count)];
}

export async function measureIdle(s: BenchServices, cleanup: Cleanup, opts: { mailboxes: number; probes: number; intervalMs: number; quietMs: number; seed: number; floorUser: string; step: (what: string) => void }): Promise<IdleResult> {
  const users = Array.from({ length: opts.mailboxes }, (_, j) => idleUser(j));
  const inotify = ensureInotifyInstances(Math.ceil(opts.mailboxes * 1.25) + 256, cleanup);
  const prefix = String(workerEnv(s, 'idle').MAILROOM_QUEUE_PREFIX);
  const redis = new Redis(s.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  cleanup.add('disconnect the idle part from Redis', () => redis.disconnect());
  const c: Ctx = { s, redis, prefix, ids: [], users: new Set(users) };
  const metricsPort = await freePort();

  // 1. live: a worker with no mailbox, then N added while it runs.
  opts.step(`idle: a worker with no mailbox, then ${opts.mailboxes} added`);
  const live = await startWorker(c, cleanup, metricsPort);
  // A fresh worker gives back 50-60 MB (start-up garbage) some 20 s after it started: measure after that.
  await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (performance.now() - live.startedAt))));
  const rssEmpty = await settledRssKb(() => readProc(live.pid)?.rssKb ?? null, 10_000);
  let sampled = sampler(s, live);
  const addedFrom = new Date();
  const t0 = now();
  c.ids = await addBenchMailboxes(s, users, { backfill: false });
  const addMs = now() - t0;
  const liveTimes = await settle(c, live, t0, addedFrom);
  // The same for the garbage of the syncs the new mailboxes asked for (the first polls are due only after 60 s).
  await new Promise((r) => setTimeout(r, 20_000));
  const liveRss = await settledRssKb(() => readProc(live.pid)?.rssKb ?? null, 10_000);
  const livePhase = await finish(live, { ...liveTimes, rss_mb: round(liveRss / MB), kb_per_mailbox: round((liveRss - rssEmpty) / opts.mailboxes) }, sampled);
  // A stopped worker hands its leases back and closes its sessions: the next one must find none.
  const gone = async () => (await countLeases(redis, prefix)) + [...idleSessions(s.dovecot)].filter((u) => c.users.has(u)).length;
  await waitUntil("the first worker's leases and sessions to go", gone, (k) => k === 0, { timeoutMs: 60_000, everyMs: 250 });

  // 2. cold: a new worker with the N mailboxes there.
  opts.step(`idle: a cold worker with the ${opts.mailboxes} mailboxes`);
  const coldFrom = new Date();
  const cold = await (async () => {
    const w = spawnWorker(workerEnv(s, 'idle', { MAILROOM_WORKER_METRICS_PORT: String(metricsPort) }), cleanup);
    sampled = sampler(s, w);
    return w;
  })();
  const coldTimes = await settle(c, cold, cold.startedAt + performance.timeOrigin, coldFrom);

  // A quiet stretch: holding the watches, polling on schedule.
  opts.step(`idle: ${Math.round(opts.quietMs / 1000)} s quiet`);
  const cpu0 = readProc(cold.pid)?.cpuMs ?? 0;
  const busy0 = machineBusyMs();
  const syncs0 = await syncCount(metricsPort);
  const q0 = now();
  const coldRss = await settledRssKb(() => readProc(cold.pid)?.rssKb ?? null, opts.quietMs);
  const quietMs = now() - q0;
  const quiet = {
    ms: Math.round(quietMs),
    worker_cpu_pct: round((((readProc(cold.pid)?.cpuMs ?? 0) - cpu0) / quietMs) * 100),
    machine_busy_pct: round(((machineBusyMs() - busy0) / quietMs) * 100),
    syncs: (await syncCount(metricsPort)) - syncs0,
  };

  opts.step(`idle: ${opts.probes + 1} probe mails, and Dovecot's own IDLE latency`);
  const targets = probeTargets(c.ids, opts.probes, opts.seed);
  const probed = await probe(c, cold, { ids: targets, intervalMs: opts.intervalMs, lastId: targets[0]! });
  const probes = { ...probed, dovecot_floor_ms: await dovecotAnnounceMs(s.dovecot, opts.floorUser, 10) };
  const coldPhase = await finish(cold, { ...coldTimes, rss_mb: round(coldRss / MB), kb_per_mailbox: round((coldRss - rssEmpty) / opts.mailboxes) }, sampled);
  await disableMailboxes(s, c.ids);
  await waitUntil("the cold worker's sessions to go", async () => [...idleSessions(s.dovecot)].filter((u) => c.users.has(u)).length, (k) => k === 0, { timeoutMs: 60_000, everyMs: 250 });
  opts.step(`idle: ${opts.mailboxes} bare imapflow IDLE clients (memory without Mailroom)`);
  const bare = await bareWatchMemory(s.dovecot, users);
  return { mailboxes: opts.mailboxes, inotify_instances: inotify, live: { ...livePhase, rss_empty_mb: round(rssEmpty / MB), add_ms: Math.round(addMs) }, cold: coldPhase, quiet, probes, bare_imapflow: bare };
}
