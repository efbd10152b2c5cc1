import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMailroomError } from '../../../../src/errors.js';
import { decodeTnef } from '../../../../src/mail/tnef.js';
import { buildTnef } from './build.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/tnef');

/** Runs decodeTnef and returns the error code it threw, or 'ok'. Any other exception fails the test. */
function outcome(buf: Buffer, limits?: Parameters<typeof decodeTnef>[1]): string {
  try {
    decodeTnef(buf, limits);
    return 'ok';
  } catch (err) {
    if (isMailroomError(err)) return err.code;
    throw err;
  }
}

/** Small deterministic PRNG (mulberry32), so failures can be reproduced. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sample = fs.readFileSync(path.join(FIXTURES, 'two-attachments.tnef'));

describe('decodeTnef', () => {
  it('decodes a stream written the way Outlook writes one', () => {
    const { attachments } = decodeTnef(sample);
    expect(attachments.map((a) => [a.filename, a.contentType, a.content.toString('utf8')])).toEqual([
      ['Quarterly report 2024.pdf', 'application/pdf', '%PDF-1.4 fake pdf body\n'],
      ['notes.txt', undefined, 'Hello from Outlook\r\n'],
    ]);
  });

  it('prefers the long file name over the 8.3 name and the title, and strips paths', () => {
    const buf = buildTnef([{ title: 'LONGNA~1.TXT', shortName: 'LONGNA~1.TXT', longName: 'C:\\Users\\anna\\Long name.txt', data: Buffer.from('x') }]);
    expect(decodeTnef(buf).attachments[0]?.filename).toBe('Long name.txt');
  });

  it('decodes 8-bit names in the stream\'s code page', () => {
    // "Счёт.pdf" in windows-1251, as a Russian Outlook writes attAttachTitle.
    const title = Buffer.from([0xd1, 0xf7, 0xb8, 0xf2, 0x2e, 0x70, 0x64, 0x66]);
    expect(decodeTnef(buildTnef([{ title, data: Buffer.from('x') }], 1251)).attachments[0]?.filename).toBe('Счёт.pdf');
  });

  it('names an attachment without any name "Untitled Attachment"', () => {
    const buf = buildTnef([{ data: Buffer.from('x') }]);
    expect(decodeTnef(buf).attachments[0]?.filename).toBe('Untitled Attachment');
  });

  it('rejects buffers that are not TNEF', () => {
    expect(outcome(Buffer.alloc(0))).toBe('MAIL_UNPARSEABLE');
    expect(outcome(Buffer.from('PK\u0003\u0004 this is a zip file'))).toBe('MAIL_UNPARSEABLE');
    expect(() => decodeTnef(Buffer.from('hello world'))).toThrow(/Not a TNEF stream/);
  });

  it('rejects a stream cut inside an attribute, at every cut', () => {
    let ok = 0;
    for (let cut = 0; cut < sample.length; cut++) {
      const result = outcome(sample.subarray(0, cut));
      if (result === 'ok') ok++;
      else expect(result).toBe('MAIL_UNPARSEABLE');
    }
    // Only cuts exactly between attributes look like a whole (shorter) stream.
    expect(ok).toBeLessThan(20);
    expect(outcome(sample.subarray(0, sample.length - 1))).toBe('MAIL_UNPARSEABLE');
  });

  it('rejects an attribute that declares more bytes than there are', () => {
    const buf = Buffer.concat([sample.subarray(0, 6), Buffer.from([0x02, 0x0f, 0x80, 0x06, 0x00, 0xff, 0xff, 0xff, 0xff])]);
    expect(() => decodeTnef(buf)).toThrow(/truncated/);
  });

  it('survives random buffers and random mutations of a real stream quickly', () => {
    const rand = prng(42);
    for (let i = 0; i < 500; i++) {
      const random = Buffer.from(Array.from({ length: Math.floor(rand() * 4096) }, () => Math.floor(rand() * 256)));
      expect(outcome(random)).toBe('MAIL_UNPARSEABLE');
      // Same random bytes behind a valid signature.
      outcome(Buffer.concat([sample.subarray(0, 6), random]));
      const mutated = Buffer.from(sample);
      for (let m = 0; m < 8; m++) mutated[6 + Math.floor(rand() * (mutated.length - 6))] = Math.floor(rand() * 256);
      outcome(mutated);
    }
  });

  it('enforces the attachment count and size limits', () => {
    expect(outcome(sample, { maxAttachments: 1 })).toBe('MAIL_LIMIT_EXCEEDED');
    expect(outcome(sample, { maxBytes: 10 })).toBe('MAIL_LIMIT_EXCEEDED');
    expect(outcome(sample, { maxAttachments: 2, maxBytes: 1000 })).toBe('ok');
  });

  it('caps a flood of empty attachments by count, not memory', () => {
    const many = buildTnef(Array.from({ length: 5000 }, () => ({ data: Buffer.alloc(0) })));
    expect(outcome(many)).toBe('MAIL_LIMIT_EXCEEDED');
  });

  it('returns copies, not views of the input', () => {
    const input = Buffer.from(sample);
    const { attachments } = decodeTnef(input);
    input.fill(0);
    expect(attachments[1]?.content.toString('utf8')).toBe('Hello from Outlook\r\n');
  });
});
