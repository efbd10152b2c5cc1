import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DOWNLOAD_TTL_SECONDS, attachmentDownloadUrl, downloadUrl, verifyDownload } from '../../../src/attachments/signing.js';

const key = randomBytes(32);
const now = new Date('2026-11-25T12:00:00Z');
const nowS = now.getTime() / 1000;

function parts(url: string) {
  const u = new URL(url);
  const m = /^\/api\/([^/]+)\/v1\/attachments\/(\d+)\/download$/.exec(u.pathname);
  return { tenant: m?.[1] ?? '', id: Number(m?.[2]), expires: u.searchParams.get('expires') ?? undefined, sig: u.searchParams.get('sig') ?? undefined, origin: u.origin };
}

describe('download URLs', () => {
  it('have the form PRODUCT.md gives and are valid for an hour', () => {
    const url = downloadUrl('https://mail.example.com/', 'acme', 42, key, now);
    expect(url).toMatch(new RegExp(`^https://mail\\.example\\.com/api/acme/v1/attachments/42/download\\?expires=${nowS + DOWNLOAD_TTL_SECONDS}&sig=[0-9a-f]{64}$`));
    const p = parts(url);
    expect(verifyDownload(key, 'acme', 42, p.expires, p.sig, now)).toBe('ok');
    expect(verifyDownload(key, 'acme', 42, p.expires, p.sig, new Date((nowS + 3600) * 1000))).toBe('ok');
    expect(verifyDownload(key, 'acme', 42, p.expires, p.sig, new Date((nowS + 3601) * 1000))).toBe('expired');
  });

  it('refuse any tampering: signature, expiry, id, tenant, key', () => {
    const p = parts(downloadUrl('http://127.0.0.1:3000', 'acme', 42, key, now));
    const flipped = `${p.sig!.slice(0, -1)}${p.sig!.endsWith('0') ? '1' : '0'}`;
    expect(verifyDownload(key, 'acme', 42, p.expires, flipped, now)).toBe('invalid');
    expect(verifyDownload(key, 'acme', 42, String(Number(p.expires) + 3600), p.sig, now)).toBe('invalid');
    expect(verifyDownload(key, 'acme', 43, p.expires, p.sig, now)).toBe('invalid');
    expect(verifyDownload(key, 'other', 42, p.expires, p.sig, now)).toBe('invalid');
    expect(verifyDownload(randomBytes(32), 'acme', 42, p.expires, p.sig, now)).toBe('invalid');
    // Missing, repeated (an array from the query string) or malformed parameters.
    expect(verifyDownload(key, 'acme', 42, undefined, p.sig, now)).toBe('invalid');
    expect(verifyDownload(key, 'acme', 42, p.expires, undefined, now)).toBe('invalid');
    expect(verifyDownload(key, 'acme', 42, [p.expires], p.sig, now)).toBe('invalid');
    expect(verifyDownload(key, 'acme', 42, p.expires, p.sig!.toUpperCase(), now)).toBe('invalid');
    expect(verifyDownload(key, 'acme', 42, '-1', p.sig, now)).toBe('invalid');
  });

  it('say an expired link is expired only when its signature is genuine', () => {
    const old = parts(downloadUrl('http://x.test', 'acme', 7, key, new Date(now.getTime() - 2 * 3600_000)));
    expect(verifyDownload(key, 'acme', 7, old.expires, old.sig, now)).toBe('expired');
    expect(verifyDownload(key, 'acme', 7, old.expires, '0'.repeat(64), now)).toBe('invalid');
  });

  it('exist only for OK and WARNING rows', () => {
    const ctx = { publicUrl: 'http://x.test', tenantSlug: 'acme', secretKey: key, now };
    expect(attachmentDownloadUrl({ id: 1, status: 'OK' }, ctx)).toMatch(/^http:\/\/x\.test\/api\/acme\/v1\/attachments\/1\/download\?/);
    expect(attachmentDownloadUrl({ id: 1, status: 'WARNING' }, ctx)).not.toBeNull();
    for (const status of ['UNKNOWN', 'UNAVAILABLE', 'ERROR']) expect(attachmentDownloadUrl({ id: 1, status }, ctx)).toBeNull();
  });
});
