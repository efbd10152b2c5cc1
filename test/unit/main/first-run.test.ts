// The pure parts of a first run: database name quoting for `migrate`, the .env
// location, what preflight says about a failure, and the next-steps line.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dotenvPath, PROJECT_ROOT } from '../../../src/config/dotenv.js';
import { loadConfig } from '../../../src/config/config.js';
import { databaseNameOf, maintenanceUrl, quoteIdent } from '../../../src/db/create-database.js';
import { localBaseUrl, nextSteps } from '../../../src/main/next-steps.js';
import { failureReason as reason } from '../../../src/util/failure-reason.js';

describe('creating the database', () => {
  it('quotes any name as one identifier', () => {
    expect(quoteIdent('mailroom')).toBe('"mailroom"');
    expect(quoteIdent('a"; DROP DATABASE x; --')).toBe('"a""; DROP DATABASE x; --"');
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
  });

  it('reads the database name from the URL (percent-decoded) and keeps credentials for the maintenance database', () => {
    expect(databaseNameOf('postgresql://u:p@h:5432/my%20db?sslmode=disable')).toBe('my db');
    expect(databaseNameOf('postgresql://alice@h')).toBe('alice');
    expect(maintenanceUrl('postgresql://u:p@h:5432/mailroom?sslmode=disable')).toBe('postgresql://u:p@h:5432/postgres?sslmode=disable');
  });
});

describe('the .env file', () => {
  it('is the project root one, whatever the working directory, unless MAILROOM_ENV_FILE names another', () => {
    expect(dotenvPath({}, '/somewhere/else')).toBe(path.join(PROJECT_ROOT, '.env'));
    expect(PROJECT_ROOT).toBe(path.resolve(import.meta.dirname, '../../..'));
    expect(dotenvPath({ MAILROOM_ENV_FILE: 'conf/dev.env' }, '/srv/x')).toBe('/srv/x/conf/dev.env');
    expect(dotenvPath({ MAILROOM_ENV_FILE: '/etc/mailroom.env' }, '/srv/x')).toBe('/etc/mailroom.env');
  });
});

describe('the public URL follows the port when it is not set', () => {
  it('uses PORT, and an explicit MAILROOM_PUBLIC_URL wins', () => {
    const key = 'ab'.repeat(32);
    expect(loadConfig({ MAILROOM_SECRET_KEY: key, PORT: '4123' }).publicUrl).toBe('http://127.0.0.1:4123');
    expect(loadConfig({ MAILROOM_SECRET_KEY: key, PORT: '4123', MAILROOM_PUBLIC_URL: 'https://mail.example/' }).publicUrl).toBe('https://mail.example');
  });
});

describe('preflight reasons', () => {
  it('says what failed in a few words, without a stack or a newline', () => {
    expect(reason(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'is Redis running?')).toBe('connection refused (is Redis running?)');
    expect(reason(new Error('getaddrinfo ENOTFOUND db.invalid'), 'x')).toBe('the host name cannot be resolved');
    expect(reason(new Error('Connection terminated due to connection timeout'), 'is PostgreSQL running?')).toBe('no answer in time (is PostgreSQL running?)');
    expect(reason(new Error('password authentication failed\n for user "x".'), 'x')).toBe('password authentication failed for user "x"');
  });
});

describe('next steps', () => {
  it('points at the landing page and docs on the real address, and at mailbox add', () => {
    const line = nextSteps('start', { address: '0.0.0.0', port: 4000, family: 'IPv4' });
    expect(line).toContain('http://127.0.0.1:4000/docs');
    expect(line).toContain('mailroom mailbox add');
    expect(line).not.toContain('\n');
    expect(nextSteps('worker', null)).toContain('mailroom mailbox add');
    expect(localBaseUrl({ address: '::1', port: 80, family: 'IPv6' })).toBe('http://[::1]:80');
  });
});
