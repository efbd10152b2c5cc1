// Names and families of MIME types, for the policy's messages and its
// "declared vs detected" comparison. Mail clients label the same format in
// several ways (image/jpg, application/x-zip-compressed, application/msword
// for any OLE file), so the comparison works on families, not strings.

/** Declared types that say nothing about the content: never a mismatch. */
export const GENERIC_TYPES = new Set([
  '',
  'application/octet-stream',
  'binary/octet-stream',
  'application/binary',
  'application/x-binary',
  'application/unknown',
  'application/download',
  'application/x-download',
  'application/force-download',
]);

const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'image/x-ms-bmp': 'image/bmp',
  'image/x-bmp': 'image/bmp',
  'image/tif': 'image/tiff',
  'application/x-pdf': 'application/pdf',
  'application/acrobat': 'application/pdf',
  'application/x-zip-compressed': 'application/zip',
  'application/x-zip': 'application/zip',
  'application/x-gzip': 'application/gzip',
  'application/x-rar': 'application/x-rar-compressed',
  'application/vnd.rar': 'application/x-rar-compressed',
  'audio/mp3': 'audio/mpeg',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'text/xml': 'application/xml',
  'application/x-msdos-program': 'application/x-msdownload',
  'application/x-dosexec': 'application/x-msdownload',
  'application/vnd.microsoft.portable-executable': 'application/x-msdownload',
};

/** Lower case, no parameters, common aliases folded. */
export function normalizeType(contentType: string | null | undefined): string {
  const t = (contentType ?? '').toLowerCase().split(';')[0]?.trim() ?? '';
  return ALIASES[t] ?? t;
}

/** Every ZIP-based format (Office Open XML, OpenDocument, Java and Android archives, EPUB) is also a ZIP. */
function isZipFamily(type: string): boolean {
  return (
    type === 'application/zip' ||
    type.includes('openxmlformats') ||
    type.includes('macroenabled') ||
    type.includes('opendocument') ||
    ['application/java-archive', 'application/vnd.android.package-archive', 'application/epub+zip', 'application/vnd.ms-xpsdocument'].includes(type)
  );
}

/** file-type reports every OLE compound file (.doc, .xls, .ppt, .msg, .msi) as application/x-cfb. */
function isCfbFamily(type: string): boolean {
  return ['application/x-cfb', 'application/msword', 'application/vnd.ms-excel', 'application/vnd.ms-powerpoint', 'application/vnd.ms-outlook', 'application/vnd.visio'].includes(type);
}

/** Whether the declared (or extension-implied) type and the sniffed one are the same format. */
export function compatibleTypes(expected: string, detected: string): boolean {
  if (expected === detected) return true;
  if (isZipFamily(expected) && isZipFamily(detected)) return true;
  if (isCfbFamily(expected) && isCfbFamily(detected)) return true;
  // Same family of container where file-type is coarser than mail clients (e.g. audio/x-m4a vs audio/mp4).
  const [eTop, eSub = ''] = expected.split('/');
  const [dTop, dSub = ''] = detected.split('/');
  return eTop === dTop && (eSub.replace(/^x-/, '') === dSub.replace(/^x-/, '') || (eTop === 'audio' && dSub === 'mp4') || (eTop === 'video' && dSub === 'mp4'));
}

/**
 * Types file-type always recognises from their magic bytes: declared as one of
 * these, bytes it cannot identify are not that format. (Text formats are left
 * out: they have no magic bytes, and "undetected" says nothing about them.)
 */
export const STRONG_MAGIC = new Set([
  'application/pdf',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/bmp',
  'image/tiff',
  'application/zip',
  'application/gzip',
  'application/x-7z-compressed',
  'application/x-rar-compressed',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
]);

/** What a file name's extension promises, for mail that declares only application/octet-stream. */
export const EXTENSION_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  zip: 'application/zip',
  gz: 'application/gzip',
  '7z': 'application/x-7z-compressed',
  rar: 'application/x-rar-compressed',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

const NAMES: Record<string, string> = {
  'application/pdf': 'a PDF',
  'image/png': 'a PNG image',
  'image/jpeg': 'a JPEG image',
  'image/gif': 'a GIF image',
  'image/webp': 'a WebP image',
  'image/bmp': 'a BMP image',
  'image/tiff': 'a TIFF image',
  'image/heic': 'a HEIC image',
  'application/zip': 'a ZIP archive',
  'application/gzip': 'a gzip archive',
  'application/x-7z-compressed': 'a 7-Zip archive',
  'application/x-rar-compressed': 'a RAR archive',
  'application/x-msdownload': 'a Windows executable',
  'application/x-elf': 'a Linux (ELF) executable',
  'application/x-mach-binary': 'a macOS (Mach-O) executable',
  'application/java-archive': 'a Java program (JAR)',
  'application/vnd.android.package-archive': 'an Android app (APK)',
  'application/x-ms-shortcut': 'a Windows shortcut',
  'application/x-apple-diskimage': 'a macOS disk image',
  'application/x-cfb': 'a legacy Office (OLE) file',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'a Word document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'an Excel workbook',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'a PowerPoint presentation',
};

/** "a PDF", "a PNG image"; for anything else the extension ("a file of type MP4") or the bare type. */
export function describeType(type: string, ext?: string): string {
  const known = NAMES[normalizeType(type)];
  if (known) return known;
  if (ext) return `a file of type ${ext.toUpperCase()}`;
  return `${type} content`;
}
