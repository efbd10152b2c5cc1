// The idle worker's memory floor in ~15 s, where `--only idle` of the e2e
// suite takes ~9 minutes: a cold built `mailroom worker` (`node
// bin/mailroom.js worker`, NODE_ENV=production) against a throw-away migrated
// database, no mailbox, its resident memory read from /proc after --wait
// seconds (default 10). Run after `npm run build`:
//
//   npx tsx bench/worker-floor.ts [--wait 10] [--runs 1] [--env NAME=VALUE ...] [-- node flags]
//
// e.g. `--env MAILROOM_PARSE_THREADS=0` (no parse thread) or `-- --max-semi-space-size=4`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createTestDatabase, dropTestDatabase } from '../test/support/database.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values, positionals } = parseArgs({
  options: { wait: { type: 'string', default: '10' }, runs: { type: 'string', default: '1' }, env: { type: 'string', multiple: true, default: [] } },
  allowPositionals: true,
});
const waitMs = Number(values.wait) * 1000;
const extraEnv = Object.fromEntries(values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

function statusMb(pid: number): Record<string, number> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const out: Record<string, number> = {};
  for (const k of ['VmRSS', 'VmHWM', 'RssAnon', 'RssFile', 'Threads']) {
    const v = Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    out[k] = k === 'Threads' ? v : Math.round(v / 1024);
  }
  return out;
}

const db = await createTestDatabase();
const cwd = mkdtempSync(path.join(os.tmpdir(), 'mailroom-floor-'));
try {
  for (let run = 0; run < Number(values.runs); run++) {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      REDIS_URL: process.env.MAILROOM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      MAILROOM_QUEUE_PREFIX: `{mailroom-floor-${randomBytes(4).toString('hex')}}`,
      MAILROOM_STORAGE_URL: `file://${path.join(cwd, 'blobs')}`,
      MAILROOM_SECRET_KEY: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      ...extraEnv,
    };
    const child = spawn(process.execPath, [...positionals, path.join(ROOT, 'bin/mailroom.js'), 'worker'], { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await Promise.race([new Promise((r) => setTimeout(r, waitMs)), exited]);
    if (child.exitCode !== null || child.pid === undefined) throw new Error(`the worker exited early (${child.exitCode})`);
    const m = statusMb(child.pid);
    console.log(`run ${run + 1}: VmRSS ${m.VmRSS} MB, VmHWM ${m.VmHWM} MB (anon ${m.RssAnon}, file ${m.RssFile}), ${m.Threads} threads`);
    child.kill('SIGTERM');
    await exited;
  }
} finally {
  rmSync(cwd, { recursive: true, force: true });
  await dropTestDatabase(db.name);
}
