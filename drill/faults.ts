// The faults of `npm run drill`, each struck while a worker ingests a backlog.
// A fault waits for its moment (a share of the backlog committed, or its own
// trigger), breaks something, holds it broken for `downMs`, and puts it back.
// What it returns is when it struck and when the service was back: recovery
// is measured from then.
import type { DovecotInfo } from '../test/support/dovecot.js';
import { imapClient } from '../test/support/dovecot.js';
import type { TcpProxy } from './proxy.js';
import type { DrillBlobStore, DrillPostgres, DrillRedis } from './services.js';
import { killDovecot, restartDovecot } from './services.js';
import type { SupervisedWorker } from './supervisor.js';

export interface FaultWorld {
  pg: DrillPostgres;
  redis: DrillRedis;
  dovecot: DovecotInfo;
  proxy: TcpProxy;
  blobs: DrillBlobStore;
}

export interface PhaseHandle {
  readonly world: FaultWorld;
  readonly worker: SupervisedWorker;
  readonly user: string;
  readonly folder: string;
  readonly mails: number;
  /** How long a service stays down. */
  readonly downMs: number;
  /** A number in [0, 1) from the drill's seed. */
  random(): number;
  /** Resolves once at least `share` of the backlog has an ingest record; rejects once the phase is over. */
  progress(share: number): Promise<void>;
  /** Notes how much of the backlog was committed as the fault strikes (call it just before). */
  mark(): Promise<void>;
  /** The phase's mails as appended (for a folder restored from a backup). */
  raws(): Buffer[];
}

export interface Struck {
  at: number;
  restoredAt: number;
  note?: string;
}

export interface Fault {
  readonly name: string;
  readonly label: string;
  /** Why it cannot run here (e.g. no root for a tmpfs); null: it can. */
  unavailable?(world: FaultWorld): string | null;
  /** Extra attachment for one mail of the backlog (the network cut needs a big mail). */
  readonly bigMailMb?: number;
  /** The mailbox's folder (the folder fault needs one it may delete). */
  readonly folder?: string;
  strike(p: PhaseHandle): Promise<Struck>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A moment in the middle of the backlog: between 15 % and 60 % of it committed. */
const midway = (p: PhaseHandle) => 0.15 + p.random() * 0.45;

/** Break at a random moment, hold it down, put it back. */
function outage(name: string, label: string, down: (w: FaultWorld) => Promise<void> | void, up: (w: FaultWorld) => Promise<void> | void, extra: Partial<Fault> = {}): Fault {
  return {
    name,
    label,
    ...extra,
    async strike(p) {
      await p.progress(midway(p));
      await p.mark();
      const at = Date.now();
      await down(p.world);
      await sleep(p.downMs);
      await up(p.world);
      return { at, restoredAt: Date.now() };
    },
  };
}

export const FAULTS: readonly Fault[] = [
  {
    name: 'worker-kill',
    label: 'worker SIGKILLed 5 times',
    async strike(p) {
      const moments = Array.from({ length: 5 }, () => 0.05 + p.random() * 0.85).sort((a, b) => a - b);
      let at = 0;
      for (const m of moments) {
        await p.progress(m);
        if (!at) await p.mark();
        at ||= Date.now();
        // Waits for the supervisor's restart when the last kill was moments ago: five kills, always.
        await p.worker.kill();
      }
      await p.worker.running();
      return { at, restoredAt: Date.now(), note: `${p.worker.kills} kills` };
    },
  },
  outage('redis', 'Redis killed and restarted (empty)', (w) => w.redis.kill(), (w) => w.redis.start()),
  outage('postgres', 'PostgreSQL stopped and restarted', (w) => w.pg.stop('fast'), (w) => w.pg.start()),
  outage('dovecot', 'Dovecot killed and restarted', (w) => killDovecot(w.dovecot), (w) => restartDovecot(w.dovecot)),
  {
    name: 'net-cut',
    label: 'connection cut mid-FETCH of a 20 MB mail',
    bigMailMb: 15, // base64: about 20 MB of mail
    async strike(p) {
      // The phase's deadline ends a cut that never comes (the big mail never fetched).
      await p.world.proxy.armCut(10 * 1024 * 1024, 6 * 1024 * 1024);
      const at = Date.now();
      await p.mark();
      return { at, restoredAt: at };
    },
  },
  outage('blackhole', 'connections black-holed (then new ones work)', (w) => w.proxy.blackHole(), (w) => w.proxy.restore()),
  outage('blob-readonly', 'blob store read-only', (w) => w.blobs.readOnly(), (w) => w.blobs.writable(), { unavailable: (w) => w.blobs.why }),
  outage('blob-full', 'blob store full', (w) => w.blobs.fill(), (w) => w.blobs.unfill(), { unavailable: (w) => w.blobs.why }),
  {
    name: 'folder',
    label: 'folder deleted and recreated (UIDVALIDITY)',
    folder: 'Support',
    async strike(p) {
      await p.progress(midway(p));
      await p.mark();
      const at = Date.now();
      // As a restore from a backup does: the folder is gone, then back with every mail under new UIDs.
      const c = imapClient(p.world.dovecot, p.user);
      c.on('error', () => undefined);
      await c.connect();
      try {
        await c.mailboxDelete(p.folder);
        await sleep(Math.min(p.downMs, 1_500));
        await c.mailboxCreate(p.folder);
        for (const raw of p.raws()) await c.append(p.folder, raw);
      } finally {
        await c.logout().catch(() => c.close());
      }
      return { at, restoredAt: Date.now() };
    },
  },
];
