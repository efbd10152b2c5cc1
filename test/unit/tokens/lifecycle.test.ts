// The token life cycle's pure part (durations, state, when last use is written)
// and the command line's refusals, which happen before any database is needed.
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { tokenTable } from '../../../src/cli/token.js';
import { isMailroomError } from '../../../src/errors.js';
import { parseAttachmentJob } from '../../../src/queues/queues.js';
import { blobKeyFor, redactBlobKeys, sha256Hex } from '../../../src/storage/blob-key.js';
import { lastUseIsStale, MAX_EXPIRY_MS, parseDuration, tokenState, tokenUsable } from '../../../src/tokens/lifecycle.js';

describe('parseDuration', () => {
  it('reads minutes, hours, days and weeks', () => {
    expect(parseDuration('30m')).toBe(30 * 60_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(parseDuration('52w')).toBe(52 * 7 * 86_400_000);
    expect(parseDuration(' 1d ')).toBe(86_400_000);
    expect(parseDuration('3650d')).toBe(MAX_EXPIRY_MS);
  });

  it('refuses everything else', () => {
    for (const text of ['', '0d', '1', 'd', '1.5h', '-1d', '1y', '1D', '1 d', '90days', '3651d', '522w', '99999999m', '0x10d', '1e3d']) {
      expect(parseDuration(text), text).toBeNull();
    }
  });
});

describe('tokenState', () => {
  const now = new Date('2030-01-01T12:00:00Z');
  it('is revoked before expired before active', () => {
    expect(tokenState({ revoked_at: null, expires_at: null }, now)).toBe('active');
    expect(tokenState({ revoked_at: null, expires_at: new Date('2030-01-01T12:00:01Z') }, now)).toBe('active');
    expect(tokenState({ revoked_at: null, expires_at: now }, now)).toBe('expired');
    expect(tokenState({ revoked_at: new Date('2029-01-01T00:00:00Z'), expires_at: new Date('2029-06-01T00:00:00Z') }, now)).toBe('revoked');
    expect(tokenUsable({ revoked_at: null, expires_at: new Date('2029-12-31T23:59:59Z') }, now)).toBe(false);
  });
});

describe('lastUseIsStale', () => {
  it('writes the first use, then at most once a minute', () => {
    const at = new Date('2030-01-01T12:00:00Z');
    expect(lastUseIsStale(null, at)).toBe(true);
    expect(lastUseIsStale(new Date('2030-01-01T11:59:01Z'), at)).toBe(false);
    expect(lastUseIsStale(new Date('2030-01-01T11:59:00Z'), at)).toBe(true);
  });
});

describe('attachment job payloads', () => {
  it('read an older job that still carries a blob key as ids only', () => {
    const old = { attachmentId: 7, tenantId: 2, storageKey: `sha256/ab/cd/abcd${'0'.repeat(60)}` };
    expect(parseAttachmentJob(old)).toEqual({ attachmentId: 7, tenantId: 2 });
  });

  it("lose blob keys and hashes from texts the shared queue keeps", () => {
    const hash = sha256Hex(Buffer.from('a customer file'));
    expect(redactBlobKeys(`Cannot read blob ${blobKeyFor(hash)} from S3 (timeout).`)).toBe('Cannot read blob sha256:… from S3 (timeout).');
    expect(redactBlobKeys(`checksum ${hash.toUpperCase()} differs`)).toBe('checksum sha256:… differs');
    expect(redactBlobKeys('attachment 12 of tenant 3')).toBe('attachment 12 of tenant 3');
  });
});

describe('mailroom token: usage errors', () => {
  const io = { out: () => undefined, err: () => undefined };
  const usage = async (argv: string[]) => {
    const err = await main(argv, io).catch((e: unknown) => e);
    expect(isMailroomError(err, 'USAGE'), argv.join(' ')).toBe(true);
    return (err as Error).message;
  };

  it('names the flag or argument that is wrong', async () => {
    expect(await usage(['token', 'create', '--tenant', 'acme', '--role', 'USER', '--expires-in', '3 days'])).toBe(
      '--expires-in must be a whole number and a unit: 30m, 12h, 90d or 52w (at most 3650d).',
    );
    expect(await usage(['token', 'create', '--tenant', 'acme', '--role', 'USER', '--expires-in', '0d'])).toMatch(/^--expires-in must be/);
    expect(await usage(['token', 'create', '--tenant', 'acme', '--role', 'ROOT'])).toBe('--role must be USER or ADMIN.');
    expect(await usage(['token', 'revoke', 'x1'])).toBe('"x1" is not a token id (a positive whole number).');
    expect(await usage(['token', 'revoke', '\u001b[2J'])).toBe('"\\u001b[2J" is not a token id (a positive whole number).');
    expect(await usage(['token', 'revoke'])).toBe('Missing token ID (token revoke ID).');
    expect(await usage(['token', 'list', '--all'])).toMatch(/--all/);
    expect(await usage(['token', 'rotate'])).toBe('Unknown sub-command "token rotate"; use create, list or revoke.');
  });
});

describe('mailroom token list', () => {
  it('prints one line per token, to the minute, with control characters escaped', () => {
    const base = { tenant: 'acme', token_prefix: 'mr_Ab12Cd', created: '2026-12-06T09:14:33.120Z', revoked_at: null };
    const out = tokenTable([
      { ...base, id: 1, role: 'ADMIN', user: 'mailroom@system.invalid', last_used_at: '2026-12-06T17:02:59.000Z', expires_at: null, state: 'active' },
      { ...base, id: 22, role: 'USER', user: 'x\u001b[2J@acme.test', last_used_at: null, expires_at: '2027-03-06T09:14:33.120Z', state: 'expired' },
    ]).split('\n');
    expect(out[0]).toMatch(/^ID\s+TENANT\s+ROLE\s+USER\s+TOKEN\s+CREATED\s+LAST USED\s+EXPIRES\s+STATE$/);
    expect(out[1]).toMatch(/^1\s+acme\s+ADMIN\s+mailroom@system\.invalid\s+mr_Ab12Cd…\s+2026-12-06 09:14\s+2026-12-06 17:02\s+-\s+active$/);
    expect(out[2]).toContain('x\\u001b[2J@acme.test');
    expect(out[2]).toMatch(/\s-\s+2027-03-06 09:14\s+expired$/);
    expect(out.join('\n')).not.toContain('\u001b');
  });
});
