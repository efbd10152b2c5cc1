// Runs every HTML mail of the shared corpora (real clients, hostile and broken
// mail) through buildRichText: the output must be inert, the Editor.js blocks
// well-formed, and each mail must finish in bounded time.

import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { editorJsProblems } from '../../../../src/mail/rich/editorjs-input.js';
import { buildRichText } from '../../../../src/mail/rich/rich.js';
import { inertProblems } from './inert.js';

const CORPUS = process.env.MAILROOM_CORPUS_DIR ?? path.resolve(import.meta.dirname, '../../../../../shared/corpus');
const MAX_FILE_BYTES = 1_000_000;
const BLOCK_TYPES = new Set(['paragraph', 'header', 'list', 'quote', 'image', 'code', 'delimiter', 'table']);

function mailFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...mailFiles(p));
    else if (/\.(?:eml|msg|raw|txt)$/.test(entry.name)) out.push(p);
  }
  return out.sort();
}

describe.skipIf(!fs.existsSync(CORPUS))('buildRichText on the mail corpora', () => {
  it('gives inert HTML and well-formed blocks for every HTML mail, each in bounded time', async () => {
    let checked = 0;
    let slowest = 0;
    const failures: string[] = [];
    for (const file of mailFiles(CORPUS)) {
      const raw = fs.readFileSync(file);
      if (raw.length > MAX_FILE_BYTES || !/text\/html/i.test(raw.toString('latin1'))) continue;
      let mail;
      try {
        mail = await simpleParser(raw, { keepCidLinks: true, skipTextToHtml: true });
      } catch {
        continue; // unparseable mail is the parser's concern, not this module's
      }
      if (typeof mail.html !== 'string') continue;
      const cidUrls = new Map<string, string>();
      mail.attachments.forEach((att, i) => {
        if (att.contentId) cidUrls.set(att.contentId.replace(/^<|>$/g, ''), `/att/${i}`);
      });
      const t = performance.now();
      const rich = buildRichText({ html: mail.html, text: mail.text ?? null, extracted: mail.text ?? '', cidUrls });
      slowest = Math.max(slowest, performance.now() - t);
      checked++;
      const rel = path.relative(CORPUS, file);
      const problems = inertProblems(rich.html, { cidTargets: new Set(cidUrls.values()) });
      if (problems.length > 0) failures.push(`${rel}: ${problems.slice(0, 3).join('; ')}`);
      for (const block of rich.editorjs.blocks) {
        if (!BLOCK_TYPES.has(block.type) || !/^[A-Za-z0-9_-]{10}$/.test(block.id)) failures.push(`${rel}: block ${block.type}`);
      }
      // The rule client-written documents must pass holds for what ingest builds.
      const ruled = editorJsProblems(rich.editorjs);
      if (ruled.length > 0) failures.push(`${rel}: ${ruled.slice(0, 3).map((p) => `${p.path.join('.')} ${p.message}`).join('; ')}`);
      if (rich.plain_preview.length > 202) failures.push(`${rel}: preview ${rich.plain_preview.length} chars`);
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });
});
