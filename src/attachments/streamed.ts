// The verdict on an attachment too large to hold whole (over
// STREAMED_JUDGE_BYTES): the same verdict judge() gives the whole bytes,
// taken from two reads of the stored blob that each hold only a little of it.
// The first read checks the bytes against their hash (as get() does) and
// keeps the file's two ends, which decide everything but the type
// (policy.checkEnds); the second hands a stream to file-type, which reads
// forward only as far as the format needs (a PDF, a video or an image: its
// first bytes) and is then stopped. An archive is the exception: its entries
// are read from the whole file, so for a file that may be one (a ZIP by its
// start, found before the rest is read, or a directory at its end) this
// returns null and the caller reads it whole; so it does for an MZ header
// pointing past the head. A 50 MB scan held 50 MB more for its verdict; now a
// few hundred KB (the ends, and file-type's read buffers).
import type { Readable } from 'node:stream';
import { fileTypeFromTokenizer } from 'file-type';
import { fromStream } from 'strtok3';
import { checkEnds, ENDS_HEAD_BYTES, ENDS_TAIL_BYTES, weighEnds, type DetectedType, type FileEnds, type Judgement, type PolicyLimits } from './policy.js';
import { looksLikeZip } from './zip.js';

/** Attachments larger than this are judged from a stream (judgeStreamed), smaller ones from their bytes. */
export const STREAMED_JUDGE_BYTES = 8 * 1024 * 1024;

export interface StreamedFacts {
  readonly filename: string;
  readonly declaredType: string;
  readonly sizeBytes: number;
}

/**
 * `open` gives a fresh stream of the verified bytes each time (BlobStore.open);
 * its errors and the stream's reach the caller unchanged. Null: an archive,
 * read the whole bytes. A stream shorter or longer than `sizeBytes` is
 * SIZE_MISMATCH.
 */
export async function judgeStreamed(open: () => Promise<Readable>, facts: StreamedFacts, limits: PolicyLimits): Promise<Judgement | 'SIZE_MISMATCH' | null> {
  // A ZIP by its start is known from the head: the caller reads it whole, so it is not read to its end here first.
  const ends = await readEnds(await open(), looksLikeZip);
  if (ends === null) return null;
  if (ends.size !== facts.sizeBytes) return 'SIZE_MISMATCH';
  const withEnds = { ...facts, head: ends.head, tail: ends.tail };
  const inside = checkEnds(withEnds, limits);
  if (inside === null) return null;
  if ('status' in inside) return { verdict: inside, detectedType: null };
  return weighEnds(withEnds, inside, await sniffStream(await open(), facts.sizeBytes));
}

/**
 * Reads `stream` to its end (so a hash check at its end is passed), keeping
 * its first and last bytes; null, the stream released, when `stopAt` says so
 * of the head once it is read.
 */
export async function readEnds(stream: Readable, stopAt?: (head: Buffer) => boolean): Promise<(FileEnds & { size: number }) | null> {
  const head: Buffer[] = [];
  let headBytes = 0;
  // The newest chunks, at least ENDS_TAIL_BYTES of them once there are that many.
  const tail: Buffer[] = [];
  let tailBytes = 0;
  let size = 0;
  for await (const data of stream) {
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data as Uint8Array);
    size += chunk.length;
    if (headBytes < ENDS_HEAD_BYTES) {
      // A copy: a stream's chunk may be a view of a larger pooled buffer.
      const part = Buffer.from(chunk.subarray(0, ENDS_HEAD_BYTES - headBytes));
      head.push(part);
      headBytes += part.length;
      // Leaving the loop destroys the stream.
      if (headBytes === ENDS_HEAD_BYTES && stopAt?.(Buffer.concat(head))) return null;
    }
    tail.push(Buffer.from(chunk.subarray(Math.max(0, chunk.length - ENDS_TAIL_BYTES))));
    tailBytes += tail[tail.length - 1]!.length;
    while (tail.length > 1 && tailBytes - tail[0]!.length >= ENDS_TAIL_BYTES) tailBytes -= tail.shift()!.length;
  }
  const last = Buffer.concat(tail);
  const first = Buffer.concat(head);
  if (headBytes < ENDS_HEAD_BYTES && stopAt?.(first)) return null;
  return { head: first, tail: last.subarray(Math.max(0, last.length - ENDS_TAIL_BYTES)), size };
}

/**
 * file-type on a byte stream of known size, as on the bytes (it reads the
 * same bytes, forward only); the stream is released after. A stream's
 * tokenizer fails a skip past the end where a buffer's stops at the end (a
 * TIFF directory cut short was "not a TIFF" here and a TIFF from the bytes):
 * it is made to stop at the end too.
 */
async function sniffStream(stream: Readable, size: number): Promise<DetectedType | undefined> {
  try {
    const tokenizer = await fromStream(stream, { fileInfo: { size } });
    const ignore = tokenizer.ignore.bind(tokenizer);
    tokenizer.ignore = (length: number) => ignore(length > 0 ? Math.min(length, Math.max(0, size - tokenizer.position)) : length);
    const found = await fileTypeFromTokenizer(tokenizer);
    return found ? { ext: found.ext, mime: found.mime } : undefined;
  } finally {
    stream.destroy();
  }
}
