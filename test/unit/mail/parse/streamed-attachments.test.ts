// parseMail with an attachment sink (mime-body.ts): attachments over its
// threshold reach the sink as a stream and come back by reference, the mail
// is otherwise parsed exactly as without one, and what the core reads after
// parsing (TNEF files, an attached message's subject) still works.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MailroomError } from '../../../../src/errors.js';
import { parseMail } from '../../../../src/mail/parse.js';
import type { AttachmentSink, InboundMail, StoredBlobRef } from '../../../../src/mail/types.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A sink that keeps what it is given, by key. */
function memorySink(thresholdBytes: number): AttachmentSink & { blobs: Map<string, Buffer> } {
  const blobs = new Map<string, Buffer>();
  return {
    thresholdBytes,
    blobs,
    async store(content: Readable): Promise<StoredBlobRef> {
      const chunks: Buffer[] = [];
      for await (const chunk of content) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      const key = `sha256/${sha256(bytes)}`;
      blobs.set(key, bytes);
      return { key, sha256: sha256(bytes), size: bytes.length };
    },
  };
}

function mailWith(parts: { headers: string; body: Buffer }[]): Buffer {
  const lines = ['From: Anna <anna@example.com>', 'To: support@acme.example', 'Subject: files', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'See attached.'];
  for (const p of parts) lines.push('--b', p.headers, 'Content-Transfer-Encoding: base64', '', p.body.toString('base64').replace(/.{76}/g, '$&\r\n'));
  lines.push('--b--', '');
  return Buffer.from(lines.join('\r\n'));
}

/** The mail with every attachment's bytes left out: what must not depend on the sink. */
const shape = (m: InboundMail) => ({ ...m, attachments: m.attachments.map(({ content: _c, stored: _s, ...rest }) => rest) });

describe('parseMail with an attachment sink', () => {
  it('streams attachments over the threshold to the sink and keeps the smaller ones, the mail otherwise unchanged', async () => {
    const large = randomBytes(1024 * 1024 + 1);
    const small = randomBytes(1024 * 1024);
    const raw = mailWith([
      { headers: 'Content-Type: application/pdf; name="large.pdf"', body: large },
      { headers: 'Content-Type: image/png; name="small.png"', body: small },
    ]);
    const sink = memorySink(1024 * 1024);
    const m = await parseMail(raw, {}, sink);
    const [a, b] = m.attachments;
    expect(a).toMatchObject({ filename: 'large.pdf', content: null, stored: { sha256: sha256(large), size: large.length }, size: large.length, sha256: sha256(large) });
    expect(sink.blobs.get(a!.stored!.key)?.equals(large)).toBe(true);
    expect(b).toMatchObject({ filename: 'small.png', stored: null, size: small.length, sha256: sha256(small) });
    expect(b?.content?.equals(small)).toBe(true);
    expect(shape(m)).toEqual(shape(await parseMail(raw)));
  });

  it('names a stored attached message after its subject, from the beginning it keeps', async () => {
    // Over HEAD_BYTES: stored, with only its beginning kept to read the subject from.
    const inner = Buffer.from(`From: Bob <bob@example.com>\r\nSubject: The original question\r\n\r\n${randomBytes(6 * 1024 * 1024).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`);
    const raw = mailWith([{ headers: 'Content-Type: message/rfc822', body: inner }]);
    const sink = memorySink(0);
    const m = await parseMail(raw, {}, sink);
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]).toMatchObject({ filename: 'The original question.eml', content: null, size: inner.length, sha256: sha256(inner) });
    expect(sink.blobs.get(m.attachments[0]!.stored!.key)?.equals(inner)).toBe(true);
    expect(shape(m)).toEqual(shape(await parseMail(raw)));
  });

  it('keeps a winmail.dat whole, whatever its size, and unpacks it', async () => {
    const tnef = fs.readFileSync(path.resolve(import.meta.dirname, '../../../fixtures/tnef/two-attachments.tnef'));
    const raw = mailWith([{ headers: 'Content-Type: application/ms-tnef; name="winmail.dat"', body: tnef }]);
    const sink = memorySink(0);
    const m = await parseMail(raw, {}, sink);
    expect(sink.blobs.size).toBe(0);
    expect(m.attachments.length).toBeGreaterThan(0);
    expect(m.attachments.every((a) => a.stored === null && a.content !== null)).toBe(true);
    expect(shape(m)).toEqual(shape(await parseMail(raw)));
  });

  it('fails with the store\'s error when the sink fails: a storage failure is no verdict on the mail', async () => {
    const raw = mailWith([{ headers: 'Content-Type: application/pdf; name="large.pdf"', body: randomBytes(2 * 1024 * 1024) }]);
    const failing: AttachmentSink = {
      thresholdBytes: 1024,
      store: (content) => {
        content.destroy();
        return Promise.reject(new MailroomError('STORAGE_FAILED', 'Cannot write blob (disk full).'));
      },
    };
    await expect(parseMail(raw, {}, failing)).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
  });

  it('ends the attachment stream in flight when the parse fails over a limit, so the store settles', async () => {
    // A large attachment, then more parts than allowed: the parser gives up while the sink is still reading.
    const parts = [{ headers: 'Content-Type: application/octet-stream; name="big.bin"', body: randomBytes(4 * 1024 * 1024) }];
    for (let i = 0; i < 40; i++) parts.push({ headers: 'Content-Type: application/octet-stream; name="p.bin"', body: Buffer.from(`part ${i}`) });
    const stores: Promise<unknown>[] = [];
    const sink: AttachmentSink = {
      thresholdBytes: 1024 * 1024,
      store(content: Readable): Promise<StoredBlobRef> {
        const reading = (async () => {
          for await (const chunk of content) void chunk;
          return { key: 'k', sha256: 'x', size: 0 };
        })();
        stores.push(reading);
        return reading;
      },
    };
    const m = await parseMail(mailWith(parts), { maxParts: 20 }, sink);
    expect(m.warnings.join(' ')).toMatch(/more than 20 MIME parts/);
    expect(stores).toHaveLength(1);
    // Left waiting, the store would hold its temp file and handle until the process ends.
    const settled = await Promise.race([stores[0]!.then(() => 'settled', () => 'settled'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2_000))]);
    expect(settled).toBe('settled');
  });
});

