// decodeTnef against MimeKit's TNEF test data: each <n>.tnef must yield the
// attachment names its <n>.list gives (as MimeKit's own test checks them),
// and the decoded files in <n>/ byte for byte.
import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { decodeTnef } from '../../../../src/mail/tnef.js';
import type { TnefAttachment } from '../../../../src/mail/tnef.js';

const CORPUS = process.env.MAILROOM_CORPUS_DIR ?? path.resolve(import.meta.dirname, '../../../../../shared/corpus');
const DIR = path.join(CORPUS, 'mimekit', 'UnitTests', 'TestData', 'tnef');

const cases = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.tnef')).map((f) => f.slice(0, -'.tnef'.length)).sort() : [];

/** The corpus's text files were stored with LF line ends; the TNEF holds CRLF. */
const lf = (b: Buffer): Buffer => Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');

/**
 * Whether a decoded attachment is the expected file. The reference extractor
 * (the `tnef` tool) keeps the 16-byte interface id in front of OLE storage
 * objects; decodeTnef drops it, as MimeKit does, so the file is usable.
 */
function sameContent(expected: Buffer, got: Buffer): boolean {
  return expected.equals(got) || lf(expected).equals(lf(got)) || (expected.length === got.length + 16 && expected.subarray(16).equals(got));
}

/** attAttachData of an embedded message holds only this notice; decodeTnef keeps the message itself instead. */
const EMBEDDED_PLACEHOLDER = 'This attachment is a MAPI 1.0 embedded message';

describe.skipIf(cases.length === 0)('decodeTnef on the MimeKit TNEF corpus', () => {
  it('finds the test data', () => {
    expect(cases.length).toBeGreaterThanOrEqual(19);
  });

  for (const name of cases) {
    it(name, () => {
      const { attachments } = decodeTnef(fs.readFileSync(path.join(DIR, `${name}.tnef`)));

      // body.rtf / body.html in the lists are the message body, not attachments.
      const listed = fs
        .readFileSync(path.join(DIR, `${name}.list`), 'utf8')
        .split(/\r?\n/)
        .filter((n) => n !== '' && !n.startsWith('body.'));
      const names = attachments.map((a) => a.filename);
      for (const n of listed) expect(names, `${name}: ${n}`).toContain(n);

      const folder = path.join(DIR, name);
      if (!fs.existsSync(folder)) return;
      for (const file of fs.readdirSync(folder).filter((f) => !f.startsWith('message.'))) {
        const expected = fs.readFileSync(path.join(folder, file));
        if (expected.toString('latin1').startsWith(EMBEDDED_PLACEHOLDER)) continue;
        // The reference tool numbers repeated names ("Untitled Attachment.2").
        const filename = file.replace(/^(Untitled Attachment)\.\d+$/, '$1');
        const match = attachments.find((a: TnefAttachment) => a.filename === filename && sameContent(expected, a.content));
        expect(match, `${name}/${file}: no attachment with this name and content`).toBeDefined();
      }
    });
  }

  it('hands embedded messages on as application/ms-tnef', () => {
    const { attachments } = decodeTnef(fs.readFileSync(path.join(DIR, 'christmas.tnef')));
    const embedded = attachments.filter((a) => a.contentType === 'application/ms-tnef');
    expect(embedded.length).toBe(2);
    for (const a of embedded) expect(decodeTnef(a.content).attachments).toBeInstanceOf(Array);
  });

  it('decodes the winmail.dat of the TNEF mails', async () => {
    const winmail = async (file: string): Promise<Buffer> => {
      const mail = await simpleParser(fs.readFileSync(path.join(DIR, file)));
      const part = mail.attachments.find((a) => a.contentType === 'application/ms-tnef');
      if (part === undefined) throw new Error(`${file} has no winmail.dat`);
      return part.content;
    };
    // rich-text.eml carries christmas.tnef; ukr.eml only a body.
    const christmas = decodeTnef(fs.readFileSync(path.join(DIR, 'christmas.tnef'))).attachments;
    const rich = decodeTnef(await winmail('rich-text.eml')).attachments;
    expect(rich.map((a) => a.filename)).toEqual(['kitten-playing-with-a-christmas-tree.jpg', 'Untitled Attachment', 'Untitled Attachment']);
    expect(rich.map((a) => a.content)).toEqual(christmas.map((a) => a.content));
    expect(decodeTnef(await winmail('ukr.eml')).attachments).toEqual([]);
  });
});
