// The s3:// blob store: the same content-addressed keys as the file store,
// under the URL's prefix, in AWS S3 or any S3 API (MinIO, Ceph, R2, ...).
// Credentials come from the AWS SDK's default chain, never from the URL.
//
// PutObject carries the SHA-256 (x-amz-checksum-sha256), so the server refuses
// bytes damaged on the way; get checks the bytes against the key as well. A
// stream (putStream) is spooled to a local temporary file first: the key, the
// checksum and the length all have to be known before the upload starts.
// The SDK (a few hundred ms to import) is loaded on first use, so commands
// that never touch an s3:// store do not pay for it.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { MailroomError } from '../errors.js';
import { blobKeyFor, parseBlobKey, sha256Hex } from './blob-key.js';
import { spoolToFile } from './spool.js';
import { verifiedBlobStream, type BlobStore, type OpenedBlob, type StoredBlob } from './blob.js';
import type { S3Location } from './storage-url.js';

type Sdk = typeof S3Sdk;

export class S3BlobStore implements BlobStore {
  private connection: Promise<{ sdk: Sdk; client: S3Client }> | null = null;

  constructor(readonly location: S3Location) {}

  async put(bytes: Buffer, known?: string): Promise<StoredBlob> {
    const digest = known === undefined ? createHash('sha256').update(bytes).digest() : Buffer.from(known, 'hex');
    const sha256 = digest.toString('hex');
    const key = blobKeyFor(sha256);
    const stored = { key, sha256, size: bytes.length };
    try {
      // Same hash and same size: the bytes are already there (retry or duplicate).
      if ((await this.head(key)) === bytes.length) return stored;
      const { sdk, client } = await this.connect();
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.location.bucket,
          Key: this.objectKey(key),
          Body: bytes,
          ContentLength: bytes.length,
          ContentType: 'application/octet-stream',
          ChecksumSHA256: digest.toString('base64'),
        }),
      );
    } catch (err) {
      throw new MailroomError('STORAGE_FAILED', `Cannot write blob ${key} to S3 (${reason(err)}).`, { cause: err });
    }
    return stored;
  }

  async putStream(source: Readable): Promise<StoredBlob> {
    const temp = path.join(tmpdir(), `mailroom-s3-${randomBytes(8).toString('hex')}`);
    const { sha256, size } = await spoolToFile(source, temp, { sync: false });
    const key = blobKeyFor(sha256);
    try {
      if ((await this.head(key)) !== size) {
        const { sdk, client } = await this.connect();
        await client.send(
          new sdk.PutObjectCommand({
            Bucket: this.location.bucket,
            Key: this.objectKey(key),
            Body: createReadStream(temp),
            ContentLength: size,
            ContentType: 'application/octet-stream',
            ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          }),
        );
      }
    } catch (err) {
      throw new MailroomError('STORAGE_FAILED', `Cannot write blob ${key} to S3 (${reason(err)}).`, { cause: err });
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    return { key, sha256, size };
  }

  async get(key: string): Promise<Buffer> {
    const sha256 = parseBlobKey(key);
    let bytes: Buffer;
    try {
      const { sdk, client } = await this.connect();
      const res = await client.send(new sdk.GetObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key) }));
      if (!res.Body) throw new Error('the response has no body');
      bytes = Buffer.from(await res.Body.transformToByteArray());
    } catch (err) {
      if (isMissingObject(err)) {
        throw new MailroomError('STORAGE_FAILED', `Blob ${key} does not exist.`, { cause: err, retryable: false });
      }
      throw new MailroomError('STORAGE_FAILED', `Cannot read blob ${key} from S3 (${reason(err)}).`, { cause: err });
    }
    // As in the file store: other bytes than the key promises are never served, and retrying would not help.
    if (sha256Hex(bytes) !== sha256) {
      throw new MailroomError('STORAGE_FAILED', `Blob ${key} is corrupt: its bytes do not match its hash.`, { retryable: false });
    }
    return bytes;
  }

  async open(key: string): Promise<OpenedBlob> {
    const sha256 = parseBlobKey(key);
    try {
      const { sdk, client } = await this.connect();
      const res = await client.send(new sdk.GetObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key) }));
      // In Node the body is the response's socket stream (an IncomingMessage); destroying it frees the connection.
      const body: unknown = res.Body;
      if (!(body instanceof Readable)) throw new Error('the response has no body stream');
      if (res.ContentLength === undefined) {
        body.destroy();
        throw new Error('the response has no Content-Length');
      }
      return { stream: verifiedBlobStream(body, key, sha256, res.ContentLength), size: res.ContentLength };
    } catch (err) {
      if (isMissingObject(err)) {
        throw new MailroomError('STORAGE_FAILED', `Blob ${key} does not exist.`, { cause: err, retryable: false });
      }
      throw new MailroomError('STORAGE_FAILED', `Cannot read blob ${key} from S3 (${reason(err)}).`, { cause: err });
    }
  }

  async exists(key: string): Promise<boolean> {
    parseBlobKey(key);
    try {
      return (await this.head(key)) !== null;
    } catch (err) {
      throw new MailroomError('STORAGE_FAILED', `Cannot check blob ${key} in S3 (${reason(err)}).`, { cause: err });
    }
  }

  /** Closes the client's sockets; the store opens them again when used. */
  close(): void {
    const connection = this.connection;
    this.connection = null;
    void connection?.then(({ client }) => client.destroy(), () => undefined);
  }

  /** The object's size, or null when there is none. */
  private async head(key: string): Promise<number | null> {
    const { sdk, client } = await this.connect();
    try {
      const res = await client.send(new sdk.HeadObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key) }));
      return res.ContentLength ?? 0;
    } catch (err) {
      if (isMissingObject(err)) return null;
      throw err;
    }
  }

  /** Only ever called with a validated key: the prefix and a content address, never a file name. */
  private objectKey(key: string): string {
    return this.location.prefix === '' ? key : `${this.location.prefix}/${key}`;
  }

  private connect(): Promise<{ sdk: Sdk; client: S3Client }> {
    this.connection ??= import('@aws-sdk/client-s3').then((sdk) => {
      const { region, endpoint, forcePathStyle } = this.location;
      const client = new sdk.S3Client({
        region,
        forcePathStyle,
        ...(endpoint === null ? {} : { endpoint }),
        // A dead server fails the call (and BullMQ retries) instead of hanging it.
        requestHandler: { connectionTimeout: 10_000, socketTimeout: 60_000 },
      });
      return { sdk, client };
    });
    // A failed import is not cached: the next call tries again.
    this.connection.catch(() => (this.connection = null));
    return this.connection;
  }
}

/** 404 without a bucket problem: the object is not there (NoSuchKey, or NotFound for HEAD). */
function isMissingObject(err: unknown): boolean {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  if (e?.name === 'NoSuchKey') return true;
  return e?.name === 'NotFound' && e.$metadata?.httpStatusCode === 404;
}

/** The S3 error code or socket error, for the message; details stay in `cause`. */
function reason(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const status = e?.$metadata?.httpStatusCode;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'error';
  return typeof status === 'number' ? `${code}, HTTP ${status}` : code;
}
