import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_LIMITS, assess, checkSize, executableFormat, fileExtension, formatBytes, policyLimits, sniffType, type AttachmentFacts } from '../../../src/attachments/policy.js';
import { hasZipDirectory } from '../../../src/attachments/zip.js';
import { PDF, PNG, buildZip, docm, elfExecutable, peExecutable } from '../../fixtures/attachments/samples.js';

const MiB = 1024 * 1024;

/** The processor's path: facts from the bytes, the type sniffed by file-type. */
async function judge(filename: string, declaredType: string, bytes: Buffer, limits = DEFAULT_POLICY_LIMITS) {
  const facts: AttachmentFacts = { filename, declaredType, sizeBytes: bytes.length, bytes, detected: await sniffType(bytes) };
  return assess(facts, limits);
}

describe('attachment policy', () => {
  it('accepts a PDF and a PNG that are what they say', async () => {
    expect(await judge('report.pdf', 'application/pdf', PDF)).toEqual({ status: 'OK', message: null });
    expect(await judge('photo.png', 'image/png', PNG)).toEqual({ status: 'OK', message: null });
    expect(await judge('photo.png', 'IMAGE/PNG; name="photo.png"', PNG)).toEqual({ status: 'OK', message: null });
    expect(await judge('notes.txt', 'text/plain', Buffer.from('MZ is how our report starts, and it is text'))).toEqual({ status: 'OK', message: null });
  });

  it('refuses an executable renamed .pdf, by its bytes', async () => {
    expect(await judge('invoice.pdf', 'application/pdf', peExecutable())).toEqual({ status: 'ERROR', message: 'Blocked file type: the bytes are a Windows executable.' });
    expect(await judge('data.bin', 'application/octet-stream', elfExecutable())).toEqual({ status: 'ERROR', message: 'Blocked file type: the bytes are a Linux (ELF) executable.' });
    expect(executableFormat(Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]))).toBe('a macOS (Mach-O) executable');
    // A Java class file shares the universal Mach-O magic but not its small architecture count.
    expect(executableFormat(Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]))).toBeNull();
  });

  it('refuses scripts and installers by extension, whatever the bytes', async () => {
    for (const name of ['run.bat', 'x.JS', 'macro.vbs', 'setup.msi', 'tool.ps1', 'app.jar', 'x.exe. ', 'evil.scr']) {
      const verdict = await judge(name, 'text/plain', Buffer.from('echo hello'));
      expect(verdict.status, name).toBe('ERROR');
      expect(verdict.message).toMatch(/^Blocked file type: \.[a-z0-9]+ files can run code when opened\.$/);
    }
    expect(fileExtension('x.exe. ')).toBe('exe');
    expect(fileExtension('archive.tar.gz')).toBe('gz');
    expect(fileExtension('README')).toBe('');
  });

  it('warns when the declared type is not what the bytes are, in words', async () => {
    expect(await judge('scan.png', 'image/png', PDF)).toEqual({ status: 'WARNING', message: 'Declared image/png, but the bytes are a PDF.' });
    expect(await judge('scan.pdf', 'application/pdf', Buffer.from('just some text'))).toEqual({ status: 'WARNING', message: 'Declared application/pdf, but the bytes are not a PDF.' });
    // With only a generic declaration, the extension is the promise.
    expect(await judge('scan.png', 'application/octet-stream', PDF)).toEqual({ status: 'WARNING', message: 'Named .png, but the bytes are a PDF.' });
    // Aliases and families are the same format.
    expect((await judge('a.jpg', 'image/jpg', PNG)).message).toBe('Declared image/jpg, but the bytes are a PNG image.');
    expect(await judge('files.zip', 'application/x-zip-compressed', buildZip([{ name: 'a.txt', data: Buffer.from('a') }]))).toEqual({ status: 'OK', message: null });
    expect(await judge('blob', 'application/octet-stream', PDF)).toEqual({ status: 'OK', message: null });
  });

  it('refuses an attachment over the size limit, naming the limit', () => {
    expect(checkSize(30 * MiB, DEFAULT_POLICY_LIMITS)).toEqual({ status: 'ERROR', message: 'The attachment is 30 MiB, which exceeds the 25 MiB limit.' });
    expect(checkSize(25 * MiB, DEFAULT_POLICY_LIMITS)).toBeNull();
    expect(checkSize(25 * MiB + 1, DEFAULT_POLICY_LIMITS)?.message).toBe('The attachment is 26214401 bytes, which exceeds the 26214400 bytes limit.');
    expect(assess({ filename: 'big.pdf', declaredType: 'application/pdf', sizeBytes: 2048 }, policyLimits(1000)).message).toBe('The attachment is 2 KiB, which exceeds the 1000 bytes limit.');
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });

  it('warns about a macro-enabled Office document, by its content or its name', async () => {
    const bytes = docm();
    expect(await sniffType(bytes)).toMatchObject({ ext: 'docm' });
    const macro = { status: 'WARNING', message: 'The file is a macro-enabled Office document, whose macros can run code when it is opened.' };
    expect(await judge('letter.docm', 'application/vnd.ms-word.document.macroEnabled.12', bytes)).toEqual(macro);
    // Renamed .docx and declared as one: the vbaProject.bin still gives it away.
    expect(await judge('letter.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', bytes)).toEqual(macro);
    expect(await judge('budget.xlsm', 'application/octet-stream', Buffer.from('not even a zip'))).toEqual(macro);
  });

  it('warns about an encrypted archive, and refuses one holding a blocked file', async () => {
    const encrypted = buildZip([{ name: 'secret.txt', data: Buffer.from('xxxxxxxxxxxx'), encrypted: true }]);
    expect(await judge('secret.zip', 'application/zip', encrypted)).toEqual({ status: 'WARNING', message: 'The archive is password-protected, so its contents could not be checked.' });
    const dropper = buildZip([{ name: 'readme.txt', data: Buffer.from('hi') }, { name: 'docs/invoice.pdf.exe', data: peExecutable() }]);
    expect(await judge('invoice.zip', 'application/zip', dropper)).toEqual({ status: 'ERROR', message: 'The archive contains a blocked file type: docs/invoice.pdf.exe.' });
    const longName = buildZip([{ name: `${'a'.repeat(296)}.exe`, data: peExecutable() }]);
    expect(await judge('long.zip', 'application/zip', longName)).toMatchObject({ status: 'ERROR', message: expect.stringMatching(/^The archive contains a blocked file type: …a+\.exe\.$/) });
    const truncated = buildZip([{ name: 'a.txt', data: Buffer.from('a') }]).subarray(0, 40);
    expect(await judge('cut.zip', 'application/zip', truncated)).toEqual({ status: 'ERROR', message: 'The archive cannot be read: it has no central directory (truncated or not a ZIP archive).' });
  });
});

describe('archives behind other bytes', () => {
  // unzip and 7-Zip find an archive by the directory at its end, whatever precedes it.
  const dropper = buildZip([{ name: 'evil.exe', data: peExecutable() }]);
  const blocked = { status: 'ERROR', message: 'The archive contains a blocked file type: evil.exe.' };

  it('reads a ZIP with junk or another format\'s header in front of it', async () => {
    expect(await judge('evil.zip', 'application/zip', Buffer.concat([Buffer.from([0]), dropper]))).toEqual(blocked);
    const gif = Buffer.concat([Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), dropper]);
    expect(await judge('cat.gif', 'image/gif', gif)).toEqual(blocked);
  });

  it('ignores the directory signature appearing by chance in other bytes', async () => {
    const pdf = Buffer.concat([PDF, Buffer.from('PK\x05\x06 not a directory', 'latin1'), Buffer.alloc(40)]);
    expect(await judge('report.pdf', 'application/pdf', pdf)).toEqual({ status: 'OK', message: null });
  });
});

describe('zip bombs', () => {
  /** Refused from the central directory alone, nothing inflated (`npm run bench` measures the cost). */
  async function refusedQuickly(bytes: Buffer): Promise<string> {
    const verdict = await judge('bomb.zip', 'application/zip', bytes);
    expect(verdict.status).toBe('ERROR');
    return verdict.message ?? '';
  }

  it('refuses many highly compressed entries by their compression ratio', async () => {
    const zeros = Buffer.alloc(8 * MiB);
    const bomb = buildZip(Array.from({ length: 16 }, (_, i) => ({ name: `zeros-${i}.bin`, data: zeros, deflate: true })));
    expect(bomb.length).toBeLessThan(200 * 1024);
    expect(await refusedQuickly(bomb)).toMatch(/^The archive's compression ratio of \d+:1 exceeds the 100:1 limit\.$/);
  });

  it('refuses a huge declared unpacked size', async () => {
    const bomb = buildZip([{ name: 'a.bin', data: Buffer.from('x'), declaredSize: 5 * 1024 ** 3 }]);
    expect(await refusedQuickly(bomb)).toBe('The archive unpacks to 5 GiB, which exceeds the 1 GiB limit.');
    const many = buildZip(Array.from({ length: 300 }, (_, i) => ({ name: `p${i}`, data: Buffer.from('x'), declaredSize: 4 * MiB })));
    expect(await refusedQuickly(many)).toBe('The archive unpacks to at least 1077936128 bytes, which exceeds the 1073741824 bytes limit.');
  });

  it('refuses too many entries before walking them', async () => {
    const bomb = buildZip(Array.from({ length: 20_000 }, (_, i) => ({ name: `${i}` })));
    expect(await refusedQuickly(bomb)).toBe('The archive has 20000 entries, which exceeds the limit of 10000 entries.');
  });

  it('refuses overlapping entries (one deflate stream counted many times)', async () => {
    const bomb = buildZip([{ name: 'a', data: Buffer.alloc(1024), deflate: true }, ...Array.from({ length: 50 }, (_, i) => ({ name: `b${i}`, data: Buffer.alloc(1024), deflate: true, sameDataAs: 0 }))]);
    expect(await refusedQuickly(bomb)).toBe('The archive\'s entries overlap, a trick only zip bombs use.');
  });
});

describe('hasZipDirectory', () => {
  // The reference: every offset of the window, as unzip reads it (the signature's first byte at last - 0xffff … last).
  const byLoop = (bytes: Buffer) => {
    const last = bytes.length - 22;
    for (let i = last; i >= Math.max(0, last - 0xffff); i--) if (bytes.readUInt32LE(i) === 0x06054b50) return true;
    return false;
  };
  const withSignatureAt = (size: number, at: number) => {
    const bytes = Buffer.alloc(size, 0x41);
    if (at >= 0) bytes.writeUInt32LE(0x06054b50, at);
    return bytes;
  };

  it('finds the end record exactly where extractors look for it, and nowhere else', () => {
    const size = 200_000;
    const last = size - 22;
    for (const at of [-1, last, last - 0xffff, last - 0xffff - 1, last + 1, size - 4, 0, 5_000]) {
      const bytes = withSignatureAt(size, at);
      expect(hasZipDirectory(bytes), `signature at ${at}`).toBe(byLoop(bytes));
    }
    expect(hasZipDirectory(withSignatureAt(size, last))).toBe(true);
    expect(hasZipDirectory(withSignatureAt(size, last - 0xffff))).toBe(true);
    expect(hasZipDirectory(withSignatureAt(size, last - 0xffff - 1))).toBe(false);
    expect(hasZipDirectory(withSignatureAt(size, last + 1))).toBe(false);
  });

  it('reads small and empty inputs without going out of bounds', () => {
    for (const size of [0, 3, 21, 22, 25, 30]) {
      for (let at = -1; at <= size - 4; at++) {
        const bytes = withSignatureAt(size, at);
        expect(hasZipDirectory(bytes), `size ${size}, at ${at}`).toBe(byLoop(bytes));
      }
    }
  });
});
