// Where raw messages and attachments live (PRODUCT.md "Attachments",
// MAILROOM_STORAGE_URL). Blobs are content-addressed: the key is derived from
// the SHA-256 of the bytes, so storing the same bytes twice (a retried ingest,
// the same attachment in two mails) stores them once, and a key can never name
// a path outside the store.
import path from 'node:path';
import { MailroomError } from '../errors.js';
import { FileBlobStore } from './file-store.js';

export { BLOB_KEY_PATTERN, blobKeyFor, isBlobKey, parseBlobKey, sha256Hex } from './blob-key.js';

export interface StoredBlob {
  /** `sha256/ab/cd/<64 hex>`: what the database keeps. */
  readonly key: string;
  /** Lower-case hex SHA-256 of the bytes. */
  readonly sha256: string;
  readonly size: number;
}

export interface BlobStore {
  /** Stores the bytes; bytes already stored are not written again. */
  put(bytes: Buffer): Promise<StoredBlob>;
  /** The bytes under `key`; STORAGE_FAILED (not retryable) when there are none. */
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
}

export type StorageLocation = { readonly kind: 'file'; readonly root: string };

/**
 * `file://./relative` (against cwd), `file:///absolute`; s3:// is accepted by
 * the config schema for the future but refused here until the build supports it.
 */
export function resolveStorageUrl(storageUrl: string, cwd: string = process.cwd()): StorageLocation {
  if (storageUrl.startsWith('s3://')) {
    throw new MailroomError('CONFIG_INVALID', 'MAILROOM_STORAGE_URL: s3:// storage is not supported by this build yet');
  }
  if (!storageUrl.startsWith('file://')) {
    throw new MailroomError('CONFIG_INVALID', 'MAILROOM_STORAGE_URL: must be a file:// or s3:// URL');
  }
  // Not `new URL()`: WHATWG parsing turns `file://./data` into host "." and
  // drops the relative meaning the default value relies on.
  let rest = storageUrl.slice('file://'.length).split(/[?#]/, 1)[0] ?? '';
  if (rest.startsWith('localhost/')) rest = rest.slice('localhost'.length);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    throw new MailroomError('CONFIG_INVALID', 'MAILROOM_STORAGE_URL: the path is not valid percent-encoding');
  }
  if (decoded === '' || decoded.includes('\0')) {
    throw new MailroomError('CONFIG_INVALID', 'MAILROOM_STORAGE_URL: a file:// URL needs a directory path');
  }
  const root = path.isAbsolute(decoded) ? path.normalize(decoded) : path.resolve(cwd, decoded);
  return { kind: 'file', root };
}

export function createBlobStore(storageUrl: string, options: { cwd?: string } = {}): BlobStore {
  const location = resolveStorageUrl(storageUrl, options.cwd);
  return new FileBlobStore(location.root);
}
