import { describe, expect, it } from 'vitest';
import { decodeSecretKey, defaultParseThreads, loadConfig, redactUrl } from '../../../src/config/config.js';
import { parseDotenv } from '../../../src/config/dotenv.js';
import { isMailroomError } from '../../../src/errors.js';

const KEY_HEX = 'ab'.repeat(32);

describe('loadConfig', () => {
  it('applies the defaults of PRODUCT.md', () => {
    const c = loadConfig({ MAILROOM_SECRET_KEY: KEY_HEX });
    expect(c.databaseUrl).toBe('postgresql://postgres:postgres@127.0.0.1:5432/mailroom');
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.storageUrl).toBe('file://./data/blobs');
    expect(c.publicUrl).toBe('http://127.0.0.1:3000');
    expect(c.queuePrefix).toBe('{mailroom}');
    expect(c.port).toBe(3000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.logLevel).toBe('info');
    expect(c.secretKey.length).toBe(32);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('leaves a core to the main thread for parse threads unless MAILROOM_PARSE_THREADS says otherwise', () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => defaultParseThreads(cores))).toEqual([1, 1, 2, 3, 4, 4]);
    expect(loadConfig({ MAILROOM_SECRET_KEY: KEY_HEX }).parseThreads).toBe(defaultParseThreads());
    expect(loadConfig({ MAILROOM_SECRET_KEY: KEY_HEX, MAILROOM_PARSE_THREADS: '0' }).parseThreads).toBe(0);
    expect(loadConfig({ MAILROOM_SECRET_KEY: KEY_HEX, MAILROOM_PARSE_THREADS: '3' }).parseThreads).toBe(3);
  });

  it('reads MAILROOM_ALLOW_PRIVATE_HOSTS into the connection policy (unset: nothing internal allowed) and names a bad entry', () => {
    expect(loadConfig({ MAILROOM_SECRET_KEY: KEY_HEX }).connectionPolicy).toEqual({ hosts: [], nets: [] });
    const c = loadConfig({ MAILROOM_SECRET_KEY: KEY_HEX, MAILROOM_ALLOW_PRIVATE_HOSTS: 'imap.internal, 10.0.0.0/8,*.corp.example' });
    expect(c.connectionPolicy.hosts).toEqual(['imap.internal', '*.corp.example']);
    expect(c.connectionPolicy.nets).toHaveLength(1);
    expect(() => loadConfig({ MAILROOM_SECRET_KEY: KEY_HEX, MAILROOM_ALLOW_PRIVATE_HOSTS: '10.0.0.0/8,10.1.0.0/99' })).toThrow(
      /MAILROOM_ALLOW_PRIVATE_HOSTS is invalid: entry 2 is not a host name, an IP address or a CIDR/,
    );
  });

  it('accepts the key as hex, base64 and base64url', () => {
    const raw = Buffer.alloc(32, 7);
    for (const text of [raw.toString('hex'), raw.toString('base64'), raw.toString('base64url')]) {
      expect(decodeSecretKey(text)?.equals(raw)).toBe(true);
    }
    expect(decodeSecretKey(Buffer.alloc(31).toString('base64'))).toBeNull();
  });

  it('names every bad variable in one message without echoing values', () => {
    try {
      loadConfig({ MAILROOM_SECRET_KEY: 'short-secret', DATABASE_URL: 'http://x', REDIS_URL: 'nope', PORT: '99999', MAILROOM_STORAGE_URL: 'ftp://x' });
      expect.unreachable();
    } catch (err) {
      expect(isMailroomError(err, 'CONFIG_INVALID')).toBe(true);
      const msg = (err as Error).message;
      for (const name of ['MAILROOM_SECRET_KEY', 'DATABASE_URL', 'REDIS_URL', 'PORT', 'MAILROOM_STORAGE_URL']) expect(msg).toContain(name);
      expect(msg).not.toContain('short-secret');
    }
  });

  it('reads the API cost limits (docs/api-limits.md), with their defaults, and names a bad one', () => {
    expect(loadConfig({ MAILROOM_SECRET_KEY: KEY_HEX }).apiLimits).toEqual({
      maxHtmlBytes: 1024 * 1024,
      maxRequestHtmlBytes: 4 * 1024 * 1024,
      listMaxBytes: 2 * 1024 * 1024,
      rateLimit: 600,
      rateWindowSeconds: 60,
    });
    const c = loadConfig({ MAILROOM_SECRET_KEY: KEY_HEX, MAILROOM_API_RATE_LIMIT: '0', MAILROOM_API_MAX_HTML_BYTES: '5000' });
    expect(c.apiLimits).toMatchObject({ rateLimit: 0, maxHtmlBytes: 5000 });
    expect(() => loadConfig({ MAILROOM_SECRET_KEY: KEY_HEX, MAILROOM_API_LIST_MAX_BYTES: 'lots', MAILROOM_API_RATE_WINDOW_SECONDS: '0' })).toThrow(
      /MAILROOM_API_LIST_MAX_BYTES.*MAILROOM_API_RATE_WINDOW_SECONDS/,
    );
  });

  it('requires MAILROOM_SECRET_KEY', () => {
    expect(() => loadConfig({})).toThrow(/MAILROOM_SECRET_KEY is required/);
  });

  it('redacts passwords in URLs', () => {
    expect(redactUrl('postgresql://u:hunter2@h/db')).toBe('postgresql://u:***@h/db');
  });
});

describe('parseDotenv', () => {
  it('reads KEY=VALUE lines with comments and quotes', () => {
    expect(parseDotenv('# c\nA=1\nexport B="two words"\nC=\'x#y\'\nD=v # note\nbad line\n')).toEqual({ A: '1', B: 'two words', C: 'x#y', D: 'v' });
  });
});
