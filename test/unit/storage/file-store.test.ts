import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMailroomError } from '../../../src/errors.js';
import { blobKeyFor, sha256Hex } from '../../../src/storage/blob-key.js';
import { FileBlobStore } from '../../../src/storage/file-store.js';

let root: string;
let store: FileBlobStore;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'mailroom-blobs-'));
  store = new FileBlobStore(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file under dir, relative, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** Everything a stream emits, and the error it ended with (null when it ended cleanly). */
async function drain(stream: Readable): Promise<{ bytes: Buffer; error: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { bytes: Buffer.concat(chunks), error: null };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
}

async function storageError(promise: Promise<unknown>): Promise<{ retryable: boolean; message: string }> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isMailroomError(err, 'STORAGE_FAILED')) throw new Error(`expected STORAGE_FAILED, got ${String(err)}`);
  return { retryable: err.retryable, message: err.message };
}

describe('FileBlobStore', () => {
  it('stores under the hash the caller already computed, the same blob as hashing it here', async () => {
    const bytes = randomBytes(4096);
    const sha = sha256Hex(bytes);
    expect(await store.put(bytes, sha)).toEqual({ key: blobKeyFor(sha), sha256: sha, size: bytes.length });
    expect(await store.put(bytes)).toEqual({ key: blobKeyFor(sha), sha256: sha, size: bytes.length });
    expect(await store.get(blobKeyFor(sha))).toEqual(bytes);
    expect(await filesUnder(root)).toEqual([blobKeyFor(sha)]);
  });

  it('stores bytes under their content address and reads them back', async () => {
    const bytes = Buffer.from('hello attachment');
    const sha = sha256Hex(bytes);
    const stored = await store.put(bytes);
    expect(stored).toEqual({ key: `sha256/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`, sha256: sha, size: bytes.length });
    expect(await store.exists(stored.key)).toBe(true);
    expect((await store.get(stored.key)).equals(bytes)).toBe(true);
    expect(await filesUnder(root)).toEqual([path.join('sha256', sha.slice(0, 2), sha.slice(2, 4), sha)]);
  });

  it('stores the same bytes once: a second put is a no-op with the same key', async () => {
    const bytes = Buffer.from('same bytes twice');
    const first = await store.put(bytes);
    const file = path.join(root, ...first.key.split('/'));
    const before = await stat(file);
    const second = await store.put(Buffer.from(bytes));
    expect(second).toEqual(first);
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
    expect((await stat(file)).ino).toBe(before.ino);
    expect(await filesUnder(root)).toHaveLength(1);
  });

  it('survives concurrent puts of the same bytes and leaves no temp file', async () => {
    const bytes = Buffer.alloc(256 * 1024, 7);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.put(bytes)));
    expect(new Set(results.map((r) => r.key)).size).toBe(1);
    expect(await filesUnder(root)).toHaveLength(1);
  });

  it('stores an empty blob', async () => {
    const stored = await store.put(Buffer.alloc(0));
    expect(stored.size).toBe(0);
    expect((await store.get(stored.key)).length).toBe(0);
  });

  it('never leaves a partial file under the final name when a write fails', async () => {
    const bytes = Buffer.from('cannot be installed');
    const key = blobKeyFor(sha256Hex(bytes));
    const target = path.join(root, ...key.split('/'));
    // A non-empty directory where the blob should go makes the final rename fail.
    await mkdir(path.join(target, 'blocker'), { recursive: true });
    const err = await storageError(store.put(bytes));
    expect(err.retryable).toBe(true);
    expect((await stat(target)).isDirectory()).toBe(true);
    expect(await readdir(path.dirname(target))).toEqual([path.basename(target)]);
  });

  it('stores a stream under the content address put() gives its bytes, leaving no temporary file', async () => {
    const bytes = randomBytes(300 * 1024);
    const chunks = [bytes.subarray(0, 1000), bytes.subarray(1000, 200_000), bytes.subarray(200_000)];
    const stored = await store.putStream(Readable.from(chunks));
    expect(stored).toEqual(await store.put(bytes));
    expect((await store.get(stored.key)).equals(bytes)).toBe(true);
    expect(await filesUnder(root)).toEqual([path.join(...stored.key.split('/'))]);
    // Again: the bytes are there already, only the temporary file came and went.
    expect(await store.putStream(Readable.from(chunks))).toEqual(stored);
    expect(await filesUnder(root)).toHaveLength(1);
    expect((await store.putStream(Readable.from([]))).size).toBe(0);
  });

  it('passes on the error of a failing stream as it is, and leaves no temporary file', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024, 1));
        this.destroy(new Error('the mail broke off'));
      },
    });
    await expect(store.putStream(failing)).rejects.toThrow('the mail broke off');
    expect(await filesUnder(root)).toEqual([]);
  });

  it('fails a stream it cannot install as retryable STORAGE_FAILED, leaving no temporary file', async () => {
    const bytes = Buffer.from('cannot be installed either');
    const target = path.join(root, ...blobKeyFor(sha256Hex(bytes)).split('/'));
    await mkdir(path.join(target, 'blocker'), { recursive: true });
    const err = await storageError(store.putStream(Readable.from([bytes])));
    expect(err.retryable).toBe(true);
    expect(await filesUnder(root)).toEqual([]);
  });

  it('reports an unknown key as not found, not retryable', async () => {
    const key = blobKeyFor(sha256Hex(Buffer.from('never stored')));
    expect(await store.exists(key)).toBe(false);
    const err = await storageError(store.get(key));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/does not exist/);
  });

  it('refuses bytes that no longer match their key', async () => {
    const stored = await store.put(Buffer.from('original'));
    await writeFile(path.join(root, ...stored.key.split('/')), 'tampered');
    const err = await storageError(store.get(stored.key));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/corrupt/);
  });

  it('opens a blob as a stream of its bytes, with its size', async () => {
    // Several read chunks (64 KiB each), so the held-back last chunk is not the only one.
    const bytes = randomBytes(300 * 1024 + 17);
    const { key } = await store.put(bytes);
    const opened = await store.open(key);
    expect(opened.size).toBe(bytes.length);
    const { bytes: read, error } = await drain(opened.stream);
    expect(error).toBeNull();
    expect(read.equals(bytes)).toBe(true);
  });

  it('opens an empty blob', async () => {
    const { key } = await store.put(Buffer.alloc(0));
    const opened = await store.open(key);
    expect(opened.size).toBe(0);
    expect(await drain(opened.stream)).toEqual({ bytes: Buffer.alloc(0), error: null });
  });

  it('opens an unknown key as get() reads it: not found, not retryable', async () => {
    const key = blobKeyFor(sha256Hex(Buffer.from('never stored')));
    const err = await storageError(store.open(key));
    expect(err).toEqual({ retryable: false, message: `Blob ${key} does not exist.` });
  });

  it('opens a blob deleted from disk as not found', async () => {
    const { key } = await store.put(Buffer.from('deleted by hand'));
    await rm(path.join(root, ...key.split('/')));
    expect((await storageError(store.open(key))).message).toBe(`Blob ${key} does not exist.`);
  });

  it('reports something other than a file under the key as unreadable, retryable as in get()', async () => {
    const bytes = Buffer.from('a directory in the way');
    const key = blobKeyFor(sha256Hex(bytes));
    await mkdir(path.join(root, ...key.split('/')), { recursive: true });
    const err = await storageError(store.open(key));
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(`Cannot read blob ${key}.`);
    expect((await storageError(store.get(key))).retryable).toBe(true);
  });

  it('fails the stream of bytes that no longer match their key, short of their size', async () => {
    const bytes = randomBytes(200 * 1024);
    const { key } = await store.put(bytes);
    const tampered = Buffer.from(bytes);
    tampered[0] = (tampered[0] ?? 0) ^ 0xff;
    await writeFile(path.join(root, ...key.split('/')), tampered);
    const opened = await store.open(key);
    expect(opened.size).toBe(bytes.length);
    const { bytes: read, error } = await drain(opened.stream);
    expect(isMailroomError(error, 'STORAGE_FAILED') && !error.retryable && error.message).toBe(`Blob ${key} is corrupt: its bytes do not match its hash.`);
    // Everything but the held-back last chunk went out: a reader never gets all the wrong bytes.
    expect(read.length).toBeGreaterThan(0);
    expect(read.length).toBeLessThan(bytes.length);
  });

  it('fails the stream of a blob truncated on disk', async () => {
    const bytes = Buffer.from('the whole blob');
    const { key } = await store.put(bytes);
    await writeFile(path.join(root, ...key.split('/')), bytes.subarray(0, 5));
    const opened = await store.open(key);
    const { bytes: read, error } = await drain(opened.stream);
    expect(isMailroomError(error, 'STORAGE_FAILED') && error.message).toMatch(/is corrupt/);
    expect(read.length).toBe(0);
  });

  it('rejects keys that are not content addresses', async () => {
    const sha = sha256Hex(Buffer.from('x'));
    const bad = [
      '../../etc/passwd',
      '/etc/passwd',
      `sha256/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}/..`,
      `sha256/00/00/${sha}`, // fan-out directories that do not match the hash
      `sha256/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha.toUpperCase()}`,
      `sha256/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha.slice(0, 63)}`,
      `sha256\\${sha.slice(0, 2)}\\${sha.slice(2, 4)}\\${sha}`,
      `sha256/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}\n`,
      '',
    ];
    for (const key of bad) {
      expect((await storageError(store.get(key))).retryable, key).toBe(false);
      expect((await storageError(store.open(key))).retryable, key).toBe(false);
      expect((await storageError(store.exists(key))).message, key).toMatch(/Invalid blob key/);
    }
  });
});
