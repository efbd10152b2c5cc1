import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret } from '../../../src/crypto/secrets.js';
import { createLogger } from '../../../src/logging/logger.js';
import { generateToken, hashToken, tokenMatchesHash } from '../../../src/tokens/tokens.js';
import { MailroomError } from '../../../src/errors.js';

const key = Buffer.alloc(32, 1);
const otherKey = Buffer.alloc(32, 2);

describe('secrets at rest', () => {
  it('round-trips and never stores the plaintext', () => {
    const stored = encryptSecret('p@ssw0rd', key);
    expect(stored).not.toContain('p@ssw0rd');
    expect(stored.startsWith('v1.')).toBe(true);
    expect(decryptSecret(stored, key)).toBe('p@ssw0rd');
    expect(encryptSecret('p@ssw0rd', key)).not.toBe(stored);
  });

  it('finds the right key among rotated ones and names a missing key', () => {
    const stored = encryptSecret('x', otherKey);
    expect(decryptSecret(stored, [key, otherKey])).toBe('x');
    expect(() => decryptSecret(stored, key)).toThrow(/encrypted with another key/);
  });

  it('detects tampering', () => {
    const stored = encryptSecret('value', key);
    const parts = stored.split('.');
    const ct = Buffer.from(parts[4] ?? '', 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 1;
    parts[4] = ct.toString('base64url');
    expect(() => decryptSecret(parts.join('.'), key)).toThrow(MailroomError);
  });
});

describe('API tokens', () => {
  it('are random, hashed, and compared by hash', () => {
    const a = generateToken();
    expect(a).not.toBe(generateToken());
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenMatchesHash(a, hashToken(a))).toBe(true);
    expect(tokenMatchesHash(a + 'x', hashToken(a))).toBe(false);
  });
});

describe('logger', () => {
  it('redacts secrets and tokens', () => {
    const lines: string[] = [];
    const dest = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ level: 'info', destination: dest });
    log.info({ password: 'pw1', mailbox: { secret: 'pw2', auth: { pass: 'pw3', accessToken: 'at' } }, req: { headers: { authorization: 'Bearer mr_abc' } } }, 'x');
    const out = lines.join('');
    for (const s of ['pw1', 'pw2', 'pw3', 'mr_abc', '"at"']) expect(out).not.toContain(s);
    expect(out).toContain('[redacted]');
  });
});
