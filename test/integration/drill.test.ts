// The short variant of `npm run drill` (drill/): every fault struck once while
// a worker ingests a small backlog (30 mails and two malformed ones), against the drill's own PostgreSQL, Redis,
// Dovecot, proxy and blob store, which it kills and restores. Each fault must
// leave 0 lost, 0 duplicated, 0 stuck, failed records only for the malformed
// mails, and a worker that recovered by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULTS } from '../../drill/faults.js';
import { createDrill, type Drill } from '../../drill/main.js';

let drill: Drill;
const lines: string[] = [];

beforeAll(async () => {
  drill = await createDrill({
    mails: 30,
    seed: 1,
    only: FAULTS.map((f) => f.name),
    downMs: 1_500,
    // A black-holed sync gives up after this; the full drill runs with Mailroom's default.
    imapTimeoutSeconds: 8,
    settleMs: 60_000,
    log: (line) => lines.push(line),
  });
}, 120_000);

afterAll(async () => {
  await drill?.close();
}, 120_000);

describe('fault drills (short)', () => {
  it.each(FAULTS.map((f) => [f.name, f] as const))('%s: nothing lost, duplicated or stuck', async (_name, fault) => {
    const r = await drill.run(fault);
    if (r.skipped) {
      // Only the blob faults can skip, and only without root (they mount a tmpfs).
      expect(process.getuid?.()).not.toBe(0);
      return;
    }
    const verdict = { lost: r.lost, duplicated: r.duplicated, stuck: r.stuck, attachmentErrors: r.attachmentErrors, wronglyFailed: r.wronglyFailed, workerExits: r.workerExits, settled: r.recoverS !== null };
    const why = `${r.label}\n${r.notes.join('\n')}\n${lines.join('\n')}`;
    expect(verdict, why).toEqual({ lost: 0, duplicated: 0, stuck: 0, attachmentErrors: 0, wronglyFailed: 0, workerExits: 0, settled: true });
    // The fault struck while mail was still coming in, so the verdict is about a fault that mattered.
    expect(r.atShare, why).not.toBeNull();
    expect(r.atShare!, why).toBeLessThan(100);
  }, 300_000);
});
