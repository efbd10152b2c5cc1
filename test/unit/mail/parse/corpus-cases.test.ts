// Corpus cases with a known answer beyond "does not throw": CR-only copies
// of the sisimai bounces parse the same as their CRLF originals, and a TNEF
// winmail.dat from the MimeKit corpus is replaced by the files it wraps.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMail } from '../../../../src/mail/parse.js';
import type { InboundMail } from '../../../../src/mail/types.js';

const CORPUS = process.env.MAILROOM_CORPUS_DIR ?? path.resolve(import.meta.dirname, '../../../../../shared/corpus');
const MAILDIR = path.join(CORPUS, 'sisimai-set-of-emails/maildir');
const TNEF = path.join(CORPUS, 'mimekit/UnitTests/TestData/tnef');

function summary(m: InboundMail): unknown {
  return {
    subject: m.subject,
    messageId: m.messageId,
    date: m.date?.toISOString() ?? null,
    addresses: m.addresses,
    contentType: m.contentType,
    reportType: m.reportType,
    attachments: m.attachments.map((a) => [a.filename, a.contentType]),
    text: m.text?.replace(/\r\n/g, '\n') ?? null,
  };
}

describe.skipIf(!fs.existsSync(MAILDIR))('sisimai maildir/mac (CR-only)', () => {
  it('parses every CR-only mail like its CRLF twin in maildir/dos', async () => {
    const names = fs.readdirSync(path.join(MAILDIR, 'mac')).filter((f) => fs.existsSync(path.join(MAILDIR, 'dos', f)));
    expect(names.length).toBeGreaterThan(50);
    for (const name of names) {
      const mac = await parseMail(fs.readFileSync(path.join(MAILDIR, 'mac', name)));
      const dos = await parseMail(fs.readFileSync(path.join(MAILDIR, 'dos', name)));
      expect(summary(mac), name).toEqual(summary(dos));
      expect(mac.addresses.from.length + mac.badAddresses.length, name).toBeGreaterThan(0);
    }
  });
});

function mailWith(part: Buffer, headers: string): Buffer {
  const b64 = part.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      'From: Outlook User <user@example.com>',
      'To: support@acme.example',
      'Subject: files',
      'Content-Type: multipart/mixed; boundary="tnef"',
      '',
      '--tnef',
      'Content-Type: text/plain',
      '',
      'See attached.',
      '--tnef',
      headers,
      'Content-Transfer-Encoding: base64',
      '',
      b64,
      '--tnef--',
      '',
    ].join('\r\n'),
  );
}

describe('winmail.dat', () => {
  it.skipIf(!fs.existsSync(TNEF))('is replaced by the files it wraps', async () => {
    const tnef = fs.readFileSync(path.join(TNEF, 'two-files.tnef'));
    const expected = fs.readFileSync(path.join(TNEF, 'two-files.list'), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
    const m = await parseMail(mailWith(tnef, 'Content-Type: application/ms-tnef; name="winmail.dat"\r\nContent-Disposition: attachment; filename="winmail.dat"'));
    expect(m.attachments.map((a) => a.filename).sort()).toEqual([...expected].sort());
    for (const a of m.attachments) {
      expect(a.content?.equals(fs.readFileSync(path.join(TNEF, 'two-files', a.filename)))).toBe(true);
    }
    expect(m.warnings).toEqual([]);
  });

  it('is kept, with a warning, when it cannot be decoded', async () => {
    const m = await parseMail(mailWith(Buffer.from('not tnef at all'), 'Content-Type: application/octet-stream; name="winmail.dat"'));
    expect(m.attachments.map((a) => a.filename)).toEqual(['winmail.dat']);
    expect(m.warnings.some((w) => w.includes('winmail.dat'))).toBe(true);
  });
});
