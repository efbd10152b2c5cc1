// Turns whatever a sender put in a part's filename (or nothing) into a name
// that is safe to show and to store: never a path, no control or bidi-override
// characters, no leading dots, NFC, length-capped with its extension kept, and
// unique within the mail. Attachment file names are attacker-controlled
// (PRODUCT.md "Hostile and huge mail": they never reach a file path unchanged).

import libmime from 'libmime';

export interface FilenameLimits {
  /** Longest name in characters, extension included (default 150). */
  maxChars: number;
  /** Longest extension kept when a name is shortened (default 16). */
  maxExtensionChars: number;
}

export const DEFAULT_FILENAME_LIMITS: FilenameLimits = { maxChars: 150, maxExtensionChars: 16 };

export interface NameRequest {
  /** The name the part declared, if any (already decoded from RFC 2047 / 2231). */
  filename?: string | null | undefined;
  /** Lower-case MIME type, e.g. `image/png`. */
  contentType: string;
  /** For `message/rfc822` parts: the forwarded mail's subject, used as `<subject>.eml` (for returned headers, `<subject>.txt`). */
  subject?: string | null | undefined;
  /** The part's Content-ID (without brackets): `image001.jpg@01D9…` names an unnamed inline image `image001.jpg`. */
  contentId?: string | null | undefined;
}

// Parts of a delivery or read report, which never carry a name (RFC 3464, 8098, 5965).
const REPORT_PARTS: ReadonlyMap<string, string> = new Map([
  ['message/delivery-status', 'delivery-status.txt'],
  ['message/global-delivery-status', 'delivery-status.txt'],
  ['message/disposition-notification', 'disposition-notification.txt'],
  ['message/global-disposition-notification', 'disposition-notification.txt'],
  ['message/feedback-report', 'feedback-report.txt'],
]);
const RETURNED_HEADERS = new Set(['text/rfc822-headers', 'message/global-headers']);

/**
 * The file name in a Content-ID's left-hand side, as Outlook and Apple Mail
 * write them for inline images (`image001.jpg@01D9A2B3.C4D5E6F0`,
 * `logo.png@example.com`): a stem and a letter-led extension, no spaces.
 * Ids that are only numbers and dots (`part1.06090408.01060107@…`) are not names.
 */
export function contentIdName(contentId: string | null | undefined): string {
  const left = (contentId ?? '').replace(/^<|>$/g, '').split('@')[0] ?? '';
  return /^[\p{L}\p{N}_-][\p{L}\p{N}_. -]{0,100}\.[a-z][a-z0-9]{1,4}$/iu.test(left) ? left : '';
}

// Characters never kept in a name: C0/C1 controls, DEL, path separators, the
// characters Windows refuses, and format characters used for spoofing
// (bidi overrides such as U+202E turn "gpj.exe" into "exe.jpg" on screen).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f<>:"|?*\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

/** File extension (without dot) for a MIME type, `bin` when unknown. */
export function extensionForType(contentType: string): string {
  const type = contentType.toLowerCase().split(';')[0]?.trim() ?? '';
  if (type === 'message/delivery-status' || type === 'message/disposition-notification' || type === 'text/rfc822-headers') {
    return 'txt';
  }
  if (type === 'image/jpeg') return 'jpg';
  try {
    const ext = libmime.detectExtension(type);
    return /^[a-z0-9]{1,10}$/i.test(ext) ? ext.toLowerCase() : 'bin';
  } catch {
    return 'bin';
  }
}

/** Cleans one name; returns '' when nothing usable is left. */
export function sanitizeFilename(input: string, limits: FilenameLimits = DEFAULT_FILENAME_LIMITS): string {
  // Keep the last path segment only: "C:\\Users\\me\\a.pdf" -> "a.pdf", "../../etc/passwd" -> "passwd".
  const cut = Math.max(input.lastIndexOf('/'), input.lastIndexOf('\\'));
  let name = cut === -1 ? input : input.slice(cut + 1);
  // Bound the work before any regex runs, keeping the tail (the extension).
  const bound = limits.maxChars * 4;
  if (name.length > bound) name = name.slice(0, bound - limits.maxExtensionChars - 1) + name.slice(-(limits.maxExtensionChars + 1));
  name = name.normalize('NFC').replace(/[\t\n\r\f\v]+/g, ' ');
  name = name.replace(UNSAFE, '_').replace(/\s+/g, ' ').trim();
  name = name.replace(/^[.\s_]+/, '').replace(/[.\s]+$/, '');
  if (name === '' || /^_*$/.test(name)) return '';
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`;
  return capLength(name, limits);
}

function splitExtension(name: string, maxExt: number): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || name.length - dot - 1 > maxExt || dot === name.length - 1) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}

function capLength(name: string, limits: FilenameLimits): string {
  const chars = Array.from(name);
  if (chars.length <= limits.maxChars) return name;
  const { stem, ext } = splitExtension(name, limits.maxExtensionChars);
  const room = Math.max(1, limits.maxChars - Array.from(ext).length);
  return Array.from(stem).slice(0, room).join('').trimEnd() + ext;
}

/** The name to use for one part when the sender gave none (or only an unusable one). */
export function generatedName(req: NameRequest, limits: FilenameLimits = DEFAULT_FILENAME_LIMITS): string {
  const type = req.contentType.toLowerCase();
  if (type === 'message/rfc822' || type === 'message/global') {
    // A subject is not a path: its slashes are kept as dashes, not cut at.
    const fromSubject = sanitizeFilename((req.subject ?? '').slice(0, limits.maxChars * 8).replace(/[/\\]/g, '-'), { ...limits, maxChars: Math.max(1, limits.maxChars - 4) });
    return `${fromSubject === '' ? 'forwarded message' : fromSubject}.eml`;
  }
  const report = REPORT_PARTS.get(type);
  if (report !== undefined) return report;
  if (RETURNED_HEADERS.has(type)) {
    const fromSubject = sanitizeFilename((req.subject ?? '').slice(0, limits.maxChars * 8).replace(/[/\\]/g, '-'), { ...limits, maxChars: Math.max(1, limits.maxChars - 4) });
    return `${fromSubject === '' ? 'returned headers' : fromSubject}.txt`;
  }
  const ext = extensionForType(type);
  if (type.startsWith('image/')) return `image.${ext}`;
  return `attachment.${ext}`;
}

/**
 * A safe, non-empty, unique name for every part, in order. The declared name
 * when there is one; else one from the Content-ID (inline images), the
 * subject (`message/rfc822`, returned headers) or the type. Duplicates
 * (case-insensitive) become `a (2).pdf`, `a (3).pdf`.
 */
export function safeAttachmentNames(parts: readonly NameRequest[], limits: Partial<FilenameLimits> = {}): string[] {
  const lim: FilenameLimits = { ...DEFAULT_FILENAME_LIMITS, ...limits };
  const used = new Set<string>();
  return parts.map((part) => {
    const type = part.contentType.toLowerCase();
    const isMessage = type === 'message/rfc822' || type === 'message/global';
    // A name the sender gave wins, an attached message's too (Gmail, Outlook and Apple Mail name it
    // after its subject themselves); an unnamed one is named after its subject.
    const declared = sanitizeFilename(part.filename ?? '', lim);
    const fromCid = declared === '' && !isMessage ? sanitizeFilename(contentIdName(part.contentId), lim) : '';
    const base = declared !== '' ? declared : fromCid !== '' ? fromCid : generatedName(part, lim);
    return makeUnique(base, used, lim);
  });
}

function makeUnique(base: string, used: Set<string>, limits: FilenameLimits): string {
  if (!used.has(base.toLowerCase())) {
    used.add(base.toLowerCase());
    return base;
  }
  const { stem, ext } = splitExtension(base, limits.maxExtensionChars);
  for (let n = 2; ; n++) {
    const suffix = ` (${n})`;
    const room = Math.max(1, limits.maxChars - Array.from(ext).length - suffix.length);
    const candidate = Array.from(stem).slice(0, room).join('').trimEnd() + suffix + ext;
    if (!used.has(candidate.toLowerCase())) {
      used.add(candidate.toLowerCase());
      return candidate;
    }
  }
}
