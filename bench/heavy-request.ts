// The cost of the heaviest API request, measured from outside a real
// `mailroom api` process: a USER token POSTs conversations of big HTML while
// /healthz is polled every 20 ms, and the ticket is read back with
// page_size=200. Prints how long /healthz waited at most (against the same
// figure on the idle server), the POST's status and time, the process's peak
// RSS (from /proc), and the list response's size. Its own throw-away database
// and Redis prefix; nothing of a developer's data.
//
//   npx tsx bench/heavy-request.ts [--items 5] [--chars 2000000] [--env NAME=VALUE ...]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPrisma } from '../src/db/prisma.js';
import { createTenant } from '../src/tenants/service.js';
import { createToken } from '../src/tokens/service.js';
import { createTestDatabase, dropTestDatabase } from '../test/support/database.js';
import { freePort } from '../test/support/dovecot.js';
import { heavyHtml } from './heavy-html.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const extraEnv = Object.fromEntries(args.flatMap((a, i) => (args[i - 1] === '--env' ? [a.split('=', 2) as [string, string]] : [])));
const ITEMS = flag('--items', 5);
const CHARS = flag('--chars', 2_000_000);


function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

async function healthProbe(base: string, stop: () => boolean): Promise<number[]> {
  const waits: number[] = [];
  while (!stop()) {
    const t0 = performance.now();
    await fetch(`${base}/healthz`).then((r) => r.text());
    waits.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  return waits;
}

const db = await createTestDatabase({ migrate: true });
const blobDir = mkdtempSync(path.join(tmpdir(), 'mailroom-heavy-'));
const prisma = createPrisma(db.url, { max: 2 });
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'api'], {
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
    ...extraEnv,
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
try {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error('mailroom api did not answer /healthz within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  const tenant = await createTenant(prisma, { slug: `heavy-${randomBytes(4).toString('hex')}` });
  const user = await createToken(prisma, { tenantSlug: tenant.slug, role: 'USER', userEmail: 'agent@example.test' });
  const status = await prisma.status.findFirstOrThrow({ where: { tenant_id: tenant.id, key: 'new' } });
  const ticket = await prisma.ticket.create({ data: { tenant_id: tenant.id, number: 1, subject: 'heavy', status_id: status.id, created: new Date(), last_activity: new Date() } });
  const auth = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };

  let stopIdle = false;
  const idleProbe = healthProbe(base, () => stopIdle);
  await new Promise((r) => setTimeout(r, 2000));
  stopIdle = true;
  const idle = await idleProbe;

  const body = JSON.stringify(Array.from({ length: ITEMS }, () => ({ type: 3, sys_content_rich: { html: heavyHtml(CHARS) } })));
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
    const html = heavyHtml(CHARS);
    const agent = await prisma.user.findFirstOrThrow({ where: { tenant_id: tenant.id, email: 'agent@example.test' } });
    for (let i = 0; i < ITEMS; i++) {
      await prisma.conversation.create({
        data: {
          tenant_id: tenant.id, ticket_id: ticket.id, type: 'NOTE_PUBLIC', created: new Date(), created_by_id: agent.id, last_updated_by_id: agent.id, last_message_extracted: 'x', html,
          editorjs: { time: 0, version: '2.28.2', blocks: [{ id: 'b0', type: 'paragraph', data: { text: html } }] }, plain_preview: 'x', read_minutes: 1,
        } as never,
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
  console.log(`request body: ${ITEMS} x ${CHARS.toLocaleString('en')} chars of HTML = ${(body.length / 1e6).toFixed(1)} MB`);
  console.log(`/healthz idle: max ${max(idle)} ms over ${idle.length} probes`);
  console.log(`POST: ${res.status} in ${Math.round(postMs)} ms${res.status === 200 ? '' : ` (${answer.slice(0, 200)})`}`);
  console.log(`/healthz during the POST: max ${max(busy)} ms over ${busy.length} probes`);
  console.log(`peak RSS of mailroom api: ${peak} MB`);
  console.log(`GET page_size=200: ${list.status}, ${(listBytes / 1e6).toFixed(1)} MB in ${Math.round(listMs)} ms`);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await prisma.$disconnect();
  await dropTestDatabase(db.name);
  rmSync(blobDir, { recursive: true, force: true });
}
