// `mailroom status` as an operator runs it: the real CLI against the run's
// PostgreSQL and Redis, on a queue prefix of its own so the depths are exact;
// then with Redis unreachable (mailboxes still shown, queues unknown, exit 1).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/prisma.js';
import { closeQueues, createQueues, createRedisConnection, enqueueAttachmentJobs, requestMailboxSyncUnique } from '../../src/queues/queues.js';
import { createTenant } from '../../src/tenants/service.js';
import type { Status } from '../../src/cli/status.js';
import { runCli } from '../support/cli.js';
import { freePort } from '../support/dovecot.js';
import { childEnv, testEnv, testPrisma } from '../support/env.js';

let db: PrismaClient;
let prefix: string;
let tenant: { id: number; slug: string };
let healthy: { id: number; address: string };
let busy: { id: number; address: string };
let broken: { id: number; address: string };

beforeAll(async () => {
  db = testPrisma();
  prefix = `${testEnv().queuePrefix}-status-${randomBytes(4).toString('hex')}`;
  tenant = await createTenant(db, { slug: `status-${randomBytes(5).toString('hex')}` });
  const base = { tenant_id: tenant.id, host: '127.0.0.1', port: 143, tls: 'none' as const, username: 'u', secret_encrypted: 'x' };
  healthy = await db.mailbox.create({ data: { ...base, address: `ok-${randomBytes(3).toString('hex')}@status.test`, state: 'idle', last_success_at: new Date('2026-11-25T08:00:00Z') } });
  broken = await db.mailbox.create({
    data: { ...base, address: `bad-${randomBytes(3).toString('hex')}@status.test`, state: 'auth_error', last_error: 'The mail server rejected the credentials', consecutive_failures: 4 },
  });
  // A sync working through a backfill: the backlog the sync writes as it goes (src/sync/backlog.ts).
  busy = await db.mailbox.create({
    data: { ...base, address: `busy-${randomBytes(3).toString('hex')}@status.test`, state: 'syncing', backlog: 1200, backlog_done: 300, backlog_started_at: new Date(Date.now() - 60_000) },
  });

  const connection = createRedisConnection(testEnv().redisUrl);
  const queues = createQueues({ connection, prefix });
  try {
    await enqueueAttachmentJobs(
      queues.attachments,
      [1, 2].map((n) => ({ attachmentId: n, tenantId: tenant.id })),
    );
    await requestMailboxSyncUnique(queues.sync, healthy.id, 'status');
  } finally {
    await closeQueues(queues);
    connection.disconnect();
  }
});

afterAll(async () => {
  await db.$disconnect();
});

describe('mailroom status', () => {
  it('prints each mailbox with its health and the queue depths', async () => {
    const res = await runCli(['status'], { env: childEnv({ MAILROOM_QUEUE_PREFIX: prefix }) });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const line = (address: string) => res.stdout.split('\n').find((l) => l.includes(address)) ?? '';
    expect(res.stdout).toMatch(/^ID\s+TENANT\s+ADDRESS\s+ENABLED\s+STATE\s+BACKLOG\s+LAST SUCCESS\s+FAILURES\s+LAST ERROR$/m);
    expect(line(healthy.address)).toMatch(new RegExp(`^${healthy.id}\\s+${tenant.slug}\\s+\\S+\\s+yes\\s+idle\\s+-\\s+2026-11-25T08:00:00Z\\s+0\\s+-$`));
    expect(line(broken.address)).toMatch(/yes\s+auth_error\s+-\s+-\s+4\s+The mail server rejected the credentials$/);
    // 300 done in the minute (and the seconds this command took) since the pass began: about 5 a second, 1,200 left in about 4 minutes.
    expect(line(busy.address)).toMatch(/yes\s+syncing\s+1,200 left, [45]\.\d msg\/s, ETA [45]m \d\ds\s+-\s+0\s+-$/);
    expect(res.stdout).toMatch(/^QUEUE\s+WAITING\s+ACTIVE\s+DELAYED\s+FAILED\s+COMPLETED$/m);
    expect(res.stdout).toMatch(/^sync\s+1\s+0\s+0\s+0\s+0$/m);
    expect(res.stdout).toMatch(/^attachments\s+2\s+0\s+0\s+0\s+0$/m);
  });

  it('prints JSON with --json', async () => {
    const res = await runCli(['status', '--json'], { env: childEnv({ MAILROOM_QUEUE_PREFIX: prefix }) });
    expect(res.code).toBe(0);
    const status = JSON.parse(res.stdout) as Status;
    expect(status.mailboxes.find((m) => m.id === broken.id)).toEqual({
      id: broken.id,
      tenant: tenant.slug,
      address: broken.address,
      enabled: true,
      state: 'auth_error',
      last_success_at: null,
      last_error: 'The mail server rejected the credentials',
      consecutive_failures: 4,
      backlog: null,
    });
    expect(status.mailboxes.find((m) => m.id === busy.id)?.backlog).toMatchObject({ remaining: 1200, done: 300, eta_seconds: expect.any(Number) });
    const rate = status.mailboxes.find((m) => m.id === busy.id)?.backlog?.rate_per_second ?? 0;
    expect(rate).toBeGreaterThan(3);
    expect(rate).toBeLessThanOrEqual(5);
    expect(status.queues?.attachments).toMatchObject({ waiting: 2, active: 0, delayed: 0, failed: 0, completed: 0 });
    // The start-up catch-up is a routine sync: BullMQ keeps it apart, as prioritized (the text's WAITING counts both).
    expect(status.queues?.sync).toMatchObject({ waiting: 0, prioritized: 1 });
    expect(status).not.toHaveProperty('queues_error');
  });

  it('still prints the mailboxes when Redis is unreachable, marks the queues unknown and exits 1', async () => {
    const redisUrl = `redis://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const res = await runCli(['status'], { env: childEnv({ REDIS_URL: redisUrl }) });
    expect(res.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(res.stdout).toContain(broken.address);
    expect(res.stdout).toMatch(/^attachments\s+unknown\s+unknown\s+unknown\s+unknown\s+unknown$/m);
    expect(res.stderr).toMatch(new RegExp(`^mailroom: Redis at ${redisUrl.replace(/[.]/g, '\\.')} cannot be reached \\(.*ECONNREFUSED.*\\); queue depths are unknown\\.$`, 'm'));

    const json = await runCli(['status', '--json'], { env: childEnv({ REDIS_URL: redisUrl }) });
    expect(json.code).toBe(1);
    const status = JSON.parse(json.stdout) as Status;
    expect(status.queues).toBeNull();
    expect(status.queues_error).toMatch(/ECONNREFUSED/);
    expect(status.mailboxes.some((m) => m.id === healthy.id)).toBe(true);
  });

  it('says in one sentence, naming DATABASE_URL with its password redacted, when the database cannot be reached', async () => {
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const databaseUrl = `postgresql://mailroom:${password}@127.0.0.1:${await freePort()}/mailroom`;
    const res = await runCli(['status'], { env: childEnv({ DATABASE_URL: databaseUrl }) });
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(`mailroom: Cannot use the database at DATABASE_URL=postgresql://mailroom:***@${databaseUrl.split('@')[1]}: the server does not answer (is PostgreSQL running?).`);
    expect(res.stderr).not.toContain(password);
    expect(res.stdout).toBe('');
  });

  it('refuses extra arguments as a usage error', async () => {
    const res = await runCli(['status', 'now'], { env: childEnv() });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('Unexpected argument "now"');
  });
});
