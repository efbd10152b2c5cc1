// One phase of the drill: a fresh tenant and mailbox, a backlog of generated
// support mail (replies, attachments, two malformed mails), a cold supervised
// worker, one fault struck mid-ingest — then the verdict from the database
// alone: every good mail exactly one conversation, none lost, no attachment
// left UNAVAILABLE or failed, no acknowledgement left undone, `failed` records
// only for the malformed mails, and how long recovery took.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { addMailbox } from '../src/mailboxes/service.js';
import { createTenant } from '../src/tenants/service.js';
import type { PrismaClient } from '../src/db/prisma.js';
import { attachmentCount, corpusMail, mailMeta, pdfLike } from '../bench/e2e/corpus.js';
import { createRng, seedOf } from '../bench/e2e/random.js';
import { DEFAULT_PASSWORD, imapClient } from '../test/support/dovecot.js';
import type { Fault, FaultWorld, PhaseHandle, Struck } from './faults.js';
import { SupervisedWorker } from './supervisor.js';

export interface PhaseConfig {
  world: FaultWorld;
  prisma: PrismaClient;
  /** Plain SQL for the probes; its queries fail while PostgreSQL is down, and are retried. */
  pool: pg.Pool;
  secretKeyHex: string;
  workerEnv: NodeJS.ProcessEnv;
  mails: number;
  seed: number;
  downMs: number;
  /** Longest wait for a phase to settle before it is called stuck. */
  settleMs: number;
  log: (line: string) => void;
}

export interface PhaseResult {
  fault: string;
  label: string;
  skipped?: string;
  mails: number;
  /** Seconds the fault lasted (struck → service back). */
  downS: number | null;
  /** Seconds from the service being back to every mail settled; null: it never settled. */
  recoverS: number | null;
  /** Seconds from the service being back to every mail committed (attachments and acks may still run). */
  committedS: number | null;
  /** Warnings and errors the worker logged during the phase: the fault was felt. */
  warnings: number;
  /** Per cent of the backlog with an ingest record when the fault struck (100: it came too late to matter). */
  atShare: number | null;
  lost: number;
  duplicated: number;
  /** Attachments still UNAVAILABLE, plus mails whose post-action never ran. */
  stuck: number;
  /** Attachments that ended ERROR (none of the drill's should). */
  attachmentErrors: number;
  /** `failed` records that are not the malformed mails; malformed mails without one. */
  wronglyFailed: number;
  workerExits: number;
  ok: boolean;
  notes: string[];
}

interface Tally {
  cursor: string | null;
  conversations: Map<string, number>;
  /** raw_sha256 of every `failed` record. */
  failedHashes: Set<string>;
  attachments: Record<string, number>;
  unacked: number;
  records: number;
}

const MALFORMED = 2;
/** How a malformed mail of the drill starts (control characters: no header field can). */
const MALFORMED_MARK = '\u0001\u0002';
const isMalformed = (raw: Buffer) => raw.subarray(0, 2).toString('latin1') === MALFORMED_MARK;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export async function runPhase(cfg: PhaseConfig, fault: Fault, index: number, user: string): Promise<PhaseResult> {
  const base = { fault: fault.name, label: fault.label, mails: cfg.mails };
  const skipped = fault.unavailable?.(cfg.world) ?? null;
  if (skipped) return { ...base, skipped, downS: null, recoverS: null, committedS: null, warnings: 0, atShare: null, lost: 0, duplicated: 0, stuck: 0, attachmentErrors: 0, wronglyFailed: 0, workerExits: 0, ok: true, notes: [] };

  const seed = cfg.seed * 100 + index;
  const rng = createRng(seedOf('drill', seed));
  const folder = fault.folder ?? 'INBOX';
  const raws = backlog(cfg, fault, seed, user, rng);
  const expected = { mails: cfg.mails, attachments: attachmentCount(seed, 0, cfg.mails) + (fault.bigMailMb ? 1 : 0) };

  const client = imapClient(cfg.world.dovecot, user);
  client.on('error', () => undefined);
  await client.connect();
  try {
    if (folder !== 'INBOX') await client.mailboxCreate(folder).catch(() => undefined);
    for (const raw of raws) await client.append(folder, raw);
  } finally {
    await client.logout().catch(() => client.close());
  }

  const tenant = await createTenant(cfg.prisma, { slug: `drill-${fault.name}-${randomBytes(3).toString('hex')}` });
  const mailbox = await addMailbox(cfg.prisma, Buffer.from(cfg.secretKeyHex, 'hex'), tenant.id, {
    address: user,
    host: '127.0.0.1',
    port: cfg.world.proxy.port,
    tls: 'none',
    username: user,
    password: DEFAULT_PASSWORD,
    folder,
    post_action: 'seen',
    since: new Date(Date.now() - 86_400_000).toISOString(),
  });

  const worker = new SupervisedWorker(cfg.workerEnv);
  const over = new AbortController();
  let committedAtStrike: number | null = null;
  const handle: PhaseHandle = {
    world: cfg.world,
    worker,
    user,
    folder,
    mails: cfg.mails,
    downMs: cfg.downMs,
    random: () => rng.next(),
    progress: async (share) => {
      // Once the phase is over a late strike must not break the next phase's services: it fails here instead.
      while (!over.signal.aborted) {
        const n = await count(cfg.pool, mailbox.id);
        if (n !== null && n >= Math.floor(share * (cfg.mails + MALFORMED))) return;
        await sleep(20);
      }
      throw new Error('the phase is over');
    },
    mark: async () => {
      if (!over.signal.aborted) committedAtStrike = await count(cfg.pool, mailbox.id);
    },
    raws: () => raws,
  };

  cfg.log(`${fault.name}: ${raws.length} mails in ${user}/${folder}; worker starting`);
  const startedAt = Date.now();
  worker.start();
  const notes: string[] = [];
  let struck: Struck | null = null;
  let settledAt: number | null = null;
  let committedAt: number | null = null;
  let tally: Tally | null = null;
  try {
    struck = await withDeadline(fault.strike(handle), cfg.settleMs, `${fault.name}: the fault's moment never came`);
    cfg.log(`${fault.name}: struck after ${((struck.at - startedAt) / 1000).toFixed(1)} s, back after ${((struck.restoredAt - struck.at) / 1000).toFixed(1)} s`);
    const deadline = struck.restoredAt + cfg.settleMs;
    // Read to its end: the cursor stands at the folder's last UID as the server has it now.
    const end = await folderEnd(cfg, user, folder);
    let reported = 0;
    while (Date.now() < deadline) {
      tally = await read(cfg.pool, mailbox.id).catch(() => null);
      if (tally && tally.conversations.size >= expected.mails) committedAt ??= Date.now();
      if (process.env.MAILROOM_DRILL_DEBUG && Date.now() - reported >= 5_000 && (reported = Date.now())) cfg.log(`${fault.name}: ${JSON.stringify({ end, cursor: tally?.cursor, ...summary(tally, expected) })}`);
      if (tally && tally.cursor === end && settled(tally, expected)) {
        settledAt = Date.now();
        break;
      }
      await sleep(100);
    }
  } catch (err) {
    notes.push(err instanceof Error ? err.message : String(err));
  } finally {
    over.abort();
    cfg.world.proxy.disarm();
    await worker.stop();
  }
  // The verdict from the database as the stopped worker left it (not as it was when the phase settled).
  tally = (await read(cfg.pool, mailbox.id).catch(() => null)) ?? tally;
  await cfg.prisma.mailbox.updateMany({ where: { id: mailbox.id }, data: { enabled: false, state: 'disabled' } }).catch(() => undefined);

  const verdict = judge(tally, seed, expected, new Set(raws.filter(isMalformed).map(sha256)));
  const state = await cfg.pool.query<{ state: string; last_error: string | null }>('SELECT state, last_error FROM mailboxes WHERE id = $1', [mailbox.id]).catch(() => null);
  if (settledAt === null) notes.push(`not settled within ${cfg.settleMs / 1000} s: ${JSON.stringify(summary(tally, expected))}; mailbox ${state?.rows[0]?.state ?? '?'} (${state?.rows[0]?.last_error ?? 'no error'})`);
  notes.push(...worker.unexpectedExits.map((e) => `worker exited by itself: ${e}`));
  if (process.env.MAILROOM_DRILL_DEBUG) notes.push(`worker's last lines:\n${worker.tail(80)}`);
  if (settledAt === null || worker.unexpectedExits.length > 0) notes.push(`worker's last lines:\n${worker.tail(15)}`);
  else notes.push(...topMessages(worker.grep(/"level":(40|50|60)/)));
  const ok = settledAt !== null && verdict.lost === 0 && verdict.duplicated === 0 && verdict.stuck === 0 && verdict.attachmentErrors === 0 && verdict.wronglyFailed === 0 && worker.unexpectedExits.length === 0;
  return {
    ...base,
    downS: struck ? round((struck.restoredAt - struck.at) / 1000) : null,
    recoverS: struck && settledAt !== null ? round(Math.max(0, settledAt - struck.restoredAt) / 1000) : null,
    committedS: struck && committedAt !== null ? round(Math.max(0, committedAt - struck.restoredAt) / 1000) : null,
    warnings: worker.grep(/"level":(40|50|60)/).length,
    atShare: committedAtStrike === null ? null : round((100 * committedAtStrike) / raws.length),
    ...verdict,
    workerExits: worker.unexpectedExits.length,
    ok,
    notes: struck?.note ? [struck.note, ...notes] : notes,
  };
}

/** The phase's mails in order: the corpus, two malformed ones at random places, the big one if the fault wants it. */
function backlog(cfg: PhaseConfig, fault: Fault, seed: number, user: string, rng: ReturnType<typeof createRng>): Buffer[] {
  const big = fault.bigMailMb ? Math.floor(cfg.mails / 3) : -1;
  const raws: Buffer[] = [];
  for (let i = 0; i < cfg.mails; i++) {
    const extra = i === big ? [{ filename: 'scan-20mb.pdf', type: 'application/pdf', data: pdfLike(rng, fault.bigMailMb! * 1024 * 1024) }] : [];
    raws.push(corpusMail(seed, i, user, extra));
  }
  for (let k = 0; k < MALFORMED; k++) {
    const at = 1 + Math.floor(rng.next() * (raws.length - 1));
    raws.splice(at, 0, Buffer.from(`${MALFORMED_MARK} drill ${seed} malformed ${k}: bytes that are no mail\r\n`));
  }
  return raws;
}

async function count(pool: pg.Pool, mailboxId: number): Promise<number | null> {
  try {
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM ingest_records WHERE mailbox_id = $1', [mailboxId]);
    return Number(rows[0]?.n ?? 0);
  } catch {
    return null; // PostgreSQL is down: no progress to see
  }
}

async function read(pool: pg.Pool, mailboxId: number): Promise<Tally> {
  const conv = await pool.query<{ message_id: string | null; n: string }>('SELECT message_id, count(*) AS n FROM conversations WHERE mailbox_id = $1 GROUP BY 1', [mailboxId]);
  const failed = await pool.query<{ raw_sha256: string }>("SELECT raw_sha256 FROM ingest_records WHERE mailbox_id = $1 AND outcome = 'failed'", [mailboxId]);
  const att = await pool.query<{ status: string; n: string }>(
    'SELECT a.status, count(*) AS n FROM attachments a JOIN conversations c ON c.id = a.conversation_id WHERE c.mailbox_id = $1 GROUP BY 1',
    [mailboxId],
  );
  const rec = await pool.query<{ records: string; unacked: string }>(
    "SELECT count(*) AS records, count(*) FILTER (WHERE post_action_at IS NULL AND outcome <> 'failed') AS unacked FROM ingest_records WHERE mailbox_id = $1",
    [mailboxId],
  );
  const box = await pool.query<{ cursor: string | null }>('SELECT cursor FROM mailboxes WHERE id = $1', [mailboxId]);
  return {
    cursor: box.rows[0]?.cursor?.split(':').slice(0, 2).join(':') ?? null,
    conversations: new Map(conv.rows.map((r) => [r.message_id ?? '', Number(r.n)])),
    failedHashes: new Set(failed.rows.map((r) => r.raw_sha256)),
    attachments: Object.fromEntries(att.rows.map((r) => [r.status, Number(r.n)])),
    unacked: Number(rec.rows[0]?.unacked ?? 0),
    records: Number(rec.rows[0]?.records ?? 0),
  };
}

function settled(t: Tally, expected: { mails: number; attachments: number }): boolean {
  const attachments = Object.values(t.attachments).reduce((a, b) => a + b, 0);
  return t.conversations.size >= expected.mails && t.failedHashes.size >= MALFORMED && attachments >= expected.attachments && !t.attachments.UNAVAILABLE && t.unacked === 0;
}

/** `malformed`: sha256 of the malformed mails, the only ones that may be `failed` (each must be). */
function judge(t: Tally | null, seed: number, expected: { mails: number; attachments: number }, malformed: Set<string>) {
  if (!t) return { lost: expected.mails, duplicated: 0, stuck: 0, attachmentErrors: 0, wronglyFailed: 0 };
  let lost = 0;
  let duplicated = 0;
  for (let i = 0; i < expected.mails; i++) {
    const n = t.conversations.get(mailMeta(seed, i).messageId.toLowerCase()) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicated += n - 1;
  }
  const attachments = Object.values(t.attachments).reduce((a, b) => a + b, 0);
  return {
    lost,
    duplicated,
    stuck: (t.attachments.UNAVAILABLE ?? 0) + Math.max(0, expected.attachments - attachments) + t.unacked,
    attachmentErrors: t.attachments.ERROR ?? 0,
    wronglyFailed: [...t.failedHashes].filter((h) => !malformed.has(h)).length + [...malformed].filter((h) => !t.failedHashes.has(h)).length,
  };
}

function summary(t: Tally | null, expected: { mails: number; attachments: number }) {
  if (!t) return { database: 'unreachable' };
  return { records: t.records, conversations: t.conversations.size, of: expected.mails, failed: t.failedHashes.size, attachments: t.attachments, unacked: t.unacked };
}

/** `uidvalidity:last uid` of the folder now (the server may have just restarted: retried). */
async function folderEnd(cfg: PhaseConfig, user: string, folder: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const c = imapClient(cfg.world.dovecot, user);
    c.on('error', () => undefined);
    try {
      await c.connect();
      const s = await c.status(folder, { uidNext: true, uidValidity: true });
      if (!s) throw new Error(`no STATUS for ${folder}`);
      return `${s.uidValidity}:${(s.uidNext ?? 1) - 1}`;
    } catch (err) {
      if (attempt >= 50) throw err;
      await sleep(200);
    } finally {
      await c.logout().catch(() => c.close());
    }
  }
}

/** The worker's warnings, most frequent first, for the notes: what the fault looked like from inside. */
function topMessages(lines: string[]): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) {
    let msg = l.slice(0, 120);
    try {
      const o = JSON.parse(l) as { msg?: string; err?: unknown };
      msg = `${o.msg ?? '?'}${typeof o.err === 'string' ? `: ${o.err.slice(0, 100)}` : ''}`;
    } catch {
      // not JSON: keep the raw start
    }
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([m, n]) => `${n}× ${m}`);
}

async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 10) / 10;

