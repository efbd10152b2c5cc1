// safeAttachmentNames: every attachment name is safe, non-empty and unique.

import { describe, expect, it } from 'vitest';
import { extensionForType, safeAttachmentNames, sanitizeFilename } from '../../../../src/mail/filenames.js';

describe('sanitizeFilename', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\Desktop\\invoice.pdf', 'invoice.pdf'],
    ['.htaccess', 'htaccess'],
    ['...', ''],
    ['  report \t final .pdf  ', 'report final .pdf'],
    ['bad\u0000name\u0007.txt', 'bad_name_.txt'],
    ['photo\u202egnp.exe', 'photo_gnp.exe'],
    ['a<b>c:d"e|f?g*.txt', 'a_b_c_d_e_f_g_.txt'],
    ['CON.txt', '_CON.txt'],
    ['trailing.dot.', 'trailing.dot'],
    ['/', ''],
  ])('%j -> %j', (input, expected) => {
    expect(sanitizeFilename(input)).toBe(expected);
  });

  it('normalises to NFC', () => {
    expect(sanitizeFilename('Cafe\u0301.pdf')).toBe('Caf\u00e9.pdf');
  });

  it('caps the length and keeps the extension', () => {
    const name = sanitizeFilename(`${'x'.repeat(500)}.docx`, { maxChars: 40, maxExtensionChars: 16 });
    expect(name).toHaveLength(40);
    expect(name.endsWith('.docx')).toBe(true);
  });

  it('bounds the work on a huge name', () => {
    const started = Date.now();
    const name = sanitizeFilename('a/'.repeat(2_000_000) + 'end.txt');
    expect(name.length).toBeLessThanOrEqual(150);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('safeAttachmentNames', () => {
  it('generates names by type when missing or unusable', () => {
    expect(
      safeAttachmentNames([
        { contentType: 'image/png' },
        { contentType: 'image/jpeg', filename: '' },
        { contentType: 'application/pdf', filename: '../' },
        { contentType: 'application/x-unknown-thing' },
        { contentType: 'text/calendar' },
        { contentType: 'message/delivery-status' },
      ]),
    ).toEqual(['image.png', 'image.jpg', 'attachment.pdf', 'attachment.bin', 'attachment.ics', 'delivery-status.txt']);
  });

  it('names unnamed forwarded mails after their subject, and keeps the name a sender gave one', () => {
    expect(
      safeAttachmentNames([
        { contentType: 'message/rfc822', subject: 'Re: Order #12/2024 \u2013 "urgent"' },
        { contentType: 'message/rfc822', subject: '' },
        { contentType: 'message/rfc822', subject: '../secret' },
        { contentType: 'message/rfc822', subject: 'Quarterly numbers', filename: '../attached_email.eml' },
      ]),
    ).toEqual(['Re_ Order #12-2024 \u2013 _urgent_.eml', 'forwarded message.eml', '-secret.eml', 'attached_email.eml']);
  });

  it('makes duplicates unique, case-insensitively', () => {
    expect(
      safeAttachmentNames([
        { contentType: 'application/pdf', filename: 'a.pdf' },
        { contentType: 'application/pdf', filename: 'A.pdf' },
        { contentType: 'application/pdf', filename: 'a.pdf' },
        { contentType: 'application/pdf', filename: 'a (2).pdf' },
        { contentType: 'image/png' },
        { contentType: 'image/png' },
      ]),
    ).toEqual(['a.pdf', 'A (2).pdf', 'a (3).pdf', 'a (2) (2).pdf', 'image.png', 'image (2).png']);
  });

  it('keeps unique names within the length cap', () => {
    const long = `${'y'.repeat(300)}.pdf`;
    const names = safeAttachmentNames(Array.from({ length: 3 }, () => ({ contentType: 'application/pdf', filename: long })), { maxChars: 30 });
    expect(new Set(names).size).toBe(3);
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(30);
      expect(n.endsWith('.pdf')).toBe(true);
    }
  });

  it('maps types to extensions', () => {
    expect(extensionForType('IMAGE/JPEG; name=x')).toBe('jpg');
    expect(extensionForType('application/pdf')).toBe('pdf');
    expect(extensionForType('nonsense')).toBe('bin');
  });
});
