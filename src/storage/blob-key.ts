// Blob keys are content addresses: `sha256/ab/cd/<64 hex>` of the bytes. The
// two fan-out levels keep directories small; validating every key against the
// pattern means no caller can smuggle a path (`..`, `/etc/passwd`) into a store.
import { createHash } from 'node:crypto';
import { MailroomError } from '../errors.js';

/** The back-reference ties the fan-out directories to the hash itself. */
export const BLOB_KEY_PATTERN = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{2})\/(\1\2[0-9a-f]{60})$/;

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function blobKeyFor(sha256: string): string {
  return `sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

/**
 * Text with every blob key (and any other sha256 in hex) replaced by `sha256:…`:
 * a blob key is the hash of a customer's file, and some texts — a job's failure
 * reason on the shared queue dashboard — are shown to people who must not get it.
 */
export function redactBlobKeys(text: string): string {
  return text.replace(/sha256\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}|\b[0-9a-f]{64}\b/gi, 'sha256:…');
}

export function isBlobKey(key: unknown): key is string {
  return typeof key === 'string' && BLOB_KEY_PATTERN.test(key);
}

/** The hash inside a key; STORAGE_FAILED (not retryable) for anything else. */
export function parseBlobKey(key: unknown): string {
  const match = typeof key === 'string' ? BLOB_KEY_PATTERN.exec(key) : null;
  if (!match?.[3]) {
    throw new MailroomError('STORAGE_FAILED', 'Invalid blob key: expected sha256/ab/cd/<64 hex>.', { retryable: false });
  }
  return match[3];
}
