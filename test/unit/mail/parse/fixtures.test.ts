// parseMail on hand-written fixtures (test/fixtures/parse): one mail per
// real-world oddity the parser must handle.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMail } from '../../../../src/mail/parse.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/parse');
const load = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, name));

describe('parseMail headers', () => {
  it('decodes RFC 2047 names and subjects, split across words', async () => {
    const m = await parseMail(load('rfc2047-names.eml'));
    expect(m.addresses.from).toEqual([{ address: 'Rene.Dupont@Example.FR', name: 'René Dupont' }]);
    expect(m.addresses.to).toEqual([{ address: 'support@acme.example', name: 'Support Ärger' }]);
    expect(m.addresses.cc).toEqual([
      { address: 'ivan@example.ru', name: 'Иван Петров' },
      { address: 'hans@example.de', name: 'Müller, Hans' },
    ]);
    expect(m.addresses.deliveredTo).toEqual([{ address: 'support@acme.example', name: '' }]);
    expect(m.subject).toBe('Problème de connexion – urgent');
    expect(m.messageId).toBe('CAF=abc123@mail.gmail.com');
    expect(m.date?.toISOString()).toBe('2024-03-12T08:15:02.000Z');
    expect(m.text).toContain('je n\'arrive plus à me connecter');
    expect(m.headers.get('subject')).toEqual(['Problème de connexion – urgent']);
    expect(m.warnings).toEqual([]);
  });

  it('reads raw 8-bit header bytes as UTF-8, or windows-1252 when not valid UTF-8', async () => {
    const m = await parseMail(load('raw-8bit-headers.eml'));
    expect(m.addresses.from).toEqual([{ address: 'joerg@example.de', name: 'Jörg Müller' }]);
    expect(m.addresses.to).toEqual([{ address: 'heinz@example.de', name: 'Heinz Müller' }]);
    expect(m.subject).toBe('Grüße aus Köln');
    expect(m.subject).not.toContain('\uFFFD');
  });

  it('accepts charset="utf8" without a warning', async () => {
    const m = await parseMail(load('charset-utf8-misspelled.eml'));
    expect(m.subject).toBe('Café order');
    expect(m.text).toBe('My order at the café is missing.\n');
    expect(m.warnings).toEqual([]);
  });

  it('falls back on unknown-8bit with a warning, never throws', async () => {
    const m = await parseMail(load('charset-unknown-8bit.eml'));
    expect(m.addresses.from[0]?.name).toBe('Lars Sørensen');
    expect(m.subject).toBe('Rækkehus problem');
    expect(m.text).toContain('rækkehus');
    expect(m.warnings.some((w) => w.includes('unknown-8bit'))).toBe(true);
  });

  it('flattens group syntax and ignores empty groups', async () => {
    const m = await parseMail(load('groups.eml'));
    expect(m.addresses.to).toEqual([]);
    expect(m.addresses.bcc).toEqual([]);
    expect(m.addresses.cc.map((a) => a.address)).toEqual(['agent1@acme.example', 'bob@acme.example', 'carol@example.com']);
    expect(m.addresses.cc[1]?.name).toBe('Bob B.');
    expect(m.badAddresses).toEqual([]);
  });

  it('sets aside unparseable addresses, ids without brackets, bad dates', async () => {
    const m = await parseMail(load('bad-addresses.eml'));
    expect(m.addresses.from).toEqual([]);
    expect(m.addresses.to.map((a) => a.address)).toEqual(['support@acme.example', 'valid.user@Example.com']);
    expect(m.badAddresses).toEqual([
      { header: 'from', value: 'Broken Sender <not-an-address>' },
      { header: 'to', value: 'Nobody <@nowhere>' },
    ]);
    expect(m.messageId).toBe('bare-id-123@example.com');
    expect(m.inReplyTo).toEqual(['parent@example.com']);
    expect(m.references).toEqual(['root@example.com', 'parent@example.com']);
    expect(m.date).toBeNull();
  });
});

describe('parseMail line endings', () => {
  it('parses CR-only mail the same as LF-only mail', async () => {
    const cr = await parseMail(load('cr-only.eml'));
    const lf = await parseMail(load('lf-only.eml'));
    expect(load('cr-only.eml').includes(0x0a)).toBe(false);
    for (const m of [cr, lf]) {
      expect(m.addresses.from).toEqual([{ address: 'macuser@example.org', name: 'Mac User' }]);
      expect(m.text).toBe('First line.\nSecond line.\n');
      expect(m.contentType).toBe('text/plain');
    }
    expect(cr.subject).toBe('Old Mac line endings');
    expect(lf.subject).toBe('Unix line endings');
    expect(cr.warnings.some((w) => w.includes('bare CR'))).toBe(true);
    expect(cr.rawSize).toBe(load('cr-only.eml').length);
  });
});

describe('parseMail attachments', () => {
  it('turns a uuencoded block into an attachment and removes it from the text', async () => {
    const m = await parseMail(load('uuencode.eml'));
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]?.filename).toBe('server.log');
    expect(m.attachments[0]?.content?.toString()).toBe('Hello from a uuencoded file.\nSecond line of the file.\n');
    expect(m.text).not.toContain('begin 644');
    expect(m.text).toContain('Regards,');
  });

  it('keeps a forwarded message/rfc822 as one attachment named after its subject', async () => {
    const m = await parseMail(load('forwarded-rfc822.eml'));
    expect(m.attachments).toHaveLength(1);
    const fwd = m.attachments[0];
    expect(fwd?.contentType).toBe('message/rfc822');
    expect(fwd?.filename).toBe('Invoice 2024-03_ ACME _overdue_.eml');
    expect(fwd?.content?.toString()).toContain('Please pay invoice 2024/03.');
  });

  it('names unnamed images by type and marks cid-referenced and inline images inline', async () => {
    const m = await parseMail(load('inline-image.eml'));
    expect(m.html).toContain('cid:logo.123@example.com');
    expect(m.attachments.map((a) => [a.filename, a.contentId, a.inline])).toEqual([
      ['image.png', 'logo.123@example.com', true],
      ['image (2).png', null, true],
    ]);
    const png = m.attachments[0];
    expect(png?.size).toBe(png?.content?.length);
    expect(png?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('makes names safe and unique', async () => {
    const m = await parseMail(load('attachment-names.eml'));
    expect(m.attachments.map((a) => a.filename)).toEqual([
      'report.pdf',
      'Report (2).pdf',
      'passwd',
      'hidden_fdp.exe',
      'attachment.zip',
    ]);
    for (const a of m.attachments) {
      expect(a.filename).not.toMatch(/[/\\\u0000-\u001f\u202e]|^\./);
      expect(a.inline).toBe(false);
    }
  });
});
