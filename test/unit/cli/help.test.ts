// Help per command and "did you mean" for a mistyped one.
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { COMMANDS, editDistance, helpFor, nearest } from '../../../src/cli/help.js';
import { isMailroomError } from '../../../src/errors.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } catch (e) {
    // What src/main/cli.ts does: a usage error is exit 2.
    if (isMailroomError(e, 'USAGE')) return { code: 2, out: out.join('\n'), err: e.message };
    throw e;
  }
}

describe('editDistance and nearest', () => {
  it.each([
    ['strat', 'start', 1],
    ['lsit', 'list', 1],
    ['migrte', 'migrate', 1],
    ['status', 'status', 0],
    ['kitten', 'sitting', 3],
  ])('%s -> %s is %d', (a, b, d) => expect(editDistance(a, b)).toBe(d));

  it('suggests a near command, and nothing for a word far from all', () => {
    expect(nearest('strat', COMMANDS)).toBe('start');
    expect(nearest('mailbx', COMMANDS)).toBe('mailbox');
    expect(nearest('reprocces', COMMANDS)).toBe('reprocess');
    expect(nearest('lsit', ['add', 'edit', 'list', 'show'])).toBe('list');
    expect(nearest('frobnicate', COMMANDS)).toBeNull();
    expect(nearest('x', COMMANDS)).toBeNull();
  });
});

describe('help', () => {
  it('has usage for every command', () => {
    for (const c of COMMANDS) expect(helpFor([c])).toMatch(/^Usage: mailroom /);
    expect(helpFor(['nope'])).toBeNull();
  });

  it.each([
    [['help', 'start']],
    [['start', '--help']],
    [['help', 'mailbox', 'edit']],
    [['mailbox', 'edit', '--help']],
    [['mailbox', 'edit', '7', '--since', '2026-01-01', '-h']],
  ])('%j prints that command and exits 0', async (...argv) => {
    const r = await run(argv[0]);
    expect(r.code).toBe(0);
    const word = argv[0].includes('start') ? 'start' : 'mailbox edit';
    expect(r.out).toMatch(new RegExp(`^Usage: mailroom ${word}`));
    expect(r.out).toMatch(/Exit codes: 0 ok, 1 runtime failure, 2 usage error\./);
  });

  it('documents every flag of mailbox edit', async () => {
    const r = await run(['mailbox', 'edit', '--help']);
    for (const flag of ['--password-env', '--password-stdin', '--host', '--port', '--tls', '--starttls', '--no-tls', '--user', '--folder', '--after', '--poll-seconds', '--alias', '--since', '--ca-file', '--no-test']) {
      expect(r.out).toContain(flag);
    }
  });

  it.each([
    [['help', 'token', 'list'], 'token list', ['--tenant', '--json', 'last used']],
    [['token', 'list', '--help'], 'token list', ['--tenant', '--json']],
    [['help', 'token', 'revoke'], 'token revoke', ['ID', '--tenant', 'next request']],
    [['token', 'revoke', '--help'], 'token revoke', ['ID', '--tenant']],
    [['token', 'revoke', '13', '-h'], 'token revoke', ['--tenant']],
    [['token', 'create', '--help'], 'token create', ['--expires-in', '--user', '90d']],
    [['help', 'token'], 'token create\\|list\\|revoke', ['token list', 'token revoke ID']],
  ])('%j prints the help of %s', async (argv, word, words) => {
    const r = await run(argv);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: mailroom ${word}`));
    for (const w of words) expect(r.out).toContain(w);
  });

  it.each([
    [['strat'], 'Unknown command "strat"; did you mean "mailroom start"?'],
    [['help', 'stauts'], 'Unknown command "stauts"; did you mean "mailroom status"?'],
    [['mailbox', 'lsit'], 'Unknown sub-command "mailbox lsit"; did you mean "mailbox list"?'],
    [['help', 'mailbox', 'eidt'], 'Unknown sub-command "mailbox eidt"; did you mean "mailbox edit"?'],
    [['frobnicate'], 'Unknown command "frobnicate". Run "mailroom --help".'],
    [['mailbox', 'edit', '1', '--wait'], '--wait goes with --since'],
  ])('%j exits 2 with a clear message', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });
});
