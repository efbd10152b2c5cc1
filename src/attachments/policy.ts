// The attachment policy (PRODUCT.md "Attachments"): given what is known about
// one attachment (its name, declared type, size, bytes and the type sniffed
// from them) decide OK, WARNING or ERROR, with one human sentence. Pure: no
// I/O, so every rule is tested with plain byte buffers.
//
// ERROR (the file is not offered for download):
//   - larger than MAILROOM_MAX_ATTACHMENT_BYTES (default 25 MiB);
//   - an executable by its bytes, whatever its name: PE (Windows, also NE/LE),
//     ELF, Mach-O (incl. universal binaries), and what file-type recognises as
//     a Java archive, an Android app or a Windows shortcut;
//   - a blocked extension (BLOCKED_EXTENSIONS below: Gmail's list of blocked
//     attachment types plus .reg .url .scf .inf .psm1 .vhdx .application
//     .gadget): scripts, installers and disk images that run code when opened,
//     and whose bytes are often plain text, so only the name can tell;
//   - a ZIP archive that is a bomb (more than 10,000 entries, more than 1 GiB
//     unpacked, a compression ratio above 100:1 once it unpacks to 16 MiB or
//     more, or overlapping entries), that cannot be read, or that holds a file
//     with a blocked extension (the usual way to send a script past a filter);
//   - archives inside the archive (nested.ts) nested more than 3 levels deep,
//     or all levels together over 10,000 entries or 1 GiB unpacked, or more
//     than 64 MiB to inflate to reach the inner directories (a 42.zip), or
//     holding a blocked file type at any level (the time to check them is bounded too).
// WARNING (downloadable, with the reason shown):
//   - a macro-enabled Office document (.docm/.xlsm/.pptm and friends by name or
//     bytes, or any OOXML archive with a vbaProject.bin);
//   - an encrypted ZIP archive: its entry names are checked, its contents cannot be;
//   - the declared type (or, when the mail says only application/octet-stream,
//     the extension) is not what the bytes are: "Declared image/png, but the
//     bytes are a PDF." A mislabelled file is usually a sender's mistake, and
//     the dangerous mislabelling (an executable) is already an ERROR.
// One message per attachment: the first ERROR found, else the first WARNING in
// the order above (macros before encryption before mismatch: most dangerous first).
//
// Not covered here: other archive formats (7z, RAR, gzip) are not looked
// into, and macros in legacy OLE files (.doc/.xls) are not detected.
import { fileTypeFromBuffer } from 'file-type';
import { nestedArchiveProblem, type NestedLimits } from './nested.js';
import { entryNameText, hasZipDirectory, readZipDirectory, looksLikeZip, type ZipFacts } from './zip.js';
import { EXTENSION_TYPES, GENERIC_TYPES, STRONG_MAGIC, compatibleTypes, describeType, normalizeType } from './types.js';

export interface ZipLimits {
  readonly maxEntries: number;
  readonly maxUncompressedBytes: number;
  /** Unpacked size divided by the archive's size. */
  readonly maxRatio: number;
  /** The ratio is judged only from this unpacked size on: small archives of text compress well and harm no one. */
  readonly ratioFloorBytes: number;
  /** Archives inside the archive: depth, and budgets shared by all levels (nested.ts). */
  readonly nested: NestedLimits;
}

export interface PolicyLimits {
  readonly maxBytes: number;
  readonly zip: ZipLimits;
}

const MiB = 1024 * 1024;

export const DEFAULT_POLICY_LIMITS: PolicyLimits = Object.freeze({
  maxBytes: 25 * MiB,
  zip: Object.freeze({
    maxEntries: 10_000,
    maxUncompressedBytes: 1024 * MiB,
    maxRatio: 100,
    ratioFloorBytes: 16 * MiB,
    nested: Object.freeze({ maxDepth: 3, maxEntries: 10_000, maxUncompressedBytes: 1024 * MiB, maxInflatedBytes: 64 * MiB, maxMillis: 5000 }),
  }),
});

export function policyLimits(maxBytes: number): PolicyLimits {
  return { ...DEFAULT_POLICY_LIMITS, maxBytes };
}

export const BLOCKED_EXTENSIONS: ReadonlySet<string> = new Set(
  ('ade adp apk appx appxbundle bat cab chm cmd com cpl diagcab diagcfg diagpack dll dmg ex ex_ exe hta img ins iso isp jar jnlp js jse ' +
    'lib lnk mde msc msi msix msixbundle msp mst nsh pif ps1 scr sct shb sys vb vbe vbs vhd vxd wsc wsf wsh xll ' +
    'reg url scf inf psm1 vhdx application gadget').split(' '),
);

/** Detected by file-type from the bytes; PE, ELF and Mach-O are checked here directly (executableFormat). */
const BLOCKED_DETECTED: ReadonlySet<string> = new Set(['jar', 'apk', 'lnk']);

const MACRO_EXTENSIONS: ReadonlySet<string> = new Set(['docm', 'dotm', 'xlsm', 'xltm', 'xlam', 'pptm', 'potm', 'ppam', 'ppsm', 'sldm']);

export interface DetectedType {
  readonly ext: string;
  readonly mime: string;
}

export interface AttachmentFacts {
  readonly filename: string;
  readonly declaredType: string;
  readonly sizeBytes: number;
  /** Absent when only the size is known (checked before the bytes are read). */
  readonly bytes?: Buffer;
  /** From sniffType(); undefined when file-type does not know the format (e.g. plain text). */
  readonly detected?: DetectedType | undefined;
}

export type Verdict = { readonly status: 'OK'; readonly message: null } | { readonly status: 'WARNING' | 'ERROR'; readonly message: string };

const OK: Verdict = Object.freeze({ status: 'OK', message: null });
const error = (message: string): Verdict => ({ status: 'ERROR', message });
const warning = (message: string): Verdict => ({ status: 'WARNING', message });

/** file-type's verdict on the bytes. Its ZIP probing is bounded (1 MiB per entry, 1,024 entries). */
export async function sniffType(bytes: Buffer): Promise<DetectedType | undefined> {
  const found = await fileTypeFromBuffer(bytes);
  // file-type calls anything starting with "MZ" an executable; text can start that way too.
  if (!found || (found.ext === 'exe' && executableFormat(bytes) === null)) return undefined;
  return { ext: found.ext, mime: found.mime };
}

/** What judge() found: the verdict, and the type the bytes are (null when unknown or not looked at). */
export interface Judgement {
  readonly verdict: Verdict;
  readonly detectedType: string | null;
}

/** The facts of bytes in hand, as judge() takes them (a worker thread gets them this way too). */
export type JudgeRequest = Required<Pick<AttachmentFacts, 'filename' | 'declaredType' | 'sizeBytes' | 'bytes'>> & { readonly limits: PolicyLimits };

/**
 * The policy's verdict on an attachment's bytes: errors that need no sniffing
 * (executables, blocked names, ZIP bombs, nested archives) are settled before
 * file-type reads anything, then the type is sniffed and weighed. CPU work
 * (a nested archive is inflated, within `limits.zip.nested`): the worker runs
 * it in a parse thread (ingest/map-pool.ts), off the event loop.
 */
export async function judge(req: JudgeRequest): Promise<Judgement> {
  const { limits, ...facts } = req;
  const inside = checkBytes(facts, limits);
  if ('status' in inside) return { verdict: inside, detectedType: null };
  const detected = await sniffType(facts.bytes);
  return { verdict: weigh({ ...facts, detected }, inside), detectedType: detected?.mime ?? null };
}

export function assess(facts: AttachmentFacts, limits: PolicyLimits = DEFAULT_POLICY_LIMITS): Verdict {
  const inside = checkBytes(facts, limits);
  return 'status' in inside ? inside : weigh(facts, inside);
}

/** What checkBytes learnt of bytes it let through, for weigh(). */
export interface ByteFacts {
  readonly ext: string;
  readonly zip: ZipFacts | null;
}

/**
 * The errors that need the bytes but not their sniffed type — size, executable
 * bytes, blocked names, ZIP bombs and what the archives inside hold (inflated,
 * within limits) — or what weigh() needs of them. Run once per attachment.
 */
function checkBytes(facts: AttachmentFacts, limits: PolicyLimits): Verdict | ByteFacts {
  const bytes = facts.bytes ?? Buffer.alloc(0);
  const start = checkStart(facts, bytes, limits);
  if ('status' in start) return start;
  const { ext } = start;

  // A ZIP by its first bytes, or by a directory at its end behind anything else (extractors find it there).
  const startsAsZip = looksLikeZip(bytes);
  const read = startsAsZip || hasZipDirectory(bytes) ? readZipDirectory(bytes, limits.zip) : null;
  // An unreadable directory found only by scanning the tail is most likely four chance bytes, not an archive.
  if (read?.kind === 'unreadable' && startsAsZip) return error(`The archive cannot be read: ${read.reason}.`);
  const zip = read?.kind === 'zip' ? read : null;
  if (zip) {
    const bomb = zipBomb(zip, facts.sizeBytes, limits.zip);
    if (bomb) return error(bomb);
    const blocked = zip.names.find(isBlockedName);
    if (blocked !== undefined) return error(`The archive contains a blocked file type: ${entryNameText(blocked)}.`);
    const nested = nestedArchiveProblem(bytes, zip, { limits: limits.zip.nested, describe: formatPair, blockedName: isBlockedName });
    if (nested) return error(nested);
  }
  return { ext, zip };
}

/** The checks of checkBytes that read the name and the first bytes only: the size, executable bytes, a blocked extension. */
function checkStart(facts: Pick<AttachmentFacts, 'filename' | 'sizeBytes'>, start: Buffer, limits: PolicyLimits): Verdict | { ext: string } {
  const size = checkSize(facts.sizeBytes, limits);
  if (size) return size;
  const ext = fileExtension(facts.filename);
  const exec = executableFormat(start);
  if (exec) return error(`Blocked file type: the bytes are ${exec}.`);
  if (BLOCKED_EXTENSIONS.has(ext)) return error(`Blocked file type: .${ext} files can run code when opened.`);
  return { ext };
}

/**
 * The two ends of a file too large to hold whole (processor.ts reads them
 * while it checks the bytes against their hash): what checkEnds reads.
 */
export interface FileEnds {
  /** The first ENDS_HEAD_BYTES (all of a smaller file). */
  readonly head: Buffer;
  /** The last ENDS_TAIL_BYTES: the window hasZipDirectory searches. */
  readonly tail: Buffer;
}

export const ENDS_HEAD_BYTES = 64 * 1024;
export const ENDS_TAIL_BYTES = 22 + 0xffff;

/**
 * checkBytes from a file's ends, with the same result, or null where only the
 * whole file can tell: it may be an archive (a ZIP by its first bytes or by a
 * directory at its end: its entries are read from the whole), or an MZ header
 * points past the head. The type is then sniffed from a stream of the file
 * (file-type reads forward only, as far as the format needs) and weighed by
 * weighEnds.
 */
export function checkEnds(facts: Omit<AttachmentFacts, 'bytes' | 'detected'> & FileEnds, limits: PolicyLimits): Verdict | ByteFacts | null {
  const { head, tail } = facts;
  if (looksLikeZip(head) || hasZipDirectory(tail)) return null;
  // An MZ header's new-style header is looked for where it points: past the head, only the whole has it.
  if (head.length >= 64 && head[0] === 0x4d && head[1] === 0x5a) {
    const at = head.readUInt32LE(0x3c) + 4;
    if (at > head.length && at <= facts.sizeBytes) return null;
  }
  const start = checkStart(facts, head, limits);
  return 'status' in start ? start : { ext: start.ext, zip: null };
}

/** weigh() for what checkEnds let through; `sniffed` is file-type's finding on the whole stream (sniffType's rules). */
export function weighEnds(facts: Omit<AttachmentFacts, 'bytes' | 'detected'> & FileEnds, inside: ByteFacts, sniffed: DetectedType | undefined): Judgement {
  const detected = sniffed && !(sniffed.ext === 'exe' && executableFormat(facts.head) === null) ? sniffed : undefined;
  return { verdict: weigh({ ...facts, bytes: facts.head, detected }, inside), detectedType: detected?.mime ?? null };
}

/** The rest of the verdict on bytes checkBytes let through, with the type file-type found (if any). */
function weigh(facts: AttachmentFacts, { ext, zip }: ByteFacts): Verdict {
  if (facts.detected && BLOCKED_DETECTED.has(facts.detected.ext)) return error(`Blocked file type: the bytes are ${describeType(facts.detected.mime, facts.detected.ext)}.`);
  const macro =
    MACRO_EXTENSIONS.has(ext) || (facts.detected !== undefined && MACRO_EXTENSIONS.has(facts.detected.ext)) || (zip?.names.some((n) => /(^|\/)vbaproject\.bin$/i.test(n)) ?? false);
  if (macro) return warning('The file is a macro-enabled Office document, whose macros can run code when it is opened.');
  if (zip?.encrypted) return warning('The archive is password-protected, so its contents could not be checked.');
  const mismatch = typeMismatch(facts, ext);
  return mismatch ? warning(mismatch) : OK;
}

/** The size rule alone: the processor applies it before reading the bytes. */
export function checkSize(sizeBytes: number, limits: PolicyLimits = DEFAULT_POLICY_LIMITS): Verdict | null {
  if (sizeBytes <= limits.maxBytes) return null;
  const [size, limit] = formatPair(sizeBytes, limits.maxBytes);
  return error(`The attachment is ${size}, which exceeds the ${limit} limit.`);
}

function isBlockedName(name: string): boolean {
  return BLOCKED_EXTENSIONS.has(fileExtension(name));
}

function zipBomb(zip: ZipFacts, archiveBytes: number, limits: ZipLimits): string | null {
  if (zip.entries > limits.maxEntries) return `The archive has ${zip.entries} entries, which exceeds the limit of ${limits.maxEntries} entries.`;
  if (zip.overlapping) return 'The archive\'s entries overlap, a trick only zip bombs use.';
  if (zip.uncompressedBytes > limits.maxUncompressedBytes) {
    const [size, limit] = formatPair(zip.uncompressedBytes, limits.maxUncompressedBytes);
    return `The archive unpacks to ${zip.stoppedEarly ? 'at least ' : ''}${size}, which exceeds the ${limit} limit.`;
  }
  const ratio = zip.uncompressedBytes / Math.max(1, archiveBytes);
  if (zip.uncompressedBytes >= limits.ratioFloorBytes && ratio > limits.maxRatio) {
    return `The archive's compression ratio of ${Math.round(ratio)}:1 exceeds the ${limits.maxRatio}:1 limit.`;
  }
  return null;
}

function typeMismatch(facts: AttachmentFacts, ext: string): string | null {
  const declared = normalizeType(facts.declaredType);
  // A generic declaration promises nothing; then the extension is what the recipient's computer will trust.
  const fromName = GENERIC_TYPES.has(declared);
  const expected = fromName ? EXTENSION_TYPES[ext] : declared;
  if (!expected) return null;
  const claim = fromName ? `Named .${ext}` : `Declared ${facts.declaredType.toLowerCase().split(';')[0]?.trim()}`;
  const detected = facts.detected;
  if (detected) {
    if (compatibleTypes(expected, normalizeType(detected.mime))) return null;
    return `${claim}, but the bytes are ${describeType(detected.mime, detected.ext)}.`;
  }
  if (STRONG_MAGIC.has(expected) && facts.bytes !== undefined) return `${claim}, but the bytes are not ${describeType(expected)}.`;
  return null;
}

/**
 * PE/NE/LE (an MZ header whose e_lfanew points at a new-style header), ELF,
 * Mach-O and universal Mach-O. Checked here rather than trusted to file-type,
 * which calls anything starting with "MZ" an executable, text included.
 */
export function executableFormat(bytes: Buffer): string | null {
  if (bytes.length >= 64 && bytes[0] === 0x4d && bytes[1] === 0x5a) {
    const header = bytes.readUInt32LE(0x3c);
    if (header + 4 <= bytes.length) {
      const sig = bytes.toString('latin1', header, header + 4);
      if (sig === 'PE\0\0' || /^(NE|LE|LX)/.test(sig)) return 'a Windows executable';
    }
  }
  if (bytes.length >= 4) {
    const magic = bytes.readUInt32BE(0);
    if (magic === 0x7f454c46) return 'a Linux (ELF) executable';
    if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe].includes(magic)) return 'a macOS (Mach-O) executable';
    // 0xCAFEBABE is also a Java class file, whose next word is a version number far above any architecture count.
    if (magic === 0xcafebabe && bytes.length >= 8) {
      const archs = bytes.readUInt32BE(4);
      if (archs > 0 && archs <= 30) return 'a macOS (Mach-O) executable';
    }
  }
  return null;
}

/** Lower-case extension without the dot; trailing dots and spaces go, as Windows drops them ("x.exe. " runs). */
export function fileExtension(filename: string): string {
  const name = filename.replace(/[.\s]+$/u, '').split(/[\\/]/).pop() ?? '';
  const dot = name.lastIndexOf('.');
  return dot > 0 || (dot === 0 && name.length > 1) ? name.slice(dot + 1).toLowerCase() : '';
}

/** "25 MiB" style; when both round to the same text the exact byte counts are shown instead. */
function formatPair(value: number, limit: number): [string, string] {
  const a = formatBytes(value);
  const b = formatBytes(limit);
  return a === b ? [`${value} bytes`, `${limit} bytes`] : [a, b];
}

export function formatBytes(n: number): string {
  const units: [number, string][] = [
    [1024 ** 4, 'TiB'],
    [1024 ** 3, 'GiB'],
    [MiB, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [size, unit] of units) {
    if (n >= size) {
      const v = n / size;
      return `${v.toFixed(1).replace(/\.0$/, '')} ${unit}`;
    }
  }
  return `${n} bytes`;
}

