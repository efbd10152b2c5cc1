// A large mail's raw bytes in a temporary file instead of memory: a source
// downloads a mail larger than its fetch batch (IMAP: 8 MiB) into one
// (RawFile.spool), ingest stores it from there and the mail core parses it
// from there (parseMail reads its header block and the 4 MiB after the
// message starts, which its charset hints scan, then streams the body), so a
// 70 MB mail never sits in the worker's memory as one Buffer beside what its
// parse holds.
//
// The file is removed from the directory as soon as it is created: only the
// open handle keeps it, so a crash or a kill leaves nothing behind, and its
// space is freed when the handle is closed (close(), by whoever created it).
// Reads are positional, so the blob store's copy and the parse read the same
// file at once.
import { randomBytes } from 'node:crypto';
import { readSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { MailroomError } from '../errors.js';
import type { MessageBytes } from './body-charset.js';

const READ_BYTES = 64 * 1024;
/**
 * The window a view reads through: delimiter lines and header blocks are found in it without a read each. Small,
 * as the parts are visited in no particular order and each visit elsewhere reads a window.
 */
const WINDOW_BYTES = 64 * 1024;

export class RawFile {
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    /** Its size in bytes (named as a Buffer's, so code that weighs raw bytes weighs either). */
    readonly length: number,
  ) {}

  /**
   * Writes what `source` yields to a new temporary file in `dir`. A failure
   * to write is STORAGE_FAILED (an infrastructure failure: the sync retries);
   * a failure of the source is its own error. Either way nothing is left.
   */
  static async spool(source: AsyncIterable<Buffer>, dir = os.tmpdir()): Promise<RawFile> {
    const file = path.join(dir, `mailroom-raw-${randomBytes(8).toString('hex')}`);
    let handle: FileHandle;
    try {
      handle = await open(file, 'wx+', 0o600);
    } catch (err) {
      throw new MailroomError('STORAGE_FAILED', `Cannot create a temporary file for a large message in ${dir}.`, { cause: err });
    }
    try {
      await unlink(file);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await unlink(file).catch(() => undefined);
      throw new MailroomError('STORAGE_FAILED', `Cannot create a temporary file for a large message in ${dir}.`, { cause: err });
    }
    let size = 0;
    try {
      for await (const chunk of source) {
        try {
          for (let at = 0; at < chunk.length; ) at += (await handle.write(chunk, at, chunk.length - at, size + at)).bytesWritten;
        } catch (err) {
          throw new MailroomError('STORAGE_FAILED', `Cannot write a large message to a temporary file in ${dir}.`, { cause: err });
        }
        size += chunk.length;
      }
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    return new RawFile(handle, size);
  }

  /**
   * `length` bytes at `position` (fewer at the end), read synchronously: the
   * head a parse reads first, and view()'s window. STORAGE_FAILED when the
   * file cannot be read (or was closed).
   */
  readSync(position: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(Math.max(0, Math.min(length, this.length - position)));
    try {
      for (let got = 0; got < out.length; ) {
        const n = readSync(this.handle.fd, out, got, out.length - got, position + got);
        if (n === 0) throw new Error('the file ended early');
        got += n;
      }
    } catch (err) {
      throw readFailed(err);
    }
    return out;
  }

  /** The whole file in memory. */
  async read(): Promise<Buffer> {
    const out = Buffer.allocUnsafe(this.length);
    let at = 0;
    for await (const chunk of this.chunks()) at += chunk.copy(out, at);
    return out;
  }

  /** Bytes `start` to `end` (exclusive) in chunks of at most 64 KiB, read as they are wanted. */
  async *chunks(start = 0, end = this.length): AsyncGenerator<Buffer> {
    for (let at = start; at < end; ) {
      const want = Math.min(READ_BYTES, end - at);
      let got: number;
      const buffer = Buffer.allocUnsafe(want);
      try {
        got = (await this.handle.read(buffer, 0, want, at)).bytesRead;
        if (got === 0) throw new Error('the file ended early');
      } catch (err) {
        throw readFailed(err);
      }
      yield got === want ? buffer : buffer.subarray(0, got);
      at += got;
    }
  }

  /**
   * The bytes from `offset` on, as the mail core's MessageBytes (offsets
   * relative to it), read synchronously through one 64 KiB window. Marking a
   * message's text charsets searches all of it once for delimiter lines (a
   * 70 MB mail: ~35 ms from the page cache, on the thread that parses it) and
   * reads its header blocks; nothing of it is kept but the window.
   */
  view(offset: number): MessageBytes & { chunks(start: number, end: number): AsyncIterable<Buffer> } {
    const read = (position: number, bytes: number) => this.readSync(position, bytes);
    let windowAt = 0;
    let window: Buffer = Buffer.alloc(0);
    const slide = (at: number): void => {
      windowAt = at;
      window = read(offset + at, WINDOW_BYTES);
    };
    const inWindow = (i: number) => i >= windowAt && i < windowAt + window.length;
    const length = Math.max(0, this.length - offset);
    return {
      length,
      byte(i) {
        if (i < 0 || i >= length) return undefined;
        if (!inWindow(i)) slide(i);
        return window[i - windowAt];
      },
      indexOf(value, from) {
        const needle = typeof value === 'number' ? Buffer.of(value) : Buffer.from(value, 'latin1');
        for (let at = Math.max(0, from); at < length; ) {
          // The window must hold the needle's whole length from `at` on, so a match across two windows is found.
          if (!inWindow(at) || at + needle.length > windowAt + window.length) slide(at);
          const found = window.indexOf(needle, at - windowAt);
          if (found >= 0) return windowAt + found;
          if (windowAt + window.length >= length) return -1;
          at = windowAt + window.length - needle.length + 1;
        }
        return -1;
      },
      latin1(start, end) {
        return this.bytes(start, end).toString('latin1');
      },
      bytes(start, end) {
        if (inWindow(start) && end <= windowAt + window.length) return window.subarray(start - windowAt, end - windowAt);
        return read(offset + start, Math.max(0, Math.min(end, length) - start));
      },
      chunks: (start, end) => this.chunks(offset + start, offset + end),
    };
  }

  /** The whole file as a stream (for the blob store). */
  stream(): Readable {
    return Readable.from(this.chunks());
  }

  /** Frees the file; later reads fail. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch(() => undefined);
  }
}

/** A read that failed is the machine's failure, not the mail's: retried, never a reason to fail the mail. */
function readFailed(err: unknown): MailroomError {
  return new MailroomError('STORAGE_FAILED', "Cannot read a large message's temporary file.", { cause: err });
}

/** The raw bytes of a mail: in memory, or (a large one) in a temporary file. */
export type RawBytes = Buffer | RawFile;
