// The drill's own services, which it may kill: a PostgreSQL cluster made with
// initdb in a temporary directory on a free port, a redis-server child on a
// free port, the test Dovecot (test/support/dovecot.ts), and a blob directory
// on a tmpfs of its own (so it can be made read-only or full). Never the
// machine's own PostgreSQL or Redis, never a developer's data: everything is
// removed at the end, also on failure or Ctrl-C (Cleanup).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import type { Cleanup } from '../bench/e2e/services.js';
import { createDovecot, destroyDovecot, freePort, portOpen, startDovecot, waitFor, type DovecotInfo } from '../test/support/dovecot.js';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The directory of initdb/pg_ctl: MAILROOM_DRILL_PG_BIN, else the newest /usr/lib/postgresql/N/bin. */
function postgresBin(): string {
  const fromEnv = process.env.MAILROOM_DRILL_PG_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin/initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql, or set MAILROOM_DRILL_PG_BIN to their directory.');
  return path.join(root, newest, 'bin');
}

/** A PostgreSQL cluster of the drill's own, which it stops and starts. */
export class DrillPostgres {
  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
    private readonly runAs: string | null,
  ) {}

  static async create(cleanup: Cleanup): Promise<DrillPostgres> {
    const bin = postgresBin();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-drill-pg-'));
    cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    // PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
    const runAs = isRoot() ? 'postgres' : null;
    if (runAs) chownSync(dir, Number(execFileSync('id', ['-u', runAs]).toString()), Number(execFileSync('id', ['-g', runAs]).toString()));
    const db = new DrillPostgres(bin, dir, await freePort(), runAs);
    db.run('initdb', ['-D', db.data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
    writeFileSync(path.join(db.data, 'postgresql.auto.conf'), `listen_addresses = '127.0.0.1'\nport = ${db.port}\nunix_socket_directories = '${dir}'\nmax_connections = 200\nfsync = off\n`);
    if (runAs) execFileSync('chown', [`${runAs}:`, path.join(db.data, 'postgresql.auto.conf')]);
    cleanup.add('stop the drill PostgreSQL', () => db.stop('immediate'));
    await db.start();
    return db;
  }

  private get data(): string {
    return path.join(this.dir, 'data');
  }

  private run(cmd: string, args: string[]): void {
    const full = path.join(this.bin, cmd);
    if (this.runAs) execFileSync('runuser', ['-u', this.runAs, '--', full, ...args], { stdio: 'ignore', cwd: this.dir });
    else execFileSync(full, args, { stdio: 'ignore' });
  }

  url(database = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    this.run('pg_ctl', ['-D', this.data, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '60', 'start']);
    await waitFor(() => portOpen(this.port), 30_000, 'the drill PostgreSQL did not accept connections');
  }

  /** `fast`: clients are disconnected, a clean shutdown; `immediate`: as if the server crashed. */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    if (!existsSync(path.join(this.data, 'postmaster.pid'))) return;
    try {
      this.run('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '60', 'stop']);
    } catch {
      // already stopped
    }
  }

  /** A database migrated with `mailroom migrate`'s own runner. */
  async createDatabase(name: string): Promise<string> {
    const c = new pg.Client({ connectionString: this.url() });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE "${name}"`);
    } finally {
      await c.end();
    }
    const url = this.url(name);
    await migrate(url);
    return url;
  }
}

/** A redis-server child of the drill's own; killing it loses every key (no persistence), as a restarted cache does. */
export class DrillRedis {
  private child: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async create(cleanup: Cleanup): Promise<DrillRedis> {
    const r = new DrillRedis(await freePort());
    cleanup.add('stop the drill Redis', () => r.kill());
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    child.once('error', () => undefined);
    this.child = child;
    await waitFor(async () => {
      const c = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        c.disconnect();
      }
    }, 10_000, 'the drill Redis did not answer PING');
  }

  /** SIGKILL: the process and everything it held are gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

/** The test Dovecot, which the drill can also SIGKILL (master and every child of this instance). */
export async function createDrillDovecot(users: string[], cleanup: Cleanup): Promise<DovecotInfo> {
  const dovecot = await createDovecot(users);
  cleanup.add('stop the drill Dovecot', () => destroyDovecot(dovecot).catch(() => killDovecot(dovecot)));
  return dovecot;
}

export async function killDovecot(info: DovecotInfo): Promise<void> {
  const pidFile = path.join(info.base, 'run/master.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
  if (Number.isInteger(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  // Children carry the instance name in their process title (dovecot-<instance>/imap, ...).
  try {
    execFileSync('pkill', ['-KILL', '-f', `mailroom-test-${info.imapPort}`], { stdio: 'ignore' });
  } catch {
    // none left
  }
  await waitFor(async () => !(await portOpen(info.imapPort)), 10_000, 'the killed Dovecot still listens');
}

export async function restartDovecot(info: DovecotInfo): Promise<void> {
  rmSync(path.join(info.base, 'run/master.pid'), { force: true });
  await startDovecot(info);
}

/**
 * The blob directory on a tmpfs of its own, so that the drill can make it
 * read-only (remount) or full (a filler file) under a running worker. Needs
 * root (mount); without it `available` is false and the blob faults are skipped.
 */
export class DrillBlobStore {
  private filler: string | null = null;
  private constructor(
    readonly dir: string,
    readonly available: boolean,
    readonly why: string | null,
  ) {}

  static create(cleanup: Cleanup): DrillBlobStore {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-drill-blobs-'));
    cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    if (!isRoot()) return new DrillBlobStore(dir, false, 'needs root to mount a tmpfs');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1g,mode=0755', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (err) {
      return new DrillBlobStore(dir, false, `could not mount a tmpfs (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
    cleanup.add(`unmount ${dir}`, () => execFileSync('umount', ['-l', dir], { stdio: 'ignore' }));
    return new DrillBlobStore(dir, true, null);
  }

  /** Remounts read-only; a write in flight makes the kernel answer EBUSY, so it tries again. */
  async readOnly(): Promise<void> {
    await waitFor(() => this.remount('ro'), 10_000, 'the blob store could not be remounted read-only');
  }

  async writable(): Promise<void> {
    await waitFor(() => this.remount('rw'), 10_000, 'the blob store could not be remounted read-write');
  }

  private remount(mode: 'ro' | 'rw'): boolean {
    try {
      execFileSync('mount', ['-o', `remount,${mode}`, this.dir], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  /** Fills every free byte, so the next write fails with ENOSPC. */
  fill(): void {
    this.filler = path.join(this.dir, '.drill-filler');
    const { bavail, bsize } = statfsSync(this.dir);
    const size = bavail * bsize;
    const chunk = Buffer.alloc(64 * 1024 * 1024);
    const fd = this.filler;
    writeFileSync(fd, Buffer.alloc(0));
    try {
      for (let written = 0; written < size; written += chunk.length) writeFileSync(fd, chunk, { flag: 'a' });
    } catch {
      // ENOSPC: full, as wanted
    }
    // Whatever is left below one chunk, byte by smaller byte.
    for (const n of [1024 * 1024, 4096, 1]) {
      try {
        for (;;) writeFileSync(fd, Buffer.alloc(n), { flag: 'a' });
      } catch {
        // ENOSPC
      }
    }
  }

  /** Empties the store between phases (each phase's blobs are its own; the tmpfs stays small and quick to fill). */
  clear(): void {
    for (const e of readdirSync(this.dir)) rmSync(path.join(this.dir, e), { recursive: true, force: true });
  }

  unfill(): void {
    if (this.filler) rmSync(this.filler, { force: true });
    this.filler = null;
  }
}

