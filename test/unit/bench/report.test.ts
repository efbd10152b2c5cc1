// The e2e bench's table ends with the targets, each met or missed, and
// says where the CPU went when the ratio is missed (bench/e2e/report.ts).
import { describe, expect, it } from 'vitest';
import type { BacklogResult } from '../../../bench/e2e/backlog.js';
import { formatTable, type SuiteResult } from '../../../bench/e2e/report.js';

const backlog = (over: Partial<BacklogResult> = {}): BacklogResult => ({
  mails: 600, mb: 195, attachments: 358, wall_ms: 12_000, records_ms: 11_900, first_record_ms: 1_500, msgs_per_s: 50, mb_per_s: 16.3,
  steady_msgs_per_s: 57, worker_cpu_ms: 15_000, worker_cpu_ms_per_mail: 25, worker_startup_cpu_ms: 2_000, worker_cpu_ms_per_mail_running: 21.7,
  worker_main_cpu_ms_per_mail: 14, others_cpu_ms_per_mail: 5.5, machine_busy_ms: 18_300, peak_rss_mb: 283, pg_connections_max: 8, pg_sessions_opened: 10,
  outcomes: { conversation: 600 }, attachment_status: { OK: 358 }, ...over,
});

function suite(over: Partial<SuiteResult> = {}): SuiteResult {
  return {
    suite: 'e2e', timestamp: '2026-12-07T00:00:00.000Z', seed: 1, n: 600, parts: ['ceiling', 'e2e', 'rss', 'many'],
    machine: { cpu_model: 'test cpu', cpus: 2, memory_gb: 8, node: 'v20', platform: 'linux', kernel: '6' },
    corpus: { mails: 600, mb: 195, attachments: 358 },
    ratio: 0.25, ratio_steady: 0.29,
    ceiling: { fetch: { mails: 600, ms: 300, msgs_per_s: 2000, mb_per_s: 650 }, fetch_parse: { mails: 600, ms: 3000, msgs_per_s: 200, mb_per_s: 65 } },
    e2e: backlog(),
    latency: null,
    rss: { backlog_peak_rss_mb: 283, big_attachment: { ...backlog({ mails: 5, peak_rss_mb: 224 }), big_attachment_mb: 50, big_attachment_status: 'OK', big_attachment_message: null } },
    many: { mailboxes: 200, per_mailbox: 5, many: backlog(), one_mailbox: backlog(), slowdown: 1.03 } as SuiteResult['many'],
    idle: null,
    ...over,
  };
}

describe('the e2e bench table', () => {
  it('ends with each target met or missed, and where the CPU went when the ratio is missed', () => {
    const table = formatTable(suite());
    expect(table).toContain('  CPU per mail: worker 25 ms = main thread 14 ms');
    expect(table).toContain('+ other threads 11 ms');
    const targets = table.slice(table.indexOf('\ntargets:'));
    expect(targets).toContain('end to end ≥ 0.75 × fetch + parse: 0.25 — MISSED');
    expect(targets).toContain(
      "limited by CPU: 25 ms of worker CPU per mail (main thread 14 ms) where fetch + simpleParser takes ~5 ms on one core, plus 5.5 ms outside the worker on the same 2 cores (busy 76 % of the run; the rest: one mailbox's mail is committed in order, each transaction's round trips after the last's)",
    );
    // A machine busy all the run was limited by its CPU alone.
    expect(formatTable(suite({ e2e: backlog({ machine_busy_ms: 23_000 }) }))).toContain('on the same 2 cores (busy 96 % of the run)\n');
    expect(targets).toContain('peak RSS < 300 MB: backlog 283 MB, with the 50 MB attachment 224 MB — met');
    expect(targets).toContain('200 mailboxes × 5 within 2 × one mailbox: 1.03 × — met');
  });

  it('says a target is missed when a figure is over it, and adds no CPU line for a ratio that is met', () => {
    const table = formatTable(suite({ ratio: 0.8, rss: { backlog_peak_rss_mb: 310, big_attachment: null }, many: { mailboxes: 200, per_mailbox: 5, many: backlog(), one_mailbox: backlog(), slowdown: 2.4 } as SuiteResult['many'] }));
    expect(table).toContain('end to end ≥ 0.75 × fetch + parse: 0.8 — met');
    expect(table).not.toContain('limited by CPU');
    expect(table).toContain('peak RSS < 300 MB: backlog 310 MB — MISSED');
    expect(table).toContain('within 2 × one mailbox: 2.4 × — MISSED');
  });
});
