// judgeStreamed must give judge()'s verdict and type for every file it takes
// on, and hand archives (and what only the whole can tell) back to the
// caller: compared here on files of many kinds, padded past the two ends it
// keeps, and on small ones whose ends overlap.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_LIMITS, ENDS_HEAD_BYTES, ENDS_TAIL_BYTES, judge } from '../../../src/attachments/policy.js';
import { judgeStreamed, readEnds } from '../../../src/attachments/streamed.js';
import { verifiedBlobStream } from '../../../src/storage/blob.js';
import { PDF, PNG, buildZip, elfExecutable, peExecutable } from '../../fixtures/attachments/samples.js';

/** `bytes` in chunks of `chunk` bytes, as a file stream delivers them (a byte stream, as the stores' are). */
function streamOf(bytes: Buffer, chunk = 64 * 1024): Readable {
  const chunks = function* () {
    for (let at = 0; at < bytes.length; at += chunk) yield bytes.subarray(at, at + chunk);
  };
  return Readable.from(chunks(), { objectMode: false });
}

const pad = (start: Buffer, size: number, fill = 0x41) => Buffer.concat([start, Buffer.alloc(Math.max(0, size - start.length), fill)]);

/** An MP3 behind an ID3 tag of `tagBytes` (file-type skips the tag, then looks again). */
function mp3(tagBytes: number, size: number): Buffer {
  const synchsafe = [21, 14, 7, 0].map((s) => (tagBytes >> s) & 0x7f);
  const head = Buffer.concat([Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, ...synchsafe]), Buffer.alloc(tagBytes), Buffer.from([0xff, 0xfb, 0x90, 0x64])]);
  return pad(head, size, 0);
}

/** A TIFF whose one directory sits at the file's end and is cut 8 bytes short: file-type skips past the end. */
function tiffCutShort(size: number, tag: number): Buffer {
  const b = Buffer.alloc(size, 0x11);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(size - 6, 4);
  b.writeUInt16LE(1, size - 6);
  b.writeUInt16LE(tag, size - 4);
  return b;
}

/** A PNG whose second chunk claims more bytes than the file has. */
function pngCutShort(size: number): Buffer {
  const b = pad(PNG.subarray(0, 33), size, 0);
  b.writeUInt32BE(0x7fffffff, 33);
  b.write('tEXt', 37, 'latin1');
  return b;
}

const SIZE = 3 * ENDS_HEAD_BYTES + ENDS_TAIL_BYTES;
const cases: [string, string, string, Buffer][] = [
  ['a PDF', 'scan.pdf', 'application/pdf', pad(PDF, SIZE)],
  ['a PNG declared a PDF', 'photo.pdf', 'application/pdf', pad(PNG, SIZE)],
  ['text', 'notes.txt', 'text/plain', pad(Buffer.from('MZ is how our report starts'), SIZE)],
  ['a Windows executable', 'invoice.pdf', 'application/pdf', pad(peExecutable(), SIZE)],
  ['an ELF executable', 'data.bin', 'application/octet-stream', pad(elfExecutable(), SIZE)],
  ['a blocked name', 'setup.msi', 'application/octet-stream', pad(Buffer.from('hello'), SIZE)],
  ['an MP3 behind a large ID3 tag', 'song.mp3', 'audio/mpeg', mp3(2 * ENDS_HEAD_BYTES, SIZE + ENDS_HEAD_BYTES)],
  ['a PDF, small', 'scan.pdf', 'application/pdf', pad(PDF, 1000)],
  ['an octet-stream named .png that is a PDF', 'image.png', 'application/octet-stream', pad(PDF, SIZE)],
  ['over the size limit', 'big.pdf', 'application/pdf', pad(PDF, DEFAULT_POLICY_LIMITS.maxBytes + 1)],
  ['a TIFF whose directory is cut short', 'scan.tif', 'image/tiff', tiffCutShort(SIZE, 256)],
  ['a Sony raw file whose directory is cut short', 'photo.arw', 'application/octet-stream', tiffCutShort(SIZE, 50341)],
  ['a PNG whose chunk runs past the end', 'photo.png', 'image/png', pngCutShort(SIZE)],
];

describe('judging a large attachment from a stream', () => {
  it.each(cases)('gives judge()\'s verdict and type for %s', async (_label, filename, declaredType, bytes) => {
    const whole = await judge({ filename, declaredType, sizeBytes: bytes.length, bytes, limits: DEFAULT_POLICY_LIMITS });
    const opened: Readable[] = [];
    const streamed = await judgeStreamed(async () => opened[opened.push(streamOf(bytes)) - 1]!, { filename, declaredType, sizeBytes: bytes.length }, DEFAULT_POLICY_LIMITS);
    expect(streamed).toEqual(whole);
    expect(opened.length).toBeLessThanOrEqual(2);
    // Every stream is released, the one file-type stopped reading included.
    expect(opened.every((stream) => stream.destroyed)).toBe(true);
  });

  it('stops reading a ZIP after its first bytes: the caller reads it whole', async () => {
    const zip = pad(buildZip([{ name: 'a.txt', data: Buffer.from('hello') }]), SIZE);
    let read = 0;
    const stream = streamOf(zip, 4096).on('data', (chunk: Buffer) => (read += chunk.length));
    expect(await judgeStreamed(async () => stream, { filename: 'a.zip', declaredType: 'application/zip', sizeBytes: SIZE }, DEFAULT_POLICY_LIMITS)).toBeNull();
    expect(stream.destroyed).toBe(true);
    expect(read).toBeLessThan(SIZE / 2);
  });

  it('leaves archives to a whole read: a ZIP by its start or by a directory at its end, and an MZ header pointing past the head', async () => {
    const zip = buildZip([{ name: 'a.txt', data: Buffer.from('hello') }]);
    const facts = (bytes: Buffer) => ({ filename: 'x.bin', declaredType: 'application/octet-stream', sizeBytes: bytes.length });
    for (const bytes of [pad(zip, SIZE), Buffer.concat([pad(PDF, SIZE), zip]), (() => {
      const mz = Buffer.alloc(SIZE);
      mz.write('MZ', 0, 'latin1');
      mz.writeUInt32LE(ENDS_HEAD_BYTES + 100, 0x3c);
      mz.write('PE\0\0', ENDS_HEAD_BYTES + 100, 'latin1');
      return mz;
    })()]) {
      expect(await judgeStreamed(async () => streamOf(bytes), facts(bytes), DEFAULT_POLICY_LIMITS)).toBeNull();
    }
  });

  it('says when the stream is not as long as the row says', async () => {
    const bytes = pad(PDF, SIZE);
    expect(await judgeStreamed(async () => streamOf(bytes), { filename: 'a.pdf', declaredType: 'application/pdf', sizeBytes: SIZE + 1 }, DEFAULT_POLICY_LIMITS)).toBe('SIZE_MISMATCH');
  });

  it('fails with the store\'s error when the bytes do not match their hash, having checked them all', async () => {
    const bytes = pad(PDF, SIZE);
    const wrong = createHash('sha256').update('other').digest('hex');
    const open = async () => verifiedBlobStream(streamOf(bytes), `sha256/${wrong}`, wrong, bytes.length);
    await expect(judgeStreamed(open, { filename: 'a.pdf', declaredType: 'application/pdf', sizeBytes: SIZE }, DEFAULT_POLICY_LIMITS)).rejects.toThrow(/corrupt/);
  });

  it('keeps exactly the first and last bytes, whatever the chunks', async () => {
    const bytes = Buffer.from(Array.from({ length: 2 * ENDS_HEAD_BYTES + ENDS_TAIL_BYTES + 777 }, (_, i) => (i * 7919) % 251));
    for (const chunk of [1000, 64 * 1024, 100_000, bytes.length]) {
      const ends = (await readEnds(streamOf(bytes, chunk)))!;
      expect(ends.size).toBe(bytes.length);
      expect(ends.head.equals(bytes.subarray(0, ENDS_HEAD_BYTES))).toBe(true);
      expect(ends.tail.equals(bytes.subarray(bytes.length - ENDS_TAIL_BYTES))).toBe(true);
    }
    const small = bytes.subarray(0, 5000);
    const ends = (await readEnds(streamOf(small, 999)))!;
    expect(ends.head.equals(small) && ends.tail.equals(small)).toBe(true);
  });
});
