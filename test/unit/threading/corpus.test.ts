// Threading over the real mail of the shared corpora: no real Message-ID is
// ever taken for a Mailroom signed id, every mail with an empty store makes a
// new ticket, and the subject helpers stay consistent and fast on real
// subjects (8-bit, encoded words, many languages).

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cleanHeaderText,
  decodeWords,
  extractMessageIds,
  messageStart,
  normaliseLineEndings,
  readHeaderBlock,
  startsWithHeaderField,
  valuesOf,
} from '../../../src/mail/headers.js';
import { decideThread } from '../../../src/threading/decide.js';
import type { ThreadLookup } from '../../../src/threading/decide.js';
import { parseSignedMessageId } from '../../../src/threading/message-id.js';
import { findSubjectTag, stripReplyPrefixes } from '../../../src/threading/subject-tag.js';

const CORPUS = process.env.MAILROOM_CORPUS_DIR ?? path.resolve(import.meta.dirname, '../../../../shared/corpus');
const KEY = Buffer.alloc(32, 0x5a);

interface CorpusHeaders {
  file: string;
  subject: string;
  from: string | null;
  inReplyTo: string[];
  references: string[];
  messageIds: string[];
}

function walk(dir: string, out: string[]): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else if (/\.(eml|msg|raw)$/i.test(entry.name)) out.push(p);
  }
  return out;
}

function readHeaders(file: string): CorpusHeaders | null {
  const raw = normaliseLineEndings(fs.readFileSync(file));
  const start = messageStart(raw);
  if (!startsWithHeaderField(raw, start)) return null;
  const { fields } = readHeaderBlock(raw, start, 256 * 1024);
  const subject = cleanHeaderText(decodeWords(valuesOf(fields, 'subject')[0] ?? ''));
  const fromValue = valuesOf(fields, 'from')[0] ?? '';
  const from = /<([^<>\s@]+@[^<>\s@]+)>/.exec(fromValue)?.[1] ?? null;
  const inReplyTo = extractMessageIds(valuesOf(fields, 'in-reply-to'), 20_000);
  const references = extractMessageIds(valuesOf(fields, 'references'), 200_000);
  const messageIds = extractMessageIds(valuesOf(fields, 'message-id'), 2000);
  return { file, subject, from, inReplyTo, references, messageIds };
}

/** A store that knows nothing: every mail of the corpus is new to it. */
const emptyStore: ThreadLookup = {
  ticketsByMessageIds: async () => [],
  ticketByNumber: async () => null,
  isParticipant: async () => false,
  ticketExists: async () => true, // even so, no corpus id may verify as signed
};

describe.skipIf(!fs.existsSync(CORPUS))('threading over the shared corpora', () => {
  const mails = fs.existsSync(CORPUS) ? walk(CORPUS, []).map(readHeaders).filter((m) => m !== null) : [];

  it('reads a meaningful number of corpus headers', () => {
    expect(mails.length).toBeGreaterThan(1000);
    expect(mails.filter((m) => m.inReplyTo.length + m.references.length > 0).length).toBeGreaterThan(50);
  });

  it('never takes a real Message-ID for a Mailroom signed id', () => {
    let ids = 0;
    for (const m of mails) {
      for (const id of [...m.messageIds, ...m.inReplyTo, ...m.references]) {
        ids++;
        expect(parseSignedMessageId(id, KEY), `${m.file}: ${id}`).toBeNull();
      }
    }
    expect(ids).toBeGreaterThan(1000);
  });

  it('makes a new ticket for every corpus mail against an empty store', async () => {
    for (const m of mails) {
      const d = await decideThread(
        { tenantId: 1, fromAddress: m.from, inReplyTo: m.inReplyTo, references: m.references, subject: m.subject },
        emptyStore,
        KEY,
      );
      expect(d.kind, m.file).toBe('new');
    }
  });

  it('strips reply prefixes consistently on real subjects', () => {
    let stripped = 0;
    for (const m of mails) {
      const display = stripReplyPrefixes(m.subject);
      expect(stripReplyPrefixes(display), m.file).toBe(display);
      expect(m.subject.includes(display), m.file).toBe(true);
      if (display !== m.subject.trim()) stripped++;
      // Stripping never changes which ticket tag a subject carries.
      if (findSubjectTag(m.subject) !== null) expect(findSubjectTag(display)).toBe(findSubjectTag(m.subject));
    }
    expect(stripped).toBeGreaterThan(10);
  });
});
