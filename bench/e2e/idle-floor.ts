// The floors under the idle part's figures, measured without Mailroom: how
// long Dovecot itself takes to announce a new mail to a client parked in IDLE
// (Dovecot 2.3 waits 500 ms after a change before it tells IDLE sessions), and
// what one bare imapflow IDLE connection costs in a Node process, with the
// garbage collected before each reading (the worker's own RSS moves by tens
// of MB with its heap, which hides a per-mailbox figure of tens of KB).
import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';
import { imapClient, type DovecotInfo } from '../../test/support/dovecot.js';
import { probeMail } from './corpus.js';
import { now, percentiles, type Percentiles } from './latency.js';

/** APPEND returned → the untagged EXISTS at a plain imapflow client parked in IDLE on the same folder. */
export async function dovecotAnnounceMs(dovecot: DovecotInfo, user: string, count: number): Promise<Percentiles> {
  const idle = imapClient(dovecot, user);
  const writer = imapClient(dovecot, user);
  for (const x of [idle, writer]) x.on('error', () => undefined);
  await Promise.all([idle.connect(), writer.connect()]);
  const out: number[] = [];
  try {
    await idle.mailboxOpen('INBOX', { readOnly: true });
    let announced: (() => void) | null = null;
    idle.on('exists', () => announced?.());
    void idle.idle().catch(() => undefined);
    for (let n = 0; n < count; n++) {
      await new Promise((r) => setTimeout(r, 300));
      const seen = new Promise<void>((resolve) => (announced = resolve));
      await writer.append('INBOX', probeMail(user, 'floor', n).raw);
      const at = now();
      await seen;
      out.push(now() - at);
    }
  } finally {
    await writer.logout().catch(() => writer.close());
    idle.close();
  }
  return percentiles(out);
}

export interface BareWatchMemory {
  clients: number;
  /** Growth per connection after a full GC, in this (the bench's) process. */
  rss_kb_per_client: number;
  heap_kb_per_client: number;
}

function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** `users` imapflow clients, each logged in, EXAMINEd and parked in IDLE, as src/sources/imap/watch.ts holds them. */
export async function bareWatchMemory(dovecot: DovecotInfo, users: string[]): Promise<BareWatchMemory> {
  const reading = () => {
    collectGarbage();
    collectGarbage();
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed };
  };
  const before = reading();
  const clients = users.map((u) => imapClient(dovecot, u));
  try {
    for (let i = 0; i < clients.length; i += 50) {
      await Promise.all(
        clients.slice(i, i + 50).map(async (c) => {
          c.on('error', () => undefined);
          await c.connect();
          await c.mailboxOpen('INBOX', { readOnly: true });
          void c.idle().catch(() => undefined);
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1_000));
    const after = reading();
    const per = (a: number, b: number) => Math.round(((b - a) / 1024 / clients.length) * 10) / 10;
    return { clients: clients.length, rss_kb_per_client: per(before.rss, after.rss), heap_kb_per_client: per(before.heap, after.heap) };
  } finally {
    for (const c of clients) c.close();
  }
}
