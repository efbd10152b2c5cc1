// `mailroom status [--json]`: mailbox health and queue depths at a glance, for
// a terminal (PRODUCT.md "Command line"). The mailboxes come from the
// database, the depths from Redis; when Redis cannot be reached the mailboxes
// are still printed, the queues are marked unknown and the exit code is 1, so
// a script notices while a person still sees what is known.
import type { RedisOptions } from 'ioredis';
import { redactUrl } from '../config/config.js';
import { databaseConnectionProblem } from '../db/errors.js';
import { describeError, MailroomError } from '../errors.js';
import { listMailboxes } from '../mailboxes/service.js';
import type { MailboxView } from '../mailboxes/types.js';
import { readQueueDepths, type QueueDepths } from '../metrics/metrics.js';
import { formatDuration, formatRate, progressOf } from '../util/progress.js';
import { printable, printableJson, type CommandServices, type Out } from './io.js';
import { parseCommandArgs } from './usage.js';

const REDIS_TIMEOUT_MS = 3000;
const SHOWN_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
/**
 * A column of the table. WAITING is every job not started yet: BullMQ keeps
 * jobs with a priority (routine syncs) in `prioritized` and jobs waiting for
 * their children in `waiting-children`, apart from `waiting`. The JSON keeps
 * BullMQ's own states, as /metrics does.
 */
function shown(depths: Record<string, number>, state: (typeof SHOWN_STATES)[number]): number {
  if (state !== 'waiting') return depths[state] ?? 0;
  return (depths.waiting ?? 0) + (depths.prioritized ?? 0) + (depths['waiting-children'] ?? 0);
}

export interface MailboxStatus {
  id: number;
  tenant: string;
  address: string;
  enabled: boolean;
  state: MailboxView['state'];
  last_success_at: string | null;
  last_error: string | null;
  consecutive_failures: number;
  /** The sync at work on a backlog: messages left and done, rate and time left; null when none is. */
  backlog: { remaining: number; done: number; started_at: string | null; rate_per_second: number | null; eta_seconds: number | null } | null;
}

export interface Status {
  mailboxes: MailboxStatus[];
  /** null: Redis could not be reached (see queues_error). */
  queues: QueueDepths | null;
  queues_error?: string;
}

// No reconnects, and a short disconnectTimeout, whose timer (2 s by default) would
// otherwise keep the process alive after a refused connection: a status command
// must not wait for Redis to come back.
const QUICK_REDIS: RedisOptions = { connectTimeout: REDIS_TIMEOUT_MS, retryStrategy: () => null, disconnectTimeout: 100 };

export async function statusCommand(rest: string[], io: Out, services: (options: { redis: RedisOptions; logRedisErrors: boolean }) => CommandServices): Promise<number> {
  const { values } = parseCommandArgs(rest, { json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
  const s = services({ redis: QUICK_REDIS, logRedisErrors: false });
  const { config } = s;
  try {
    const now = Date.now();
    const [mailboxes, queues] = await Promise.all([readMailboxes(s, now), queueDepths(s)]);
    const status: Status = { mailboxes, queues: 'depths' in queues ? queues.depths : null, ...('error' in queues ? { queues_error: queues.error } : {}) };
    io.out(values.json ? printableJson(status) : render(status));
    if (status.queues_error) {
      io.err(`mailroom: Redis at ${printable(redactUrl(config.redisUrl))} cannot be reached (${printable(status.queues_error)}); queue depths are unknown.`);
      return 1;
    }
    return 0;
  } finally {
    await s.close();
  }
}

/** The mailboxes; a database that cannot be used is one sentence naming DATABASE_URL (password redacted), not the driver's text. */
async function readMailboxes(s: CommandServices, now: number): Promise<MailboxStatus[]> {
  try {
    return (await listMailboxes(s.db)).mailboxes.map((m) => toStatus(m, now));
  } catch (err) {
    const problem = databaseConnectionProblem(err);
    if (problem === null) throw err;
    throw new MailroomError('DATABASE_UNAVAILABLE', `Cannot use the database at DATABASE_URL=${redactUrl(s.config.databaseUrl)}: ${problem}.`, { cause: err });
  }
}

function toStatus(m: MailboxView, now: number): MailboxStatus {
  const b = m.backlog;
  const p = b && b.started_at ? progressOf({ done: b.done, total: b.done + b.remaining, startedAt: Date.parse(b.started_at), now }) : null;
  return {
    id: m.id,
    tenant: m.tenant,
    address: m.address,
    enabled: m.enabled,
    state: m.state,
    last_success_at: m.last_success_at,
    last_error: m.last_error,
    consecutive_failures: m.consecutive_failures,
    backlog: b ? { ...b, rate_per_second: p?.ratePerSecond === null || !p ? null : Number(p.ratePerSecond.toFixed(2)), eta_seconds: p?.etaSeconds ?? null } : null,
  };
}

/** `1,234 left, 35 msg/s, 35s left` or `-`. */
function backlogCell(b: MailboxStatus['backlog']): string {
  if (!b) return '-';
  const eta = b.eta_seconds === null ? '' : `, ETA ${formatDuration(b.eta_seconds)}`;
  return `${b.remaining.toLocaleString('en-US')} left, ${formatRate(b.rate_per_second)}${eta}`;
}

/** Reads the depths on the services' quick-to-give-up connection. */
async function queueDepths({ redis, queues }: Pick<CommandServices, 'redis' | 'queues'>): Promise<{ depths: QueueDepths } | { error: string }> {
  let lastError: Error | null = null;
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  // A Queue re-emits connection errors; unheard, an 'error' event would end the process.
  for (const q of [queues.sync, queues.attachments]) q.on('error', () => undefined);
  try {
    return { depths: await readQueueDepths(queues, REDIS_TIMEOUT_MS) };
  } catch (err) {
    const cause: Error | null = lastError;
    return { error: describeError(cause ?? err) };
  } finally {
    // A Redis that is down must not hold the terminal while the queues close.
    if (lastError) redis.disconnect();
  }
}

function render(status: Status): string {
  const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
  const mailboxes =
    status.mailboxes.length === 0
      ? ['No mailboxes.']
      : table(
          ['ID', 'TENANT', 'ADDRESS', 'ENABLED', 'STATE', 'BACKLOG', 'LAST SUCCESS', 'FAILURES', 'LAST ERROR'],
          status.mailboxes.map((m) => [
            String(m.id),
            printable(m.tenant),
            printable(m.address),
            m.enabled ? 'yes' : 'no',
            m.state,
            backlogCell(m.backlog),
            m.last_success_at ? m.last_success_at.replace(/\.\d+Z$/, 'Z') : '-',
            String(m.consecutive_failures),
            clip(printable(m.last_error ?? '-'), 80),
          ]),
        );
  const queues = table(
    ['QUEUE', ...SHOWN_STATES.map((s) => s.toUpperCase())],
    (['sync', 'attachments'] as const).map((name) => [name, ...SHOWN_STATES.map((s) => (status.queues ? String(shown(status.queues[name], s)) : 'unknown'))]),
  );
  return ['Mailboxes', ...mailboxes, '', 'Queues', ...queues].join('\n');
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}
