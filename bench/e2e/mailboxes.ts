// Mailboxes for the bench, added through the same service as `mailroom mailbox
// add` (src/mailboxes/service.ts), and what the bench reads back from the
// database to know how far ingest is: committed ingest records, attachments
// still UNAVAILABLE. The database is the only source of the numbers.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { addMailbox } from '../../src/mailboxes/service.js';
import { createTenant } from '../../src/tenants/service.js';
import { DEFAULT_PASSWORD } from '../../test/support/dovecot.js';
import type { BenchServices } from './services.js';
import { assertAlive, type WorkerProcess } from './worker-process.js';

/** One tenant per call; `since` a day back, so every mail appended by the bench is backfilled. */
export async function addBenchMailboxes(s: BenchServices, users: string[], options: { backfill: boolean }): Promise<number[]> {
  const tenant = await createTenant(s.prisma, { slug: `bench-${randomBytes(4).toString('hex')}` });
  const key = Buffer.from(s.secretKeyHex, 'hex');
  const since = options.backfill ? new Date(Date.now() - 86_400_000).toISOString() : null;
  const ids: number[] = [];
  for (const user of users) {
    const view = await addMailbox(s.prisma, key, tenant.id, {
      address: user,
      host: s.dovecot.host,
      port: s.dovecot.imapPort,
      tls: 'none',
      username: user,
      password: DEFAULT_PASSWORD,
      post_action: 'none',
      since,
    });
    ids.push(view.id);
  }
  return ids;
}

/** One tenant per mailbox (M tenants with a mailbox each, as a multi-tenant install has them). */
export async function addMailboxesOneTenantEach(s: BenchServices, users: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const user of users) ids.push(...(await addBenchMailboxes(s, [user], { backfill: true })));
  return ids;
}

/** A finished scenario's mailboxes are switched off, so later workers leave them alone. */
export async function disableMailboxes(s: BenchServices, ids: number[]): Promise<void> {
  await s.prisma.mailbox.updateMany({ where: { id: { in: ids } }, data: { enabled: false, state: 'disabled' } });
}

export interface Progress {
  records: number;
  unavailable: number;
  attachments: number;
}

export async function progress(pool: pg.Pool, mailboxIds: number[]): Promise<Progress> {
  const { rows } = await pool.query<{ records: string; unavailable: string; attachments: string }>(
    `SELECT (SELECT count(*) FROM ingest_records WHERE mailbox_id = ANY($1)) AS records,
            (SELECT count(*) FROM attachments a JOIN conversations c ON c.id = a.conversation_id
              WHERE c.mailbox_id = ANY($1) AND a.status = 'UNAVAILABLE') AS unavailable,
            (SELECT count(*) FROM attachments a JOIN conversations c ON c.id = a.conversation_id
              WHERE c.mailbox_id = ANY($1)) AS attachments`,
    [mailboxIds],
  );
  const r = rows[0]!;
  return { records: Number(r.records), unavailable: Number(r.unavailable), attachments: Number(r.attachments) };
}

/** What became of the mails and their attachments, by outcome and by status. */
export async function outcomes(pool: pg.Pool, mailboxIds: number[]): Promise<{ ingest: Record<string, number>; attachments: Record<string, number> }> {
  const ingest = await pool.query<{ k: string; n: string }>('SELECT outcome AS k, count(*) AS n FROM ingest_records WHERE mailbox_id = ANY($1) GROUP BY 1', [mailboxIds]);
  const att = await pool.query<{ k: string; n: string }>(
    'SELECT a.status AS k, count(*) AS n FROM attachments a JOIN conversations c ON c.id = a.conversation_id WHERE c.mailbox_id = ANY($1) GROUP BY 1',
    [mailboxIds],
  );
  const toMap = (rows: { k: string; n: string }[]) => Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
  return { ingest: toMap(ingest.rows), attachments: toMap(att.rows) };
}

/** Connections to the bench's database other than the bench's own (which carry application_name mailroom-bench): the worker's. */
export async function workerDbConnections(pool: pg.Pool, database: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name <> 'mailroom-bench'", [database]);
  return Number(rows[0]?.n ?? 0);
}

/** Sessions ever opened to the database (pg_stat_database.sessions, PostgreSQL 14+), or null. */
export async function databaseSessions(pool: pg.Pool, database: string): Promise<number | null> {
  const { rows } = await pool.query<{ n: string | null }>('SELECT sessions AS n FROM pg_stat_database WHERE datname = $1', [database]).catch(() => ({ rows: [] as { n: string | null }[] }));
  return rows[0]?.n == null ? null : Number(rows[0].n);
}

/** The span of commits as the database stamped them (ingest_records.created), in ms since the epoch. */
export async function recordSpan(pool: pg.Pool, mailboxIds: number[]): Promise<{ first: number; last: number } | null> {
  const { rows } = await pool.query<{ first: string | null; last: string | null }>(
    'SELECT extract(epoch FROM min(created)) * 1000 AS first, extract(epoch FROM max(created)) * 1000 AS last FROM ingest_records WHERE mailbox_id = ANY($1)',
    [mailboxIds],
  );
  const r = rows[0];
  return r?.first && r.last ? { first: Number(r.first), last: Number(r.last) } : null;
}

/**
 * Polls `cond` every `everyMs` until it holds; fails after `timeoutMs`, or at
 * once when the worker died, saying how far it got.
 */
export async function waitUntil<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, opts: { worker?: WorkerProcess; timeoutMs: number; everyMs?: number }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (opts.worker) assertAlive(opts.worker);
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})${opts.worker ? `; worker output:\n${opts.worker.tail()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 50));
  }
}
