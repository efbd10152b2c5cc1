// A large mail parsed from a temporary file (RawFile) gives exactly what the
// same bytes give in memory: the header and the charset hints from its first
// MiBs, the body streamed with the same charset marks; the cases that need the
// whole message (bare CR line endings, no header block) read it whole. A read
// that fails is the machine's failure (STORAGE_FAILED), never the mail's.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bufferBytes } from '../../../../src/mail/body-charset.js';
import { parseMail } from '../../../../src/mail/parse.js';
import { RawFile } from '../../../../src/mail/raw-file.js';
import type { AttachmentSink, StoredBlobRef } from '../../../../src/mail/types.js';

const MB = 1024 * 1024;
const opened: RawFile[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((f) => f.close()));
});

async function spooled(raw: Buffer, chunk = 100_003): Promise<RawFile> {
  const f = await RawFile.spool((async function* () {
    for (let at = 0; at < raw.length; at += chunk) yield raw.subarray(at, at + chunk);
  })());
  opened.push(f);
  return f;
}

/** A sink that keeps what it is given by hash: the same refs whichever way the mail was read. */
function memorySink(): AttachmentSink {
  return {
    thresholdBytes: MB,
    async store(content: Readable): Promise<StoredBlobRef> {
      const chunks: Buffer[] = [];
      for await (const c of content) chunks.push(c as Buffer);
      const bytes = Buffer.concat(chunks);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      return { key: `sha256/${sha256}`, sha256, size: bytes.length };
    },
  };
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const base64Lines = (bytes: Buffer) => bytes.toString('base64').replace(/.{76}/g, '$&\r\n');

/** A mail of ~12 MB: a big attachment first, then the parts whose headers the charset marks edit. */
function bigMail(): Buffer {
  const big = randomBytes(9 * MB);
  return Buffer.concat([
    latin1(
      'From: =?utf-8?q?J=C3=B6rg?= <joerg@example.com>\r\nTo: help@example.net\r\nSubject: Gr\xfc\xdfe, big scan\r\n' +
        'Message-ID: <big-1@example.com>\r\nDate: Mon, 7 Dec 2026 05:00:00 +0000\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: multipart/mixed; boundary="outer"\r\n\r\npreamble\r\n' +
        '--outer\r\nContent-Type: application/pdf; name="scan.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n',
    ),
    Buffer.from(base64Lines(big)),
    latin1(
      '\r\n--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n' +
        '--inner\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nK\xf6ln, \x93quoted\x94\r\n' +
        '--inner\r\nContent-Type: text/html\r\n\r\n<p>K\xf6ln</p>\r\n--inner--\r\n' +
        '--outer\r\nContent-Type: text/plain; name="na\xefve.txt"\r\nContent-Disposition: attachment; filename="na\xefve.txt"\r\n\r\nno charset \xe9\r\n' +
        '--outer\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@example.com\r\nSubject: inner\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nstays \xe9 as sent\r\n' +
        '--outer--\r\n',
    ),
  ]);
}

describe('RawFile', () => {
  it('reads as a Buffer does through its window, matches across window edges included', async () => {
    const bytes = Buffer.alloc(600 * 1024, 'A');
    const needle = '\n--';
    // Around the edges of the 64 KiB window wherever it starts (0, or the offset of a view), and the end.
    const edges = [64 * 1024, 128 * 1024, 256 * 1024, 64 * 1024 + 7, 128 * 1024 + 7].flatMap((e) => [e - 3, e - 2, e - 1, e]);
    for (const at of [0, 5, ...edges, 512 * 1024 - 2, bytes.length - 3]) bytes.write(needle, at, 'latin1');
    bytes[300_000] = 0x0a;
    const file = await spooled(bytes);
    expect(file.length).toBe(bytes.length);
    // Open, but without a name: a crash leaves nothing in the temporary directory.
    const links = readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
    expect(links.filter((l) => l.includes('mailroom-raw-')).every((l) => l.endsWith('(deleted)'))).toBe(true);
    expect(links.some((l) => l.includes('mailroom-raw-'))).toBe(true);
    for (const offset of [0, 7]) {
      const view = file.view(offset);
      const mem = bufferBytes(bytes.subarray(offset));
      expect(view.length).toBe(mem.length);
      for (let from = 0; from >= 0 && from < mem.length; ) {
        const want = mem.indexOf(needle, from);
        expect(view.indexOf(needle, from)).toBe(want);
        from = want < 0 ? -1 : want + 1;
      }
      for (const from of [0, 262_140, 299_999, 300_001]) expect(view.indexOf(0x0a, from)).toBe(mem.indexOf(0x0a, from));
      for (const i of [0, 262_143, 262_144, 599 * 1024, mem.length, -1]) expect(view.byte(i)).toBe(mem.byte(i));
      expect(view.latin1(262_100, 262_200)).toBe(mem.latin1(262_100, 262_200));
      expect(view.bytes(10, 20).equals(mem.bytes(10, 20))).toBe(true);
    }
    expect((await file.read()).equals(bytes)).toBe(true);
    const streamed: Buffer[] = [];
    for await (const c of file.stream()) streamed.push(c as Buffer);
    expect(Buffer.concat(streamed).equals(bytes)).toBe(true);
  });

  it('fails with STORAGE_FAILED once closed, and when its source fails passes that error on', async () => {
    const file = await spooled(Buffer.from('abc'));
    await file.close();
    expect(() => file.readSync(0, 3)).toThrow(expect.objectContaining({ code: 'STORAGE_FAILED' }) as Error);
    await expect(file.read()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    const broken = (async function* () {
      yield Buffer.from('partial');
      throw new Error('connection reset');
    })();
    await expect(RawFile.spool(broken)).rejects.toThrow('connection reset');
  });
});

describe('parseMail on a RawFile', () => {
  it('gives what the same bytes give in memory: header, charset marks, parts after a 9 MB attachment', async () => {
    const raw = bigMail();
    const inMemory = await parseMail(raw, {}, memorySink());
    const file = await spooled(raw);
    const readWhole = vi.spyOn(file, 'read');
    const fromFile = await parseMail(file, {}, memorySink());
    expect(fromFile).toEqual(inMemory);
    // Streamed, not read into memory after all.
    expect(readWhole).not.toHaveBeenCalled();
    // The marks did their work on the file too: the body in us-ascii with Latin-1 bytes is read, not replaced.
    expect(fromFile.text).toContain('Köln, “quoted”');
    expect(fromFile.subject).toBe('Grüße, big scan');
    expect(fromFile.attachments.map((a) => a.filename)).toEqual(['scan.pdf', 'naïve.txt', 'inner.eml']);
    expect(fromFile.rawSize).toBe(raw.length);
  });

  it('reads whole what needs the whole message: bare CR line endings, no header block', async () => {
    const crOnly = Buffer.from(bigMail().toString('latin1').replaceAll('\r\n', '\r'), 'latin1');
    const crFile = await spooled(crOnly);
    const crRead = vi.spyOn(crFile, 'read');
    expect(await parseMail(crFile, {}, memorySink())).toEqual(await parseMail(crOnly, {}, memorySink()));
    expect(crRead).toHaveBeenCalledOnce();
    const noHeader = Buffer.from(`just some text, no header\r\n${'lorem ipsum dolor sit amet\r\n'.repeat(400_000)}`);
    const textFile = await spooled(noHeader);
    const textRead = vi.spyOn(textFile, 'read');
    const fromFile = await parseMail(textFile);
    expect(fromFile).toEqual(await parseMail(noHeader));
    expect(textRead).toHaveBeenCalledOnce();
    expect(fromFile.warnings).toContain('no header block found: read as text from an unknown sender');
  });

  it('fails with STORAGE_FAILED, not as a bad mail, when the file cannot be read, at its head or mid-body', async () => {
    const file = await spooled(bigMail());
    await file.close();
    await expect(parseMail(file)).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    // Closed while the body streams: the 9 MB attachment's sink closes it on its first bytes.
    const other = await spooled(bigMail());
    const sink = memorySink();
    const closing: AttachmentSink = { thresholdBytes: sink.thresholdBytes, store: async (content) => (await other.close(), sink.store(content)) };
    await expect(parseMail(other, {}, closing)).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
  });
});
