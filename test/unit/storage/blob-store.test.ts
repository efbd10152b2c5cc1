import { once } from 'node:events';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMailroomError } from '../../../src/errors.js';
import { blobKeyFor, createBlobStore, resolveStorageUrl, sha256Hex } from '../../../src/storage/blob-store.js';
import { verifiedBlobStream } from '../../../src/storage/blob.js';
import { S3BlobStore } from '../../../src/storage/s3-store.js';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isMailroomError(err, 'CONFIG_INVALID')) return err.message;
    throw err;
  }
  throw new Error('expected CONFIG_INVALID');
}

function rootOf(url: string, cwd?: string): string {
  const location = resolveStorageUrl(url, cwd);
  if (location.kind !== 'file') throw new Error(`expected a file location, got ${location.kind}`);
  return location.root;
}

describe('resolveStorageUrl', () => {
  it('resolves the default file://./data/blobs against the working directory', () => {
    expect(resolveStorageUrl('file://./data/blobs', '/srv/mailroom')).toEqual({ kind: 'file', root: '/srv/mailroom/data/blobs' });
    expect(rootOf('file://data/blobs', '/srv/mailroom')).toBe('/srv/mailroom/data/blobs');
    expect(rootOf('file://../shared/blobs', '/srv/mailroom')).toBe('/srv/shared/blobs');
  });

  it('uses the current working directory by default', () => {
    expect(rootOf('file://./data/blobs')).toBe(path.resolve(process.cwd(), 'data/blobs'));
  });

  it('takes file:///absolute paths as they are', () => {
    expect(rootOf('file:///var/lib/mailroom/blobs', '/srv')).toBe('/var/lib/mailroom/blobs');
    expect(rootOf('file://localhost/var/lib/blobs', '/srv')).toBe('/var/lib/blobs');
    expect(rootOf('file:///var/lib/mail%20room/', '/srv')).toBe('/var/lib/mail room/');
  });

  it('hands s3:// URLs to the S3 parser (storage-url.test.ts has the details)', () => {
    expect(resolveStorageUrl('s3://bucket/prefix', '/srv', {})).toMatchObject({ kind: 's3', bucket: 'bucket', prefix: 'prefix' });
    expect(createBlobStore('s3://bucket/prefix', { env: {} })).toBeInstanceOf(S3BlobStore);
  });

  it('refuses other schemes and empty paths', () => {
    expect(configError(() => resolveStorageUrl('http://example.test/blobs'))).toMatch(/^MAILROOM_STORAGE_URL:/);
    expect(configError(() => resolveStorageUrl('file://'))).toMatch(/needs a directory path/);
    expect(configError(() => resolveStorageUrl('file:///bad%zz'))).toMatch(/percent-encoding/);
  });
});

describe('createBlobStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mailroom-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores under a relative root inside the given working directory', async () => {
    const store = createBlobStore('file://./blobs', { cwd: dir });
    const { key } = await store.put(Buffer.from('relative'));
    const other = createBlobStore(`file://${path.join(dir, 'blobs')}`);
    expect((await other.get(key)).toString()).toBe('relative');
  });

  it('removes temporary files a killed write left behind, sparing fresh ones and blobs', async () => {
    const store = createBlobStore(`file://${dir}`);
    const { key } = await store.put(Buffer.from('kept'));
    const blobDir = path.dirname(path.join(dir, ...key.split('/')));
    const stale = path.join(blobDir, '.tmp-0123456789abcdef-aaaaaa');
    const fresh = path.join(blobDir, '.tmp-0123456789abcdef-bbbbbb');
    await writeFile(stale, 'half a blob');
    await writeFile(fresh, 'being written now');
    const hourAgo = new Date(Date.now() - 2 * 60 * 60_000);
    await utimes(stale, hourAgo, hourAgo);
    expect(await store.removeLeftovers!(60 * 60_000)).toBe(1);
    expect((await readdir(blobDir)).sort()).toEqual(['.tmp-0123456789abcdef-bbbbbb', path.basename(key)].sort());
    expect((await store.get(key)).toString()).toBe('kept');
  });
});

describe('verifiedBlobStream', () => {
  const bytes = Buffer.from('0123456789abcdef');
  const sha256 = sha256Hex(bytes);
  const key = blobKeyFor(sha256);

  /** What the stream emits until it ends or fails. */
  async function collect(stream: NodeJS.ReadableStream): Promise<{ text: string; error: unknown }> {
    let text = '';
    try {
      for await (const chunk of stream) text += (chunk as Buffer).toString();
      return { text, error: null };
    } catch (error) {
      return { text, error };
    }
  }

  it('passes matching bytes through unchanged', async () => {
    const source = new PassThrough();
    const out = verifiedBlobStream(source, key, sha256, bytes.length);
    source.write(bytes.subarray(0, 4));
    source.write(bytes.subarray(4, 10));
    source.end(bytes.subarray(10));
    expect(await collect(out)).toEqual({ text: bytes.toString(), error: null });
  });

  it('fails instead of emitting the last chunk when the bytes do not match, or there are more or fewer of them', async () => {
    for (const [label, chunks] of [
      ['other bytes', ['0123', '456789', 'abcdeF']],
      ['extra bytes', ['0123', '456789', 'abcdef', '!']],
      ['missing bytes', ['0123', '456789', 'abcde']],
    ] as const) {
      const source = new PassThrough();
      const out = verifiedBlobStream(source, key, sha256, bytes.length);
      for (const chunk of chunks) source.write(chunk);
      source.end();
      const result = await collect(out);
      expect(result.text, label).toBe(chunks.slice(0, -1).join(''));
      expect(isMailroomError(result.error, 'STORAGE_FAILED') && !result.error.retryable && result.error.message, label).toBe(
        `Blob ${key} is corrupt: its bytes do not match its hash.`,
      );
    }
  });

  it('turns a read that breaks off into a retryable STORAGE_FAILED keeping its cause', async () => {
    const source = new PassThrough();
    const out = verifiedBlobStream(source, key, sha256, bytes.length);
    const cause = Object.assign(new Error('read EIO'), { code: 'EIO' });
    source.write('0123');
    source.write('4567');
    setImmediate(() => source.destroy(cause));
    const result = await collect(out);
    expect(result.text).toBe('0123');
    expect(isMailroomError(result.error, 'STORAGE_FAILED') && result.error.retryable && result.error.message).toBe(`Cannot read blob ${key}.`);
    expect((result.error as Error).cause).toBe(cause);
  });

  it('releases the source when the reader stops early', async () => {
    const source = new PassThrough();
    const out = verifiedBlobStream(source, key, sha256, bytes.length);
    source.write('0123');
    out.destroy();
    await once(source, 'close');
    expect(source.destroyed).toBe(true);
  });
});
