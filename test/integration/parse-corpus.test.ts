// Every file of ../shared/corpus through one `mailroom parse --jsonl` process:
// each gets exactly one result, nothing escapes, nothing hangs. (How long it
// takes is measured by `npm run bench`, not asserted here.)
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnv } from '../support/env.js';
import { runCli } from '../support/cli.js';

const CORPUS = path.resolve(process.env.MAILROOM_CORPUS_DIR ?? path.join(import.meta.dirname, '../../../shared/corpus'));

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

interface Result {
  file: string;
  outcome: 'conversation' | 'skipped' | 'failed';
  classification: string | null;
  conversation: { type: number; email_addresses: { direction: number; email: string }[]; created: string } | null;
  attachments: { filename: string; sha256: string }[];
  thread: { message_id: string | null } | null;
  warnings: string[];
  error: { code: string; message: string } | null;
}

describe.skipIf(!existsSync(CORPUS))('mailroom parse over the whole corpus', () => {
  it('gives every file exactly one well-formed result', async () => {
    const files = listFiles(CORPUS);
    expect(files.length).toBeGreaterThan(1000);
    const run = await runCli(['parse', '--jsonl', '--mailbox-address', 'support@example.com', ...files], { env: childEnv(), timeoutMs: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const results = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Result);
    expect(results.map((r) => r.file)).toEqual(files);
    const counts = { conversation: 0, skipped: 0, failed: 0 };
    for (const r of results) {
      counts[r.outcome] += 1;
      if (r.outcome === 'failed') {
        expect(r.error?.code, r.file).toMatch(/^MAIL_/);
        expect(r.error?.message.length, r.file).toBeGreaterThan(10);
        // Only what is not a mail at all fails: empty files and binary ones (images, TNEF, decoded parts).
        if (r.error?.code === 'MAIL_UNREADABLE') expect(r.error.message, r.file).toMatch(/it is empty|its bytes are not text/);
        continue;
      }
      expect(r.error, r.file).toBeNull();
      expect(['human', 'auto_reply', 'bounce', 'own_address'], r.file).toContain(r.classification);
      expect(r.conversation?.type, r.file).toBe(1);
      expect(Number.isNaN(Date.parse(r.conversation?.created ?? '')), r.file).toBe(false);
      for (const a of r.conversation?.email_addresses ?? []) {
        expect(a.email, r.file).toBe(a.email.toLowerCase());
        expect(a.direction, r.file).toBeGreaterThanOrEqual(1);
      }
      for (const a of r.attachments) {
        expect(a.filename, r.file).toMatch(/^[^/\\\u0000-\u001f]+$/);
        expect(a.sha256, r.file).toMatch(/^[0-9a-f]{64}$/);
      }
    }
    // Text without a header block (the expected-result files: JSON, XML, reply bodies) becomes a
    // conversation from an unknown sender; what fails is empty or binary (decoded parts, TNEF).
    expect(counts.conversation + counts.skipped).toBeGreaterThan(2000);
    expect(counts.failed).toBeLessThan(150);
  }, 180_000);
});
