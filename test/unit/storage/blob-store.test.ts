import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMailroomError } from '../../../src/errors.js';
import { createBlobStore, resolveStorageUrl } from '../../../src/storage/blob-store.js';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isMailroomError(err, 'CONFIG_INVALID')) return err.message;
    throw err;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('resolveStorageUrl', () => {
  it('resolves the default file://./data/blobs against the working directory', () => {
    expect(resolveStorageUrl('file://./data/blobs', '/srv/mailroom')).toEqual({ kind: 'file', root: '/srv/mailroom/data/blobs' });
    expect(resolveStorageUrl('file://data/blobs', '/srv/mailroom').root).toBe('/srv/mailroom/data/blobs');
    expect(resolveStorageUrl('file://../shared/blobs', '/srv/mailroom').root).toBe('/srv/shared/blobs');
  });

  it('uses the current working directory by default', () => {
    expect(resolveStorageUrl('file://./data/blobs').root).toBe(path.resolve(process.cwd(), 'data/blobs'));
  });

  it('takes file:///absolute paths as they are', () => {
    expect(resolveStorageUrl('file:///var/lib/mailroom/blobs', '/srv').root).toBe('/var/lib/mailroom/blobs');
    expect(resolveStorageUrl('file://localhost/var/lib/blobs', '/srv').root).toBe('/var/lib/blobs');
    expect(resolveStorageUrl('file:///var/lib/mail%20room/', '/srv').root).toBe('/var/lib/mail room/');
  });

  it('refuses s3:// until this build supports it', () => {
    expect(configError(() => resolveStorageUrl('s3://bucket/prefix'))).toBe(
      'MAILROOM_STORAGE_URL: s3:// storage is not supported by this build yet',
    );
    expect(configError(() => createBlobStore('s3://bucket/prefix'))).toMatch(/s3:\/\/ storage is not supported/);
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
