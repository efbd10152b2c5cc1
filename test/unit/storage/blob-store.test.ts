import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMailroomError } from '../../../src/errors.js';
import { createBlobStore, resolveStorageUrl } from '../../../src/storage/blob-store.js';
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
});
