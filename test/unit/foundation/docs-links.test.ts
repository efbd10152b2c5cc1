// The README and docs/ are the project's whole documentation: a link that
// leaves the repository (a brief, a sibling checkout) or points at a file or
// heading that does not exist is a broken promise to the reader. This checks
// every relative Markdown link of README.md and docs/*.md.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOCS = path.join(ROOT, 'docs');
const FILES = [path.join(ROOT, 'README.md'), ...readdirSync(DOCS).filter((f) => f.endsWith('.md')).map((f) => path.join(DOCS, f))];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const m = fence ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (m?.[1]) out.add(m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return out;
}

/** [text](target) links outside code, without external URLs. */
function links(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((t) => !/^[a-z]+:/i.test(t));
}

describe('documentation links', () => {
  for (const file of FILES) {
    const rel = path.relative(ROOT, file);
    it(`${rel}: every relative link stays in the repository and resolves`, () => {
      const problems: string[] = [];
      const text = readFileSync(file, 'utf8');
      for (const target of links(text)) {
        const [filePart = '', anchor] = target.split('#');
        const resolved = filePart === '' ? file : path.resolve(path.dirname(file), filePart);
        if (!resolved.startsWith(ROOT + path.sep)) {
          problems.push(`${target} leaves the repository`);
          continue;
        }
        if (!existsSync(resolved)) {
          problems.push(`${target} does not exist`);
          continue;
        }
        if (anchor && resolved.endsWith('.md') && !anchors(readFileSync(resolved, 'utf8')).has(anchor)) {
          problems.push(`${target}: no heading with that anchor`);
        }
      }
      if (/PRODUCT\.md|\.\.\/shared\b/.test(text)) problems.push('names a file outside the repository (PRODUCT.md or ../shared)');
      expect(problems).toEqual([]);
    });
  }
});
