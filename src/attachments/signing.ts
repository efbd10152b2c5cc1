// Signed, expiring download URLs (PRODUCT.md "HTTP API", attachment shape):
// `{MAILROOM_PUBLIC_URL}/api/{tenant}/v1/attachments/{id}/download?expires={unix s}&sig={hex}`.
// The signature is the only credential of a download (no bearer token: a
// browser follows the link), so it covers the tenant slug, the attachment id
// and the expiry. Its key is derived from MAILROOM_SECRET_KEY for this one
// purpose, so a signature can never be replayed as any other Mailroom MAC
// (signed Message-IDs use the same secret).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const DOWNLOAD_TTL_SECONDS = 3600;

const KEY_LABEL = 'mailroom attachment download v1';

function downloadKey(secretKey: Buffer): Buffer {
  return createHmac('sha256', secretKey).update(KEY_LABEL).digest();
}

function sign(secretKey: Buffer, tenantSlug: string, attachmentId: number, expires: number): string {
  // Slugs are [a-z0-9-], ids and expiries digits: the newline-joined message is unambiguous.
  return createHmac('sha256', downloadKey(secretKey)).update(`${tenantSlug}\n${attachmentId}\n${expires}`).digest('hex');
}

/** The download path without its signature: what stored `cid:` images point at (signed when read, see dto.ts). */
export function unsignedDownloadUrl(publicUrl: string, tenantSlug: string, attachmentId: number | string): string {
  return `${publicUrl.replace(/\/+$/, '')}/api/${encodeURIComponent(tenantSlug)}/v1/attachments/${attachmentId}/download`;
}

export function downloadUrl(publicUrl: string, tenantSlug: string, attachmentId: number, secretKey: Buffer, now: Date = new Date()): string {
  const expires = Math.floor(now.getTime() / 1000) + DOWNLOAD_TTL_SECONDS;
  const sig = sign(secretKey, tenantSlug, attachmentId, expires);
  return `${unsignedDownloadUrl(publicUrl, tenantSlug, attachmentId)}?expires=${expires}&sig=${sig}`;
}

export type DownloadCheck = 'ok' | 'expired' | 'invalid';

/**
 * Checks a request's `expires` and `sig` (as received: possibly missing or
 * repeated). The signature is compared in constant time and checked before
 * the expiry, so a forged URL learns nothing, not even whether it is stale.
 */
export function verifyDownload(secretKey: Buffer, tenantSlug: string, attachmentId: number, expires: unknown, sig: unknown, now: Date = new Date()): DownloadCheck {
  if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires)) return 'invalid';
  if (typeof sig !== 'string' || !/^[0-9a-f]{64}$/.test(sig)) return 'invalid';
  const expected = Buffer.from(sign(secretKey, tenantSlug, attachmentId, Number(expires)), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) return 'invalid';
  return Number(expires) >= Math.floor(now.getTime() / 1000) ? 'ok' : 'expired';
}

/** Statuses whose bytes may be downloaded. */
export function isDownloadable(status: string): boolean {
  return status === 'OK' || status === 'WARNING';
}

/** The attachment shape's `download_url`: null unless the row is OK or WARNING. */
export function attachmentDownloadUrl(
  row: { readonly id: number; readonly status: string },
  ctx: { readonly publicUrl: string; readonly tenantSlug: string; readonly secretKey: Buffer; readonly now?: Date },
): string | null {
  return isDownloadable(row.status) ? downloadUrl(ctx.publicUrl, ctx.tenantSlug, row.id, ctx.secretKey, ctx.now) : null;
}
