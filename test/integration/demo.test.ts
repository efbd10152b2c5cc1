// `npm run demo` end to end, as a newcomer runs it but with --exit-after-summary:
// against a database that does not exist yet (the demo creates and migrates it),
// its own throw-away Dovecot, Mailroom as a child process. The summary must
// report what the sample mails in demo/mail/ are written to produce, and the
// demo must leave nothing running.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseExists, databaseUrlFor, dropTestDatabase } from '../support/database.js';
import { freePort, portOpen } from '../support/dovecot.js';
import { testEnv } from '../support/env.js';
import { deleteRedisPrefix } from '../support/redis.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const name = `mailroom_test_${randomBytes(6).toString('hex')}`;
const dataDir = mkdtempSync(path.join(tmpdir(), 'mailroom-demo-'));

afterAll(async () => {
  await dropTestDatabase(name);
  await deleteRedisPrefix(testEnv().redisUrl, `{mailroom-demo-${name}}`);
  rmSync(dataDir, { recursive: true, force: true });
});

function runDemo(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join(ROOT, 'demo/index.ts'), ...args], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run demo', () => {
  it('creates its database, ingests the sample mails, prints the summary with the expected counts, and stops everything', async () => {
    const env = testEnv();
    const port = await freePort();
    const r = await runDemo(['--exit-after-summary', '--port', String(port), '--data-dir', dataDir, '--timeout-seconds', '150'], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrlFor(name),
      REDIS_URL: env.redisUrl,
      MAILROOM_SECRET_KEY: env.secretKey,
      MAILROOM_ENV_FILE: path.join(dataDir, 'none.env'),
    }, 220_000);
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    expect(await databaseExists(name)).toBe(true);
    expect(r.stdout).toContain(`created database ${name}`);

    // Two tickets' worth of thread (new request + its reply), one each for the German reply, the
    // HTML mail, the PDF and the .exe; the auto-reply and the bounce thread nowhere: skipped.
    expect(r.stdout).toMatch(
      /^demo counts: mails=8 tickets=5 conversations=6 skipped=2 duplicates=0 failed=0 attachments_ok=2 attachments_warning=0 attachments_error=1$/m,
    );
    expect(r.stdout).toMatch(/"Re: Order 4711 arrived damaged" .*joined its thread \(References\)/);
    expect(r.stdout).toMatch(/"Automatic reply: .*": an auto-reply/);
    expect(r.stdout).toMatch(/"Undelivered Mail Returned to Sender": a bounce/);
    expect(r.stdout).toMatch(/RemoteHelper-Setup\.exe: ERROR \(Blocked/);
    expect(r.stdout).toMatch(/parcelway-logo\.png: OK/);

    const base = `http://127.0.0.1:${port}`;
    expect(r.stdout).toMatch(/USER token: {2}mr_[A-Za-z0-9_-]{43}/);
    expect(r.stdout).toMatch(/ADMIN token: mr_[A-Za-z0-9_-]{43}/);
    expect(r.stdout).toContain(`curl -s -H 'Authorization: Bearer mr_`);
    for (const p of ['/api/demo/v1/tickets', '/docs', '/admin ', '/admin/queues', '/metrics']) expect(r.stdout).toContain(`${base}${p}`);

    // Nothing left running: Mailroom's port and the demo Dovecot's port are closed.
    const imapPort = Number(/Dovecot on 127\.0\.0\.1:(\d+)/.exec(r.stdout)?.[1]);
    expect(imapPort).toBeGreaterThan(0);
    expect(await portOpen(port)).toBe(false);
    expect(await portOpen(imapPort)).toBe(false);
  }, 240_000);
});
