// The end-to-end suite: one run against its own throw-away services, measuring
// the ceiling (how fast the mail can be read and parsed at all), Mailroom end
// to end from a cold worker, latency under IDLE, memory, many mailboxes, and
// one worker watching a thousand idle mailboxes.
// See bench/README.md for how to read the figures.
import path from 'node:path';
import { appendCorpus } from './append.js';
import { ingestBacklog, type BacklogResult } from './backlog.js';
import { measureBigAttachment } from './big-attachment.js';
import { measureCeiling } from './ceiling.js';
import { idleUser, measureIdle } from './idle.js';
import { measureLatency } from './latency.js';
import { addBenchMailboxes } from './mailboxes.js';
import { measureMany } from './many.js';
import { parseE2eOptions, type E2eOptions } from './options.js';
import { formatTable, machineInfo, ratios, writeResult, type SuiteResult } from './report.js';
import { Cleanup, setUpServices, type BenchServices } from './services.js';

const USERS = { backlog: 'backlog@bench.test', latency: 'latency@bench.test', big: 'big@bench.test', single: 'many-single@bench.test', idleFloor: 'idle-floor@bench.test' };
const manyUser = (j: number) => `many-${String(j).padStart(4, '0')}@bench.test`;
const step = (what: string) => console.log(`[e2e] ${new Date().toISOString().slice(11, 19)} ${what}`);

function usersFor(o: E2eOptions): string[] {
  const users = [USERS.backlog, USERS.latency, USERS.big, USERS.single];
  if (o.only.has('many')) for (let j = 0; j < o.mailboxes; j++) users.push(manyUser(j));
  if (o.only.has('idle')) users.push(USERS.idleFloor, ...Array.from({ length: o.idleMailboxes }, (_, j) => idleUser(j)));
  return users;
}

async function runParts(s: BenchServices, cleanup: Cleanup, o: E2eOptions, r: SuiteResult): Promise<void> {
  let backlog: BacklogResult | null = null;
  if (o.only.has('ceiling') || o.only.has('e2e') || o.only.has('rss')) {
    step(`appending the corpus: ${o.mails} mails (seed ${o.seed})`);
    const appended = await appendCorpus(s.dovecot, USERS.backlog, o.seed, 0, o.mails);
    r.corpus = { mails: appended.mails, mb: Math.round((appended.bytes / 1024 ** 2) * 10) / 10, attachments: 0 };
    if (o.only.has('ceiling')) {
      step('ceiling: imapflow fetch, then fetch + simpleParser');
      r.ceiling = await measureCeiling(s.dovecot, USERS.backlog);
    }
    if (o.only.has('e2e') || o.only.has('rss')) {
      step('end to end: a cold worker ingests the backlog');
      const ids = await addBenchMailboxes(s, [USERS.backlog], { backfill: true });
      backlog = await ingestBacklog(s, cleanup, { scenario: 'backlog', mailboxIds: ids, mails: appended.mails, bytes: appended.bytes });
      r.corpus.attachments = backlog.attachments;
      r.e2e = backlog;
      Object.assign(r, ratios(r.ceiling, r.e2e));
    }
  }
  if (o.only.has('latency')) {
    step(`latency: ${o.latencyMails} mails, one every ${o.latencyIntervalMs} ms, under IDLE`);
    r.latency = await measureLatency(s, cleanup, { user: USERS.latency, count: o.latencyMails, intervalMs: o.latencyIntervalMs });
  }
  if (o.only.has('rss')) {
    step(`memory: one ${o.bigMb} MB attachment in ${o.bigBacklog} mails`);
    const big = await measureBigAttachment(s, cleanup, { user: USERS.big, seed: o.seed, backlog: o.bigBacklog, bigMb: o.bigMb });
    r.rss = { backlog_peak_rss_mb: backlog?.peak_rss_mb ?? null, big_attachment: big };
  }
  if (o.only.has('many')) {
    step(`many mailboxes: ${o.mailboxes} × ${o.perMailbox}, then one mailbox × ${o.mailboxes * o.perMailbox}`);
    const users = Array.from({ length: o.mailboxes }, (_, j) => manyUser(j));
    r.many = await measureMany(s, cleanup, { users, singleUser: USERS.single, seed: o.seed, perMailbox: o.perMailbox });
  }
  if (o.only.has('idle')) {
    step(`idle: ${o.idleMailboxes} quiet mailboxes watched by one worker, then ${o.idleProbes + 1} probe mails`);
    r.idle = await measureIdle(s, cleanup, { mailboxes: o.idleMailboxes, probes: o.idleProbes, intervalMs: o.idleProbeIntervalMs, quietMs: 60_000, seed: o.seed, floorUser: USERS.idleFloor, step });
  }
}

/** Runs the suite; services are removed whatever happens, Ctrl-C included. */
export async function runE2e(args: string[]): Promise<void> {
  const o = parseE2eOptions(args, path.join(import.meta.dirname, '../results'));
  const cleanup = new Cleanup();
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n[e2e] ${signal}: removing the bench's Dovecot, database, Redis keys and blobs…`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const r: SuiteResult = {
    suite: 'e2e',
    timestamp: new Date().toISOString(),
    machine: machineInfo(),
    n: o.mails,
    seed: o.seed,
    parts: [...o.only],
    corpus: null,
    ratio: null,
    ratio_steady: null,
    ceiling: null,
    e2e: null,
    latency: null,
    rss: null,
    many: null,
    idle: null,
  };
  try {
    step('starting throw-away Dovecot, database, Redis prefix, blob dir');
    // The idle part holds one IMAP session per mailbox: Dovecot's defaults refuse well before 1,000.
    const s = await setUpServices(usersFor(o), cleanup, o.only.has('idle') ? { connections: o.idleMailboxes } : {});
    await runParts(s, cleanup, o, r);
  } finally {
    step('cleaning up');
    await cleanup.run();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  console.log('\n' + formatTable(r));
  console.log(`\nresults: ${writeResult(r, o.outDir)} (and latest.json)`);
}
