// The discourse/email_reply_trimmer corpus: 64 plain-text reply bodies from many
// clients and languages with the expected reply. At least 90% must match after
// whitespace normalisation; the failures are printed so regressions are visible.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractReply } from '../../../../src/mail/reply/extract.js';

const CORPUS = process.env.MAILROOM_CORPUS_DIR ?? path.resolve(import.meta.dirname, '../../../../../shared/corpus');
const DIR = path.join(CORPUS, 'discourse-email_reply_trimmer', 'test');

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

describe.skipIf(!fs.existsSync(DIR))('discourse email_reply_trimmer corpus', () => {
  const names = fs.existsSync(DIR) ? fs.readdirSync(path.join(DIR, 'emails')).filter((f) => f.endsWith('.txt')).sort() : [];

  it('matches at least 90% of the expected replies', () => {
    expect(names.length).toBeGreaterThanOrEqual(60);
    const failing: string[] = [];
    for (const name of names) {
      const input = fs.readFileSync(path.join(DIR, 'emails', name), 'utf8');
      const expected = fs.readFileSync(path.join(DIR, 'trimmed', name), 'utf8');
      const got = extractReply({ text: input, html: null });
      if (squash(got) !== squash(expected)) failing.push(name);
    }
    const rate = (names.length - failing.length) / names.length;
    console.log(`reply corpus: ${names.length - failing.length}/${names.length} (${(rate * 100).toFixed(1)}%); failing: ${failing.join(', ') || 'none'}`);
    expect(rate).toBeGreaterThanOrEqual(0.9);
  });

  // Deliberate deviations from the corpus, by contract (PRODUCT.md / extract.ts):
  // a mail with no new text is returned whole rather than emptied.
  it('keeps a forward without new text whole, separator and headers included', () => {
    const input = fs.readFileSync(path.join(DIR, 'emails', 'forwarded_message.txt'), 'utf8');
    const got = extractReply({ text: input, html: null });
    expect(got.startsWith('---------- Forwarded message ----------')).toBe(true);
    expect(got).toContain('This is a forwarded email. And just that.');
  });

  it('returns a mail that is only a quote chain rather than an empty string', () => {
    const input = fs.readFileSync(path.join(DIR, 'emails', 'spam_1.txt'), 'utf8');
    const got = extractReply({ text: input, html: null });
    expect(got).toBe(input.replace(/\r\n?/g, '\n').split('\n').map((l) => l.trimEnd()).join('\n').replace(/\n{3,}/g, '\n\n').trim());
  });
});
