// A `mailroom worker` under a supervisor, as systemd (Restart=always) or a
// container orchestrator runs it: whenever it exits, it is started again after
// a second. The drill kills it on purpose (SIGKILL); any other exit is counted
// as a finding (a worker should ride out an outage of its services, not die of it).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../test/support/cli.js';

const TSX_LOADER = import.meta.resolve('tsx');
const RESTART_MS = 1_000;

export class SupervisedWorker {
  private child: ChildProcess | null = null;
  private stopping = false;
  private killing = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly lines: string[] = [];
  private readonly cwd = mkdtempSync(path.join(os.tmpdir(), 'mailroom-drill-worker-'));
  /** Exits the drill did not cause, with what the worker said last. */
  readonly unexpectedExits: string[] = [];
  starts = 0;
  kills = 0;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  start(): void {
    if (this.stopping) return;
    this.starts += 1;
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, 'worker'], { cwd: this.cwd, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => {
      this.lines.push(...d.toString('utf8').split('\n').filter(Boolean));
      if (this.lines.length > 300) this.lines.splice(0, this.lines.length - 300);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.stopping) return;
      if (!this.killing) this.unexpectedExits.push(`exit ${code ?? signal}: ${this.tail(5)}`);
      this.killing = false;
      this.restartTimer = setTimeout(() => this.start(), RESTART_MS);
    });
    this.child = child;
  }

  /** Resolves with the running worker (waiting for a restart in progress). */
  async running(timeoutMs = 30_000): Promise<ChildProcess> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const child = this.child;
      if (child && child.exitCode === null && child.signalCode === null) return child;
      if (this.stopping || Date.now() > deadline) throw new Error('the worker is not running');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL the running worker (after a restart in progress); the supervisor starts it again a second later. Resolves once it is dead. */
  async kill(): Promise<void> {
    const child = await this.running();
    this.kills += 1;
    this.killing = true;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  /** The worker's log lines that match (warnings and errors are what the drill shows). */
  grep(re: RegExp): string[] {
    return this.lines.filter((l) => re.test(l));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(this.cwd, { recursive: true, force: true });
  }
}
