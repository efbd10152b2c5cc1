// A ZIP central-directory reader for the attachment policy (zip bombs,
// encryption, macros, blocked files inside an archive). It never inflates
// anything: it reads the end-of-central-directory record and the directory
// entries, which say what the archive *claims* to hold, so a bomb costs us a
// walk over at most `bytes.length / 46` fixed-size headers and no memory beyond
// the entry names. What it reports are facts; policy.ts turns them into a verdict.
//
// The sizes are the archive's own declarations. A bomb that lies about them
// (small declared sizes, huge real output) is harmless here because nothing is
// decompressed; whoever extracts it later must enforce limits on real output.

import { isMailroomError, MailroomError } from '../errors.js';

/** An entry name for a sentence: the sender's text, so no control or bidi characters, and at most 100 characters. */
export function entryNameText(name: string): string {
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '');
  return clean.length > 100 ? `…${clean.slice(-99)}` : clean;
}

/** Stop walking early: past these the archive is refused anyway, so the rest need not be read. */
export interface ZipWalkLimits {
  readonly maxEntries: number;
  readonly maxUncompressedBytes: number;
}

export interface ZipFacts {
  readonly kind: 'zip';
  /** Entries the archive declares (the EOCD count), or the number walked when that is larger. */
  readonly entries: number;
  /** Sum of the declared uncompressed sizes (a lower bound when `stoppedEarly`). */
  readonly uncompressedBytes: number;
  readonly compressedBytes: number;
  /** Some entry has the encryption flag (ZipCrypto or AES), or the directory itself is encrypted. */
  readonly encrypted: boolean;
  /** Two entries' data ranges overlap: only bombs do that (one deflate stream counted many times). */
  readonly overlapping: boolean;
  /** The walk stopped at a limit; the totals are what had been counted by then. */
  readonly stoppedEarly: boolean;
  /** Entry names as stored (longer ones keep their last 255 characters: the extension is what policy reads). */
  readonly names: readonly string[];
  /** Entries that are archives themselves (by name or, when stored, by their first bytes): nested.ts opens them. */
  readonly archives: readonly ZipMember[];
}

/** Where one entry's data is, for opening an archive inside an archive (nested.ts). */
export interface ZipMember {
  readonly name: string;
  /** 0 stored, 8 deflated; other methods are not opened. */
  readonly method: number;
  readonly localOffset: number;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
}

export type ZipReport = ZipFacts | { readonly kind: 'unreadable'; readonly reason: string };

const EOCD_SIG = 0x06054b50;
const EOCD_BYTES = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;
const CENTRAL_HEADER_BYTES = 46;
const MAX_NAME_CHARS = 255;

/** Local file header, empty archive, or spanning marker: the first bytes of every ZIP we can read. */
export function looksLikeZip(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && [0x0304, 0x0506, 0x0708].includes(bytes.readUInt16BE(2));
}

/**
 * An end-of-central-directory record in the last 64 KiB: how unzip and 7-Zip
 * find an archive, whatever sits in front of it (a self-extractor stub, a GIF
 * header, one junk byte). Such bytes are an archive to every extractor, so
 * the policy must read them as one too.
 */
export function hasZipDirectory(bytes: Buffer): boolean {
  const last = bytes.length - 22;
  if (last < 0) return false;
  // A native search of the window (the signature may start anywhere from last - 0xffff to last):
  // a JS loop of 64 Ki reads per attachment was 3 % of a backlog's main-thread CPU.
  return bytes.subarray(Math.max(0, last - 0xffff), last + 4).lastIndexOf(EOCD_BYTES) !== -1;
}

/** A damaged archive structure: readZipDirectory turns it into an `unreadable` report. */
const unreadable = (reason: string) => new MailroomError('ATTACHMENT_UNREADABLE', reason);

export function readZipDirectory(bytes: Buffer, limits: ZipWalkLimits): ZipReport {
  try {
    return walk(bytes, limits);
  } catch (err) {
    // RangeError: a read past the end, i.e. a length field pointing outside the file.
    if (isMailroomError(err, 'ATTACHMENT_UNREADABLE')) return { kind: 'unreadable', reason: err.message };
    if (err instanceof RangeError) return { kind: 'unreadable', reason: 'a record runs past the end of the file' };
    throw err;
  }
}

interface Directory {
  /** Where the EOCD record starts. */
  eocd: number;
  entries: number;
  offset: number;
  size: number;
}

function walk(bytes: Buffer, limits: ZipWalkLimits): ZipFacts {
  const dir = findDirectory(bytes);
  const base = { kind: 'zip' as const, encrypted: false, overlapping: false, names: [] as string[], archives: [] as ZipMember[] };
  // The declared count alone can refuse an archive before a single header is read.
  if (dir.entries > limits.maxEntries) {
    return { ...base, entries: dir.entries, uncompressedBytes: 0, compressedBytes: 0, stoppedEarly: true };
  }
  const names: string[] = [];
  const archives: ZipMember[] = [];
  const ranges: { start: number; end: number }[] = [];
  let uncompressed = 0;
  let compressed = 0;
  let encrypted = false;
  let stoppedEarly = false;
  // Bytes prepended to an archive shift it without changing its recorded offsets: like unzip,
  // look where the directory must end (right before the EOCD) when the recorded place holds none.
  let pos = dir.offset;
  if (dir.size >= CENTRAL_HEADER_BYTES && bytes.readUInt32LE(pos) !== CENTRAL_SIG && dir.eocd - dir.size >= 0 && bytes.readUInt32LE(dir.eocd - dir.size) === CENTRAL_SIG) {
    pos = dir.eocd - dir.size;
  }
  const end = pos + dir.size;
  while (pos + CENTRAL_HEADER_BYTES <= end) {
    if (bytes.readUInt32LE(pos) !== CENTRAL_SIG) throw unreadable('the central directory is damaged');
    const flags = bytes.readUInt16LE(pos + 8);
    let compSize = bytes.readUInt32LE(pos + 20);
    let uncompSize = bytes.readUInt32LE(pos + 24);
    const nameLen = bytes.readUInt16LE(pos + 28);
    const extraLen = bytes.readUInt16LE(pos + 30);
    const commentLen = bytes.readUInt16LE(pos + 32);
    let localOffset = bytes.readUInt32LE(pos + 42);
    const nameStart = pos + CENTRAL_HEADER_BYTES;
    const extraStart = nameStart + nameLen;
    if (extraStart + extraLen > end) throw unreadable('the central directory is damaged');
    // ZIP64: the 32-bit fields say 0xFFFFFFFF and the real values sit in extra field 0x0001, in this order.
    const zip64 = findExtra(bytes, extraStart, extraLen, 0x0001);
    if (zip64) {
      let p = zip64.start;
      const next = (): number => {
        if (p + 8 > zip64.end) throw unreadable('a ZIP64 extra field is too short');
        const v = Number(bytes.readBigUInt64LE(p));
        p += 8;
        return v;
      };
      if (uncompSize === 0xffffffff) uncompSize = next();
      if (compSize === 0xffffffff) compSize = next();
      if (localOffset === 0xffffffff) localOffset = next();
    }
    const utf8 = (flags & 0x0800) !== 0;
    // Names are at most 64 KiB each; the end is kept, so `<300 × a>.exe` still shows its extension.
    const name = bytes.toString(utf8 ? 'utf8' : 'latin1', nameStart, extraStart);
    names.push(name.length > MAX_NAME_CHARS ? name.slice(-MAX_NAME_CHARS) : name);
    // Bit 0: the entry is encrypted; bit 13: the central directory is (names are then masked too).
    const entryEncrypted = (flags & 0x0001) !== 0 || (flags & 0x2000) !== 0;
    if (entryEncrypted) encrypted = true;
    const method = bytes.readUInt16LE(pos + 10);
    if (!entryEncrypted && (method === 0 || method === 8) && isArchiveMember(bytes, name, method, localOffset)) {
      archives.push({ name: names.at(-1) ?? name, method, localOffset, compressedBytes: compSize, uncompressedBytes: uncompSize });
    }
    uncompressed += uncompSize;
    compressed += compSize;
    ranges.push({ start: localOffset, end: localOffset + LOCAL_HEADER_BYTES + compSize });
    pos = extraStart + extraLen + commentLen;
    const more = pos + CENTRAL_HEADER_BYTES <= end;
    if (more && (names.length > limits.maxEntries || uncompressed > limits.maxUncompressedBytes)) {
      stoppedEarly = true;
      break;
    }
  }
  return {
    ...base,
    entries: Math.max(dir.entries, names.length),
    uncompressedBytes: uncompressed,
    compressedBytes: compressed,
    encrypted,
    overlapping: overlaps(ranges),
    stoppedEarly,
    names,
    archives,
  };
}

/** A `.zip` by name, or a stored entry whose data starts like a ZIP (a renamed archive). */
function isArchiveMember(bytes: Buffer, name: string, method: number, localOffset: number): boolean {
  if (/\.zip$/i.test(name)) return true;
  if (method !== 0) return false;
  const data = memberDataStart(bytes, localOffset);
  return data !== null && looksLikeZip(bytes.subarray(data, data + 4));
}

/** Where an entry's data starts: after its local header, whose name and extra lengths may differ from the directory's. */
export function memberDataStart(bytes: Buffer, localOffset: number): number | null {
  if (localOffset + LOCAL_HEADER_BYTES > bytes.length || bytes.readUInt32LE(localOffset) !== LOCAL_SIG) return null;
  return localOffset + LOCAL_HEADER_BYTES + bytes.readUInt16LE(localOffset + 26) + bytes.readUInt16LE(localOffset + 28);
}

/** The EOCD record sits in the last 22 + 65,535 (comment) bytes; ZIP64 archives point on to a larger record. */
function findDirectory(bytes: Buffer): Directory {
  const last = bytes.length - 22;
  const first = Math.max(0, last - 0xffff);
  let at = -1;
  for (let i = last; i >= first; i--) {
    if (bytes.readUInt32LE(i) === EOCD_SIG) {
      at = i;
      break;
    }
  }
  if (at < 0) throw unreadable('it has no central directory (truncated or not a ZIP archive)');
  const disk = bytes.readUInt16LE(at + 4);
  const dirDisk = bytes.readUInt16LE(at + 6);
  let entries = bytes.readUInt16LE(at + 10);
  let size = bytes.readUInt32LE(at + 12);
  let offset = bytes.readUInt32LE(at + 16);
  if (entries === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = at - 20;
    if (locator < 0 || bytes.readUInt32LE(locator) !== ZIP64_LOCATOR_SIG) throw unreadable('its ZIP64 directory locator is missing');
    const record = Number(bytes.readBigUInt64LE(locator + 8));
    if (record + 56 > locator || bytes.readUInt32LE(record) !== ZIP64_EOCD_SIG) throw unreadable('its ZIP64 directory record is damaged');
    entries = Number(bytes.readBigUInt64LE(record + 32));
    size = Number(bytes.readBigUInt64LE(record + 40));
    offset = Number(bytes.readBigUInt64LE(record + 48));
  } else if (disk !== 0 || dirDisk !== 0) {
    throw unreadable('it is one part of a split archive');
  }
  if (offset + size > at) throw unreadable('its central directory lies outside the file');
  return { eocd: at, entries, offset, size };
}

function findExtra(bytes: Buffer, start: number, length: number, id: number): { start: number; end: number } | null {
  let p = start;
  const end = start + length;
  while (p + 4 <= end) {
    const fieldId = bytes.readUInt16LE(p);
    const size = bytes.readUInt16LE(p + 2);
    if (fieldId === id) return { start: p + 4, end: Math.min(end, p + 4 + size) };
    p += 4 + size;
  }
  return null;
}

/** Sorted by start, any entry reaching past the next one's start shares bytes with it. */
function overlaps(ranges: { start: number; end: number }[]): boolean {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (prev && cur && prev.end > cur.start) return true;
  }
  return false;
}
