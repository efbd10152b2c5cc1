// The cost of the heaviest API request, measured from outside a real
// `mailroom api` process: a USER token POSTs conversations of big HTML while
// /healthz is polled every 20 ms, and the ticket is read back with
// page_size=200. Prints how long /healthz waited at most (next to the same
// figure on the idle server), the POST's status and time, the process's peak
// RSS (from /proc), and the list response's size. Its own throw-away database
// and Redis prefix; nothing of a developer's data. (docs/api-limits.md)
//
//   npx tsx bench/heavy-request.ts [--items 4] [--chars N] [--env NAME=VALUE ...] [--built]
//   npm run bench -- --suite api [same flags]       (the compiled CLI, after npm run build)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { createPrisma } from '../src/db/prisma.js';
import { createTenant } from '../src/tenants/service.js';
import { createToken } from '../src/tokens/service.js';
import { createTestDatabase, dropTestDatabase } from '../test/support/database.js';
import { freePort } from '../test/support/dovecot.js';
import { heavyHtml } from './heavy-html.js';

interface Options {
  items: number;
  chars: number;
  env: Record<string, string>;
  /** Run the compiled CLI (bin/mailroom.js) instead of the sources through tsx. */
  built: boolean;
}

function parse(argv: string[]): Options {
  const env: Record<string, string> = {};
  let items = 4;
  let chars: number | null = null;
  let built = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--built') built = true;
    else if (arg === '--items') items = Number(argv[++i]);
    else if (arg === '--chars') chars = Number(argv[++i]);
    else if (arg === '--env') {
      const [name, ...value] = (argv[++i] ?? '').split('=');
      env[name!] = value.join('=');
    } else throw new Error(`${arg}: not a flag of the api bench (--items N, --chars N, --env NAME=VALUE, --built)`);
  }
  if (!Number.isInteger(items) || items < 1) throw new Error('--items must be a positive whole number');
  // Default: each conversation just under the limits the api process runs with.
  const limits = loadConfig({ MAILROOM_SECRET_KEY: randomBytes(32).toString('hex'), ...env }).apiLimits;
  chars ??= Math.min(limits.maxHtmlBytes, Math.floor(limits.maxRequestHtmlBytes / items)) - 1024;
  return { items, chars, env, built };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

async function healthProbe(base: string, stop: () => boolean): Promise<number[]> {
  const waits: number[] = [];
  while (!stop()) {
    // From the moment the probe meant to ask: a stall of this process (it also sends the big body) is not hidden in the pause.
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 20));
    await fetch(`${base}/healthz`).then((r) => r.text());
    waits.push(performance.now() - t0 - 20);
  }
  return waits;
}

export async function runHeavyRequest(argv: string[]): Promise<void> {
  const o = parse(argv);
  const root = fileURLToPath(new URL('..', import.meta.url));
  const db = await createTestDatabase({ migrate: true });
  const blobDir = mkdtempSync(path.join(tmpdir(), 'mailroom-heavy-'));
  const prisma = createPrisma(db.url, { max: 2 });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, o.built ? ['bin/mailroom.js', 'api'] : ['--import', 'tsx', 'src/main/cli.ts', 'api'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      REDIS_URL: process.env.MAILROOM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      MAILROOM_SECRET_KEY: randomBytes(32).toString('hex'),
      MAILROOM_QUEUE_PREFIX: `{mailroom-heavy-${randomBytes(4).toString('hex')}}`,
      MAILROOM_STORAGE_URL: `file://${blobDir}`,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...o.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('mailroom api did not answer /healthz within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const tenant = await createTenant(prisma, { slug: `heavy-${randomBytes(4).toString('hex')}` });
    const user = await createToken(prisma, { tenantSlug: tenant.slug, role: 'USER', userEmail: 'agent@example.test' });
    const status = await prisma.status.findFirstOrThrow({ where: { tenant_id: tenant.id, key: 'new' } });
    const ticket = await prisma.ticket.create({ data: { tenant_id: tenant.id, number: 1, subject: 'heavy', status_id: status.id, created: new Date(), last_activity: new Date() } });
    const auth = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };

    // Warm up (first requests compile their code paths), then the idle figure.
    for (let i = 0; i < 20; i++) await fetch(`${base}/healthz`).then((r) => r.text());
    let stopIdle = false;
    const idleProbe = healthProbe(base, () => stopIdle);
    await new Promise((r) => setTimeout(r, 2000));
    stopIdle = true;
    const idle = await idleProbe;

    const html = heavyHtml(o.chars);
    const body = JSON.stringify(Array.from({ length: o.items }, () => ({ type: 3, sys_content_rich: { html } })));
    let peak = rssMb(child.pid!);
    const rssTimer = setInterval(() => (peak = Math.max(peak, rssMb(child.pid!))), 50);
    let done = false;
    const probe = healthProbe(base, () => done);
    const t0 = performance.now();
    const res = await fetch(`${base}/api/${tenant.slug}/v1/ticket_conversations/${ticket.id}`, { method: 'POST', headers: auth, body });
    const answer = await res.text();
    const postMs = performance.now() - t0;
    done = true;
    const busy = await probe;
    // Rows for the read back even when the POST was refused: the list's cost, written directly.
    if (res.status !== 200) {
      const agent = await prisma.user.findFirstOrThrow({ where: { tenant_id: tenant.id, email: 'agent@example.test' } });
      const editorjs = { time: 0, version: '2.28.2', blocks: [{ id: 'b0', type: 'paragraph', data: { text: html } }] };
      for (let i = 0; i < o.items; i++) {
        await prisma.conversation.create({
          data: { tenant_id: tenant.id, ticket_id: ticket.id, type: 'NOTE_PUBLIC', created_by_id: agent.id, last_updated_by_id: agent.id, html, editorjs, last_message_extracted: 'x' },
        });
      }
    }
    const t1 = performance.now();
    const list = await fetch(`${base}/api/${tenant.slug}/v1/ticket_conversations/${ticket.id}?page_size=200`, { headers: auth });
    const listBytes = (await list.arrayBuffer()).byteLength;
    const listMs = performance.now() - t1;
    clearInterval(rssTimer);
    peak = Math.max(peak, rssMb(child.pid!));
    const max = (xs: number[]) => Math.round(Math.max(...xs));
    console.log(`request body: ${o.items} x ${o.chars.toLocaleString('en')} chars of HTML = ${(body.length / 1e6).toFixed(1)} MB`);
    console.log(`/healthz, idle server:       max ${max(idle)} ms over ${idle.length} probes`);
    console.log(`/healthz, during the POST:   max ${max(busy)} ms over ${busy.length} probes`);
    console.log(`POST: ${res.status} in ${Math.round(postMs)} ms${res.status === 200 ? '' : ` (${answer.slice(0, 160)})`}`);
    console.log(`peak RSS of mailroom api: ${peak} MB`);
    console.log(`GET page_size=200: ${list.status}, ${(listBytes / 1e6).toFixed(2)} MB in ${Math.round(listMs)} ms`);
  } finally {
    child.kill('SIGTERM');
    await exited;
    await prisma.$disconnect();
    await dropTestDatabase(db.name);
    rmSync(blobDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await runHeavyRequest(process.argv.slice(2));
}
