// Where raw messages and attachments live (PRODUCT.md "Attachments",
// MAILROOM_STORAGE_URL). Blobs are content-addressed: the key is derived from
// the SHA-256 of the bytes, so storing the same bytes twice (a retried ingest,
// the same attachment in two mails) stores them once, and a key can never name
// a path outside the store. Two stores: file:// (file-store.ts) and s3://
// (s3-store.ts), chosen by the URL (storage-url.ts).
import { FileBlobStore } from './file-store.js';
import { S3BlobStore } from './s3-store.js';
import { resolveStorageUrl } from './storage-url.js';
import type { BlobStore } from './blob.js';

export { BLOB_KEY_PATTERN, blobKeyFor, isBlobKey, parseBlobKey, sha256Hex } from './blob-key.js';
export type { BlobStore, OpenedBlob, StoredBlob } from './blob.js';
export { resolveStorageUrl, type FileLocation, type S3Location, type StorageLocation } from './storage-url.js';

/** One store per process: built from MAILROOM_STORAGE_URL (see storage-url.ts for the forms). */
export function createBlobStore(storageUrl: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): BlobStore {
  const location = resolveStorageUrl(storageUrl, options.cwd, options.env);
  switch (location.kind) {
    case 'file':
      return new FileBlobStore(location.root);
    case 's3':
      return new S3BlobStore(location);
  }
}
