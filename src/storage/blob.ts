// What a blob store is (the interface both stores implement and every user
// of blobs depends on), and the read-side hash check both stores share. A leaf
// module: the stores import it, it imports neither of them.
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { MailroomError } from '../errors.js';

export interface StoredBlob {
  /** `sha256/ab/cd/<64 hex>`: what the database keeps. */
  readonly key: string;
  /** Lower-case hex SHA-256 of the bytes. */
  readonly sha256: string;
  readonly size: number;
}

/** A blob being read: its bytes as a stream, and how many there are (for Content-Length). */
export interface OpenedBlob {
  readonly stream: Readable;
  readonly size: number;
}

export interface BlobStore {
  /**
   * Stores the bytes; bytes already stored are not written again. `sha256`:
   * their hash when this process computed it from these very bytes already
   * (the mail core hashes every attachment), so they are not hashed twice.
   */
  put(bytes: Buffer, sha256?: string): Promise<StoredBlob>;
  /**
   * Stores what `source` yields, hashing it on the way, for callers that must
   * not hold a whole blob in memory (a large attachment while a mail is
   * parsed). Never more than a chunk of it is held. A write failure is
   * STORAGE_FAILED (retryable); a failure of the source is its own error.
   */
  putStream(source: Readable): Promise<StoredBlob>;
  /** The bytes under `key`; STORAGE_FAILED (not retryable) when there are none. */
  get(key: string): Promise<Buffer>;
  /**
   * The bytes under `key` as a stream, for callers that must not hold a whole
   * blob in memory (downloads). Fails as get() does when there are none. The
   * stream fails with STORAGE_FAILED when reading breaks off, or (not
   * retryable) when the bytes do not match the key: then its last chunk is
   * never emitted, so a reader never receives all of `size` wrong bytes.
   * Destroying the stream releases the file or connection behind it.
   */
  open(key: string): Promise<OpenedBlob>;
  exists(key: string): Promise<boolean>;
  /**
   * Removes what interrupted writes left behind (a file store's temporary
   * files older than `olderThanMs`, so a write in progress elsewhere is
   * spared); returns how many. Stores that leave nothing behind omit it.
   */
  removeLeftovers?(olderThanMs: number): Promise<number>;
}

/**
 * `source` as read by open(): passes the bytes through while hashing them, and
 * holds the latest chunk back until the end, where the count and the hash are
 * checked against `size` and the key. A mismatch fails the stream instead of
 * emitting that chunk, so the reader sees a short body, never a complete one
 * with other bytes than the key promises. Used by both stores.
 */
export function verifiedBlobStream(source: Readable, key: string, sha256: string, size: number): Readable {
  const hash = createHash('sha256');
  let seen = 0;
  let held: Buffer | undefined;
  const verified = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      seen += chunk.length;
      const previous = held;
      held = chunk;
      done(null, previous);
    },
    flush(done) {
      if (seen !== size || hash.digest('hex') !== sha256) {
        done(new MailroomError('STORAGE_FAILED', `Blob ${key} is corrupt: its bytes do not match its hash.`, { retryable: false }));
        return;
      }
      done(null, held);
    },
  });
  // Read errors reach the reader as STORAGE_FAILED; a reader that stops early (a client gone) releases the source.
  source.on('error', (err) => verified.destroy(new MailroomError('STORAGE_FAILED', `Cannot read blob ${key}.`, { cause: err })));
  verified.on('close', () => source.destroy());
  return source.pipe(verified);
}
