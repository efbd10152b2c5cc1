// A cold `mailroom worker` child process, run as users run it: the compiled
// CLI (`node bin/mailroom.js worker`; `npm run bench` builds it first), so its
// start-up, CPU and memory are the product's, not tsx's (which adds a loader
// thread and the sources it compiles: ~57 MB of an idle worker's RSS). What the
// kernel says about it: CPU time from /proc/<pid>/stat and resident memory from
// /proc/<pid>/status. Its log is kept only to show on failure.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchServices, Cleanup } from './services.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/mailroom.js');
const BUILT = path.join(ROOT, 'dist/main/cli.js');
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcSample {
  /** user + system CPU time so far. */
  cpuMs: number;
  /** Of it, the main thread's (the event loop); the rest is the parse thread, V8's collector and compiler, libuv's pool. */
  mainCpuMs: number;
  rssKb: number;
  /** Peak resident set size so far (the kernel's high-water mark). */
  hwmKb: number;
}

/** user + system CPU time in a /proc .../stat file. */
function statCpuMs(file: string): number {
  const stat = readFileSync(file, 'utf8');
  // Fields after the command name (which may hold spaces) start at ")": utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

export function readProc(pid: number): ProcSample | null {
  try {
    const cpuMs = statCpuMs(`/proc/${pid}/stat`);
    // The main thread's task id is the process id; the process's own figure includes threads that have exited.
    const mainCpuMs = statCpuMs(`/proc/${pid}/task/${pid}/stat`);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { cpuMs, mainCpuMs, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Busy CPU time of the whole machine (every core), from /proc/stat. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...nums] = line.trim().split(/\s+/);
  const v = nums.map(Number);
  const busy = v.reduce((a, b) => a + b, 0) - (v[3] ?? 0) - (v[4] ?? 0);
  return (busy * 1000) / CLK_TCK;
}

export interface WorkerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly startedAt: number;
  /** Last samples, taken every 100 ms while it runs; the peak of VmRSS seen. */
  last: ProcSample;
  peakRssKb: number;
  tail(): string;
  /** SIGTERM, then SIGKILL after 20 s; returns the final sample taken just before. */
  stop(): Promise<ProcSample>;
}

export function workerEnv(s: BenchServices, scenario: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    // As the Docker image runs it (Dockerfile, docs/operations.md "Memory").
    MALLOC_ARENA_MAX: '2',
    MALLOC_MMAP_THRESHOLD_: '131072',
    DATABASE_URL: s.databaseUrl,
    REDIS_URL: s.redisUrl,
    MAILROOM_QUEUE_PREFIX: `{${s.prefixBase}-${scenario}}`,
    // Per scenario: content-addressed blobs written by an earlier scenario would make later writes free.
    MAILROOM_STORAGE_URL: `file://${path.join(s.blobRoot, scenario)}`,
    MAILROOM_SECRET_KEY: s.secretKeyHex,
    MAILROOM_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...benchWorkerEnv(),
    ...extra,
  };
}

/** MAILROOM_BENCH_WORKER_ENV: extra variables for every worker the bench starts, e.g. `MAILROOM_PARSE_THREADS=1`. */
function benchWorkerEnv(): Record<string, string> {
  const pairs = (process.env.MAILROOM_BENCH_WORKER_ENV ?? '').split(/\s+/).filter(Boolean);
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`MAILROOM_BENCH_WORKER_ENV: "${pair}" is not NAME=VALUE`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** How the Docker image and `npm start` start node (Dockerfile). */
export const WORKER_NODE_ARGS = '--max-semi-space-size=4';

export function spawnWorker(env: NodeJS.ProcessEnv, cleanup: Cleanup): WorkerProcess {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-worker-'));
  // MAILROOM_BENCH_WORKER_NODE_ARGS: the worker's node flags in place of WORKER_NODE_ARGS ('' for none), e.g.
  // `--max-semi-space-size=4 --cpu-prof --cpu-prof-dir=/tmp/prof`.
  // Without it, the flag the Docker image and `npm start` give the worker's node (docs/operations.md "Memory").
  const extra = (process.env.MAILROOM_BENCH_WORKER_NODE_ARGS ?? WORKER_NODE_ARGS).split(' ').filter(Boolean);
  if (!existsSync(BUILT)) throw new Error('the worker is not built: run `npm run build` (npm run bench does) before the e2e suite');
  const child = spawn(process.execPath, [...extra, BIN, 'worker'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start `mailroom worker`');
  const pid = child.pid;
  const lines: string[] = [];
  // MAILROOM_BENCH_WORKER_LOG: every worker's whole output appended to this file too (e.g. with `--trace-gc`).
  const logFile = process.env.MAILROOM_BENCH_WORKER_LOG;
  const keep = (d: Buffer) => {
    if (logFile) appendFileSync(logFile, d);
    lines.push(...d.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const w: WorkerProcess = {
    pid,
    child,
    startedAt: performance.now(),
    last: { cpuMs: 0, mainCpuMs: 0, rssKb: 0, hwmKb: 0 },
    peakRssKb: 0,
    tail: () => lines.slice(-30).join('\n'),
    async stop() {
      clearInterval(timer);
      sample();
      const final = w.last;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(cwd, { recursive: true, force: true });
      return final;
    },
  };
  const sample = () => {
    const s = readProc(pid);
    if (!s) return;
    w.last = s;
    w.peakRssKb = Math.max(w.peakRssKb, s.rssKb);
  };
  const timer = setInterval(sample, 100);
  timer.unref();
  cleanup.add(`stop worker ${pid}`, () => w.stop());
  return w;
}

/** Throws with the worker's last output when it exited early. */
export function assertAlive(w: WorkerProcess): void {
  if (w.child.exitCode !== null || w.child.signalCode !== null) {
    throw new Error(`mailroom worker ${w.pid} exited (${w.child.exitCode ?? w.child.signalCode}); its last output:\n${w.tail()}`);
  }
}
