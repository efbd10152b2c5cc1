// One backlog ingested by a cold worker: the mails are already in the
// mailbox(es), the worker process starts, and the clock runs until every mail is
// a committed ingest record and no attachment is UNAVAILABLE. Shared by the
// end-to-end, memory and many-mailboxes measurements.
import type { Cleanup, BenchServices } from './services.js';
import { databaseSessions, disableMailboxes, outcomes, progress, recordSpan, waitUntil, workerDbConnections } from './mailboxes.js';
import { machineBusyMs, readProc, spawnWorker, workerEnv } from './worker-process.js';

export interface BacklogInput {
  scenario: string;
  mailboxIds: number[];
  mails: number;
  bytes: number;
  /** More worker environment (size limits). */
  env?: Record<string, string>;
}

export interface BacklogResult {
  mails: number;
  mb: number;
  attachments: number;
  /** Spawn → every mail a committed ingest record and every attachment final. */
  wall_ms: number;
  /** Spawn → every ingest record committed (attachments may still be running). */
  records_ms: number;
  /** Spawn → the first committed record: process start, connect, first fetch. */
  first_record_ms: number;
  msgs_per_s: number;
  mb_per_s: number;
  /** First to last commit, as the database stamped them: the rate once running. */
  steady_msgs_per_s: number | null;
  worker_cpu_ms: number;
  worker_cpu_ms_per_mail: number;
  /** CPU the worker used before its first commit (loading, tsx compiling, connecting). */
  worker_startup_cpu_ms: number;
  /** (worker CPU − startup CPU) ÷ mails: the cost of a mail once the process is warm. */
  worker_cpu_ms_per_mail_running: number;
  /** Of worker_cpu_ms_per_mail, the main thread's (event loop: PostgreSQL, blob store, BullMQ, IMAP). */
  worker_main_cpu_ms_per_mail: number;
  /** Busy CPU of the machine outside the worker per mail: PostgreSQL, Redis, Dovecot, this bench. */
  others_cpu_ms_per_mail: number;
  /** Busy CPU of the whole machine over the run: the worker plus PostgreSQL, Dovecot, Redis, this bench. */
  machine_busy_ms: number;
  peak_rss_mb: number;
  /** Most connections the worker had to PostgreSQL at once (pg_stat_activity, sampled every 100 ms). */
  pg_connections_max: number;
  /** PostgreSQL sessions opened during the run (pg_stat_database.sessions; the bench's own stay open): null before PostgreSQL 14. */
  pg_sessions_opened: number | null;
  outcomes: Record<string, number>;
  attachment_status: Record<string, number>;
}

const MB = 1024 * 1024;
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

export async function ingestBacklog(s: BenchServices, cleanup: Cleanup, input: BacklogInput): Promise<BacklogResult> {
  const timeoutMs = 120_000 + input.mails * 500;
  const busy0 = machineBusyMs();
  const database = new URL(s.databaseUrl).pathname.slice(1);
  const sessions0 = await databaseSessions(s.pool, database);
  const worker = spawnWorker(workerEnv(s, input.scenario, input.env), cleanup);
  const pg = { max: 0, stopped: false };
  const sampling = (async () => {
    while (!pg.stopped) {
      pg.max = Math.max(pg.max, await workerDbConnections(s.pool, database).catch(() => 0));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const since = () => performance.now() - worker.startedAt;
  let firstAt: number | null = null;
  let startupCpu = 0;
  let recordsAt = 0;
  const probe = async () => {
    const p = await progress(s.pool, input.mailboxIds);
    if (firstAt === null && p.records > 0) {
      firstAt = since();
      startupCpu = readProc(worker.pid)?.cpuMs ?? 0;
    }
    if (recordsAt === 0 && p.records >= input.mails) recordsAt = since();
    return p;
  };
  const last = await waitUntil(`${input.mails} ingest records and final attachments (${input.scenario})`, probe, (p) => p.records >= input.mails && p.unavailable === 0, { worker, timeoutMs });
  const wall = since();
  const final = readProc(worker.pid) ?? worker.last;
  const busy = machineBusyMs() - busy0;
  pg.stopped = true;
  await sampling;
  const sessions1 = await databaseSessions(s.pool, database);
  await worker.stop();
  await disableMailboxes(s, input.mailboxIds);
  const span = await recordSpan(s.pool, input.mailboxIds);
  const out = await outcomes(s.pool, input.mailboxIds);
  const steady = span && span.last > span.first && input.mails > 1 ? ((input.mails - 1) * 1000) / (span.last - span.first) : null;
  return {
    mails: input.mails,
    mb: round(input.bytes / MB),
    attachments: last.attachments,
    wall_ms: Math.round(wall),
    records_ms: Math.round(recordsAt),
    first_record_ms: Math.round(firstAt ?? 0),
    msgs_per_s: round((input.mails * 1000) / wall),
    mb_per_s: round(input.bytes / MB / (wall / 1000), 2),
    steady_msgs_per_s: steady === null ? null : round(steady),
    worker_cpu_ms: Math.round(final.cpuMs),
    worker_cpu_ms_per_mail: round(final.cpuMs / input.mails, 2),
    worker_startup_cpu_ms: Math.round(startupCpu),
    worker_cpu_ms_per_mail_running: round((final.cpuMs - startupCpu) / input.mails, 2),
    worker_main_cpu_ms_per_mail: round(final.mainCpuMs / input.mails, 2),
    others_cpu_ms_per_mail: round(Math.max(0, busy - final.cpuMs) / input.mails, 2),
    machine_busy_ms: Math.round(busy),
    peak_rss_mb: round(Math.max(final.hwmKb, worker.peakRssKb) / 1024),
    pg_connections_max: pg.max,
    pg_sessions_opened: sessions0 === null || sessions1 === null ? null : sessions1 - sessions0,
    outcomes: out.ingest,
    attachment_status: out.attachments,
  };
}
