// `npm run drill`: fault drills against services the drill owns and may kill
// (services.ts), one phase per fault (phase.ts, faults.ts), and a table of
// what each fault did to the guarantees. `runDrill` is also what the short
// variant in `npm test` runs (test/integration/drill.test.ts).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createPrisma } from '../src/db/prisma.js';
import { Cleanup } from '../bench/e2e/services.js';
import { FAULTS, type Fault, type FaultWorld } from './faults.js';
import { runPhase, type PhaseResult } from './phase.js';
import { TcpProxy } from './proxy.js';
import { createDrillDovecot, DrillBlobStore, DrillPostgres, DrillRedis } from './services.js';

export interface DrillOptions {
  mails: number;
  seed: number;
  only: string[];
  downMs: number;
  settleMs: number;
  /** MAILROOM_IMAP_TIMEOUT_SECONDS for the worker (how soon a black-holed sync gives up); null: the default. */
  imapTimeoutSeconds: number | null;
  log: (line: string) => void;
}

export const DRILL_USAGE = `npm run drill [-- flags]
  --mails N          good mails per fault (default 500), plus two malformed ones
  --only LIST        some of ${FAULTS.map((f) => f.name).join(',')} (default: all)
  --seed S           corpus and timing seed (default 1)
  --down-seconds N   how long a service stays down (default 5)
  --imap-timeout N   MAILROOM_IMAP_TIMEOUT_SECONDS of the worker (default: Mailroom's own)
  --settle-seconds N longest wait for a phase to settle before it counts as stuck (default 300)`;

export function parseDrillOptions(args: string[]): DrillOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { mails: { type: 'string' }, only: { type: 'string' }, seed: { type: 'string' }, 'down-seconds': { type: 'string' }, 'imap-timeout': { type: 'string' }, 'settle-seconds': { type: 'string' } },
  });
  const num = (name: string, v: string | undefined, fallback: number, min: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number of at least ${min} (got "${v}")`);
    return n;
  };
  const only = (values.only ?? FAULTS.map((f) => f.name).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of only) if (!FAULTS.some((f) => f.name === name)) throw new Error(`--only: unknown fault "${name}" (faults: ${FAULTS.map((f) => f.name).join(', ')})`);
  return {
    mails: num('mails', values.mails, 500, 10),
    seed: num('seed', values.seed, 1, 0),
    only,
    downMs: num('down-seconds', values['down-seconds'], 5, 0) * 1000,
    imapTimeoutSeconds: values['imap-timeout'] === undefined ? null : num('imap-timeout', values['imap-timeout'], 0, 5),
    settleMs: num('settle-seconds', values['settle-seconds'], 300, 10) * 1000,
    log: (line) => console.log(`[drill] ${new Date().toISOString().slice(11, 19)} ${line}`),
  };
}

export interface Drill {
  /** The faults chosen by `only`, in the drill's order. */
  readonly faults: readonly Fault[];
  run(fault: Fault): Promise<PhaseResult>;
  close(): Promise<void>;
}

/** Starts the drill's own services; each `run` is one phase on a mailbox of its own. */
export async function createDrill(opts: DrillOptions): Promise<Drill> {
  const cleanup = new Cleanup();
  // Ctrl-C: the cluster, Redis, Dovecot and the tmpfs go too.
  const onSignal = () => void cleanup.run().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  cleanup.add('SIGINT handler', () => process.off('SIGINT', onSignal));
  try {
    const faults = FAULTS.filter((f) => opts.only.includes(f.name));
    const userOf = (f: Fault) => `drill-${f.name}@example.test`;
    opts.log("starting PostgreSQL (initdb), Redis, Dovecot, a TCP proxy and a tmpfs for blobs of the drill's own");
    const pgServer = await DrillPostgres.create(cleanup);
    const databaseUrl = await pgServer.createDatabase('mailroom_drill');
    const redis = await DrillRedis.create(cleanup);
    const dovecot = await createDrillDovecot(faults.map(userOf), cleanup);
    const proxy = await TcpProxy.create(dovecot.imapPort);
    cleanup.add('close the proxy', () => proxy.close());
    const blobs = DrillBlobStore.create(cleanup);
    const world: FaultWorld = { pg: pgServer, redis, dovecot, proxy, blobs };
    const prisma = createPrisma(databaseUrl, { max: 2 });
    cleanup.add('disconnect Prisma', () => prisma.$disconnect());
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, connectionTimeoutMillis: 2_000 });
    pool.on('error', () => undefined); // PostgreSQL going away under an idle client is part of the drill
    cleanup.add('close the SQL pool', () => pool.end());
    const secretKeyHex = randomBytes(32).toString('hex');
    const workerEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      MAILROOM_QUEUE_PREFIX: '{mailroom-drill}',
      MAILROOM_STORAGE_URL: `file://${blobs.dir}`,
      MAILROOM_SECRET_KEY: secretKeyHex,
      MAILROOM_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
      // The sweeper's cadence bounds how soon attachments lost with Redis are queued again.
      MAILROOM_ATTACHMENT_SWEEP_SECONDS: '5',
      MAILROOM_ATTACHMENT_STALE_SECONDS: '10',
      ...(opts.imapTimeoutSeconds === null ? {} : { MAILROOM_IMAP_TIMEOUT_SECONDS: String(opts.imapTimeoutSeconds) }),
      LOG_LEVEL: process.env.MAILROOM_DRILL_WORKER_LOG_LEVEL ?? 'warn',
    };
    const phase = { world, prisma, pool, secretKeyHex, workerEnv, mails: opts.mails, seed: opts.seed, downMs: opts.downMs, settleMs: opts.settleMs, log: opts.log };
    return {
      faults,
      async run(fault) {
        const r = await runPhase(phase, fault, FAULTS.indexOf(fault), userOf(fault));
        blobs.clear();
        opts.log(`${fault.name}: ${r.skipped ? `skipped (${r.skipped})` : r.ok ? `ok, settled ${r.recoverS} s after the fault` : 'FAILED'}`);
        return r;
      },
      close: () => cleanup.run(),
    };
  } catch (err) {
    await cleanup.run();
    throw err;
  }
}

/** Every chosen fault in turn. */
export async function runDrill(opts: DrillOptions): Promise<PhaseResult[]> {
  const drill = await createDrill(opts);
  try {
    const results: PhaseResult[] = [];
    for (const fault of drill.faults) results.push(await drill.run(fault));
    return results;
  } finally {
    await drill.close();
  }
}

export function formatDrillTable(results: PhaseResult[]): string {
  const head = ['fault', 'mails', 'at %', 'down s', 'committed s', 'settled s', 'warnings', 'lost', 'dup', 'stuck', 'att. ERROR', 'wrongly failed', 'worker exits', 'result'];
  const rows = results.map((r) =>
    r.skipped
      ? [r.label, '–', '–', '–', '–', '–', '–', '–', '–', '–', '–', '–', '–', `skipped: ${r.skipped}`]
      : [r.label, String(r.mails + 2), r.atShare === null ? '–' : r.atShare.toFixed(0), fmt(r.downS), fmt(r.committedS), fmt(r.recoverS), String(r.warnings), String(r.lost), String(r.duplicated), String(r.stuck), String(r.attachmentErrors), String(r.wronglyFailed), String(r.workerExits), r.ok ? 'ok' : 'FAILED'],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const notes = results.flatMap((r) => r.notes.map((n) => `  ${r.fault}: ${n}`));
  return [line(head), '-'.repeat(line(head).length), ...rows.map(line), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

const fmt = (x: number | null) => (x === null ? 'never' : x.toFixed(1));
