// Flags of the end-to-end suite (`npm run bench -- --suite e2e --help`).
import { parseArgs } from 'node:util';

export const PARTS = ['ceiling', 'e2e', 'latency', 'rss', 'many', 'idle'] as const;
export type Part = (typeof PARTS)[number];

export interface E2eOptions {
  mails: number;
  seed: number;
  only: Set<Part>;
  latencyMails: number;
  latencyIntervalMs: number;
  bigMb: number;
  bigBacklog: number;
  mailboxes: number;
  perMailbox: number;
  idleMailboxes: number;
  idleProbes: number;
  idleProbeIntervalMs: number;
  outDir: string;
}

export const E2E_USAGE = `end-to-end suite (throw-away Dovecot, database, Redis prefix, blob dir):
  --mails N              backlog size of the ceiling and end-to-end runs (default 2000)
  --seed S               corpus seed (default 1): the same seed, the same bytes
  --only LIST            some of ${PARTS.join(',')} (default: all)
  --latency-mails N      mails appended one by one under IDLE (default 40)
  --latency-interval MS  between two of them (default 500)
  --big-mb N             size of the one large attachment (default 50)
  --big-backlog N        mails around it (default 20)
  --mailboxes M          many-mailboxes run: M mailboxes (default 200)
  --per-mailbox K        ... with K mails each (default 5)
  --idle-mailboxes N     idle run: N quiet mailboxes watched by one worker (default 1000)
  --idle-probes N        ... probe mails to random mailboxes after the one to the last (default 20)
  --idle-probe-interval MS  between two probe mails (default 500)
  --out DIR              where results go (default bench/results)`;

export const E2E_FLAGS = {
  mails: { type: 'string' },
  seed: { type: 'string' },
  only: { type: 'string' },
  'latency-mails': { type: 'string' },
  'latency-interval': { type: 'string' },
  'big-mb': { type: 'string' },
  'big-backlog': { type: 'string' },
  mailboxes: { type: 'string' },
  'per-mailbox': { type: 'string' },
  'idle-mailboxes': { type: 'string' },
  'idle-probes': { type: 'string' },
  'idle-probe-interval': { type: 'string' },
  out: { type: 'string' },
} as const;

function count(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number of at least ${min} (got "${value}")`);
  return n;
}

export function parseE2eOptions(args: string[], defaultOut: string): E2eOptions {
  const { values } = parseArgs({ args, options: E2E_FLAGS, strict: true, allowPositionals: false });
  const only = new Set<Part>();
  for (const p of (values.only ?? PARTS.join(',')).split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part "${p}" (parts: ${PARTS.join(', ')})`);
    only.add(p as Part);
  }
  return {
    mails: count('mails', values.mails, 2000),
    seed: count('seed', values.seed, 1, 0),
    only,
    latencyMails: count('latency-mails', values['latency-mails'], 40),
    latencyIntervalMs: count('latency-interval', values['latency-interval'], 500, 0),
    bigMb: count('big-mb', values['big-mb'], 50),
    bigBacklog: count('big-backlog', values['big-backlog'], 20),
    mailboxes: count('mailboxes', values.mailboxes, 200),
    perMailbox: count('per-mailbox', values['per-mailbox'], 5),
    idleMailboxes: count('idle-mailboxes', values['idle-mailboxes'], 1000),
    idleProbes: count('idle-probes', values['idle-probes'], 20, 0),
    idleProbeIntervalMs: count('idle-probe-interval', values['idle-probe-interval'], 500, 0),
    outDir: values.out ?? defaultOut,
  };
}
