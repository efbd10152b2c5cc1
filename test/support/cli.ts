// Runs the real `mailroom` CLI (TypeScript source through tsx) as a child process.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
export const CLI = path.join(ROOT, 'src/main/cli.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs in a fresh temporary working directory unless `cwd` is given, reading that
 * directory's .env (MAILROOM_ENV_FILE, unless the env names one): never the
 * developer's .env in the project root.
 */
export function runCli(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number }): Promise<CliResult> {
  const cwd = options.cwd ?? mkdtempSync(path.join(os.tmpdir(), 'mailroom-cli-'));
  const env = { MAILROOM_ENV_FILE: path.join(cwd, '.env'), ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CLI, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    // Buffers, decoded once at the end: a chunk boundary may split a UTF-8 character.
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin.end(options.input ?? '');
  });
}
