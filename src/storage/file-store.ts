// The file:// blob store. Writes are atomic (temp file in the target directory,
// fsync, rename) so a crash or a full disk never leaves a half blob under its
// final name: a key that exists always has all of its bytes. Concurrent puts of
// the same bytes are harmless, as both renames install identical content. A
// stream (putStream) is spooled into a temporary file in the root, hashed on
// the way, and renamed to its key once the hash is known.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { MailroomError } from '../errors.js';
import { blobKeyFor, parseBlobKey, sha256Hex } from './blob-key.js';
import { spoolToFile } from './spool.js';
import { verifiedBlobStream, type BlobStore, type OpenedBlob, type StoredBlob } from './blob.js';

export class FileBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  async put(bytes: Buffer, known?: string): Promise<StoredBlob> {
    const sha256 = known ?? sha256Hex(bytes);
    const key = blobKeyFor(sha256);
    const stored = { key, sha256, size: bytes.length };
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    const temp = path.join(dir, `.tmp-${sha256.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
    try {
      // Same hash and same size: the bytes are already there (retry or duplicate).
      if ((await statFile(target))?.size === bytes.length) return stored;
      await mkdir(dir, { recursive: true });
      const handle = await open(temp, 'wx', 0o640);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
      await syncDirectory(dir);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw new MailroomError('STORAGE_FAILED', `Cannot write blob ${key}.`, { cause: err });
    }
    return stored;
  }

  async putStream(source: Readable): Promise<StoredBlob> {
    // Named .tmp-* like put's temporary files, so removeLeftovers finds what a killed process left.
    const temp = path.join(this.root, `.tmp-stream-${randomBytes(8).toString('hex')}`);
    try {
      await mkdir(this.root, { recursive: true });
    } catch (err) {
      source.destroy();
      throw new MailroomError('STORAGE_FAILED', 'Cannot write a blob.', { cause: err });
    }
    const { sha256, size } = await spoolToFile(source, temp, { sync: true });
    const key = blobKeyFor(sha256);
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    try {
      // Same hash and same size: the bytes are already there (retry or duplicate).
      if ((await statFile(target))?.size === size) await unlink(temp);
      else {
        await mkdir(dir, { recursive: true });
        await rename(temp, target);
        await syncDirectory(dir);
      }
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw new MailroomError('STORAGE_FAILED', `Cannot write blob ${key}.`, { cause: err });
    }
    return { key, sha256, size };
  }

  async get(key: string): Promise<Buffer> {
    const sha256 = parseBlobKey(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(key));
    } catch (err) {
      if (isNotFound(err)) {
        throw new MailroomError('STORAGE_FAILED', `Blob ${key} does not exist.`, { cause: err, retryable: false });
      }
      throw new MailroomError('STORAGE_FAILED', `Cannot read blob ${key}.`, { cause: err });
    }
    // Content addressing lets us detect bit rot or a hand-edited file instead of
    // serving other bytes than the key promises; retrying would not help.
    if (sha256Hex(bytes) !== sha256) {
      throw new MailroomError('STORAGE_FAILED', `Blob ${key} is corrupt: its bytes do not match its hash.`, { retryable: false });
    }
    return bytes;
  }

  async open(key: string): Promise<OpenedBlob> {
    const sha256 = parseBlobKey(key);
    // The size comes from the open file, not the path: the stream reads exactly what was measured.
    let handle: FileHandle | undefined;
    let size: number;
    try {
      handle = await open(this.pathOf(key), 'r');
      const s = await handle.stat();
      // Something else under the blob's name (a directory): unreadable, as get() finds it (EISDIR).
      if (!s.isFile()) throw new Error('not a regular file');
      size = s.size;
    } catch (err) {
      await handle?.close().catch(() => undefined);
      if (isNotFound(err)) {
        throw new MailroomError('STORAGE_FAILED', `Blob ${key} does not exist.`, { cause: err, retryable: false });
      }
      throw new MailroomError('STORAGE_FAILED', `Cannot read blob ${key}.`, { cause: err });
    }
    // The stream closes the handle when it ends or is destroyed.
    return { stream: verifiedBlobStream(handle.createReadStream(), key, sha256, size), size };
  }

  async exists(key: string): Promise<boolean> {
    parseBlobKey(key);
    try {
      return (await statFile(this.pathOf(key))) !== null;
    } catch (err) {
      throw new MailroomError('STORAGE_FAILED', `Cannot check blob ${key}.`, { cause: err });
    }
  }

  /** `.tmp-*` files a killed process left in the store's directories (walks sha256/xx/yy/). */
  async removeLeftovers(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    const walk = async (dir: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory() && depth < 3) await walk(full, depth + 1);
        else if (e.isFile() && e.name.startsWith('.tmp-')) {
          const s = await stat(full).catch(() => null);
          if (s && s.mtimeMs < cutoff && (await unlink(full).then(() => true, () => false))) removed++;
        }
      }
    };
    await walk(this.root, 0);
    return removed;
  }

  /** Only ever called with a validated key, so the path stays under root. */
  private pathOf(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }
}

async function statFile(file: string): Promise<{ size: number } | null> {
  try {
    const s = await stat(file);
    return s.isFile() ? { size: s.size } : null;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Makes the rename itself durable; some platforms cannot fsync a directory, which is fine. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort: the blob is complete either way, only its directory entry may lag.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
