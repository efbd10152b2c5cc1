// Bytes of unknown size and hash into a file, hashed on the way: how a
// stream is stored under a content address that is known only at its end.
// The file store spools into its own directory and renames; the S3 store
// spools to a local temporary file and uploads that with its hash and length.
import { createHash } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { MailroomError } from '../errors.js';

export interface Spooled {
  readonly sha256: string;
  readonly size: number;
}

/**
 * Writes everything `source` yields to the new file `file` (mode 0640,
 * fsynced when `sync`). A failure to write is STORAGE_FAILED (retryable); a
 * failure of the source is the source's own error, passed on unchanged (a
 * broken mail is not a broken disk). The file is removed on either failure.
 */
export async function spoolToFile(source: Readable, file: string, opts: { sync: boolean }): Promise<Spooled> {
  const hash = createHash('sha256');
  let size = 0;
  let sourceFailed = false;
  try {
    const handle = await open(file, 'wx', 0o640);
    try {
      const chunks = source[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<unknown>;
        try {
          next = await chunks.next();
        } catch (err) {
          sourceFailed = true;
          throw err;
        }
        if (next.done) break;
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as string);
        hash.update(chunk);
        size += chunk.length;
        for (let at = 0; at < chunk.length; ) at += (await handle.write(chunk, at)).bytesWritten;
      }
      if (opts.sync) await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    source.destroy();
    await unlink(file).catch(() => undefined);
    if (sourceFailed) throw err;
    throw new MailroomError('STORAGE_FAILED', 'Cannot write a blob to a temporary file.', { cause: err });
  }
  return { sha256: hash.digest('hex'), size };
}
