// A newcomer's first commands, as real child processes: `migrate` creates a
// missing database; `start` against a missing database, an un-migrated one, a
// dead PostgreSQL or Redis port exits within seconds with one sentence naming
// the variable and no stack; `start --port` listens there and serves the
// landing page; the .env file is the one MAILROOM_ENV_FILE names, not the
// working directory's.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCli, type CliResult } from '../support/cli.js';
import { createTestDatabase, databaseExists, databaseUrlFor, dropTestDatabase } from '../support/database.js';
import { freePort, waitFor } from '../support/dovecot.js';
import { childEnv } from '../support/env.js';

const TSX_LOADER = import.meta.resolve('tsx');
const created: string[] = [];
afterAll(async () => {
  for (const name of created) await dropTestDatabase(name);
});

/** One sentence on stderr: no stack frames, no Prisma text, nothing on stdout, exit 1. */
function expectOneSentence(r: CliResult, pattern: RegExp): void {
  expect(r.code).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^mailroom: .+\.$/);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at |Invalid `|prisma|ECONNREFUSED/m);
  expect(r.stdout).toBe('');
}

describe('mailroom migrate on a fresh server', () => {
  it('creates the database when it does not exist, then migrates it', async () => {
    const name = `mailroom_test_${randomBytes(6).toString('hex')}`;
    created.push(name);
    const r = await runCli(['migrate'], { env: childEnv({ DATABASE_URL: databaseUrlFor(name) }) });
    expect(r.stderr).toContain(`created database ${name}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Applied \d+ migration/);
    expect(await databaseExists(name)).toBe(true);
    // And start now finds it ready (checked below through the un-migrated case's opposite).
  });
});

describe('mailroom migrate when PostgreSQL does not answer', () => {
  it('names DATABASE_URL (password redacted) in one sentence', async () => {
    const port = await freePort();
    const r = await runCli(['migrate'], { env: childEnv({ DATABASE_URL: `postgresql://postgres:hunter2@127.0.0.1:${port}/mailroom` }), timeoutMs: 45_000 });
    expectOneSentence(r, /Cannot reach PostgreSQL at DATABASE_URL=postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/mailroom: connection refused/);
    expect(r.stderr).not.toContain('hunter2');
  }, 60_000);
});

describe('mailroom start when a service is not ready', () => {
  // Generous ceiling on a loaded machine (tsx alone takes seconds); without the check, start never exits.
  const within = { timeoutMs: 45_000 };

  it('names "mailroom migrate" when the database does not exist', async () => {
    const name = `mailroom_test_${randomBytes(6).toString('hex')}`;
    const url = new URL(databaseUrlFor(name));
    url.password = 'hunter2';
    const r = await runCli(['start'], { env: childEnv({ DATABASE_URL: url.toString() }), ...within });
    expectOneSentence(r, new RegExp(`database "${name}" does not exist .*DATABASE_URL=.*run "mailroom migrate"`));
    expect(r.stderr).not.toContain('hunter2');
    expect(await databaseExists(name)).toBe(false);
  });

  it('names "mailroom migrate" when the database is not migrated', async () => {
    const empty = await createTestDatabase({ migrate: false });
    created.push(empty.name);
    const r = await runCli(['worker'], { env: childEnv({ DATABASE_URL: empty.url }), ...within });
    expectOneSentence(r, /DATABASE_URL=.* is not migrated \(\d+ migration\(s\) missing.*run "mailroom migrate" first/);
  });

  it('names DATABASE_URL when PostgreSQL does not answer', async () => {
    const port = await freePort();
    const r = await runCli(['start'], { env: childEnv({ DATABASE_URL: `postgresql://postgres:hunter2@127.0.0.1:${port}/mailroom` }), ...within });
    expectOneSentence(r, /Cannot reach PostgreSQL at DATABASE_URL=postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/mailroom: connection refused/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('names REDIS_URL when Redis does not answer', async () => {
    const port = await freePort();
    const r = await runCli(['api'], { env: childEnv({ REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` }), ...within });
    expectOneSentence(r, /Cannot reach Redis at REDIS_URL=redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: connection refused/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('refuses a --port that is not a port number, and --port for a worker, as usage errors', async () => {
    const r = await runCli(['start', '--port', 'eighty'], { env: childEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port must be a port number/);
    const w = await runCli(['worker', '--port', '4000'], { env: childEnv() });
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/takes no --port; its \/metrics port is MAILROOM_WORKER_METRICS_PORT/);
  });
});

describe('mailroom start --port', () => {
  it('listens on that port, serves the landing page, logs the next steps and stops on SIGTERM', async () => {
    const port = await freePort();
    const cwd = mkdtempSync(path.join(tmpdir(), 'mailroom-start-'));
    const env = childEnv({ LOG_LEVEL: 'info', MAILROOM_STORAGE_URL: `file://${path.join(cwd, 'blobs')}`, MAILROOM_ENV_FILE: path.join(cwd, '.env'), MAILROOM_PARSE_THREADS: '0' });
    // node with tsx's loader, not the tsx wrapper: SIGTERM must reach Mailroom itself.
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, 'start', '--port', String(port)], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => out.includes('Next: open'), 45_000, `start did not come up on port ${port}:\n${out}`);
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('href="/docs"');
      expect(out).toContain(`http://127.0.0.1:${port}/docs`);
      expect(out).not.toMatch(/FSTDEP|DeprecationWarning/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});

describe('the .env file', () => {
  it('is the one MAILROOM_ENV_FILE names, read from any working directory, and a generated key goes there', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailroom-envfile-'));
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const envFile = path.join(dir, 'mailroom.env');
    const name = `mailroom_test_${randomBytes(6).toString('hex')}`;
    created.push(name);
    writeFileSync(envFile, `DATABASE_URL=${databaseUrlFor(name)}\n`);
    const env = childEnv({ NODE_ENV: 'development', MAILROOM_ENV_FILE: envFile });
    delete env.DATABASE_URL;
    delete env.MAILROOM_SECRET_KEY;
    const r = await runCli(['migrate'], { env, cwd: elsewhere });
    expect(r.code, r.stderr).toBe(0);
    expect(await databaseExists(name)).toBe(true);
    expect(r.stderr).toContain(`Generated a development MAILROOM_SECRET_KEY into ${envFile}`);
    expect(readFileSync(envFile, 'utf8')).toMatch(/^MAILROOM_SECRET_KEY=\S+$/m);
    expect(existsSync(path.join(elsewhere, '.env'))).toBe(false);

    // A second run from yet another directory finds the same key: nothing is generated again.
    const again = await runCli(['migrate'], { env, cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('Generated');
  });
});
