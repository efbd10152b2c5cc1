import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/metrics.js';

describe('createMetrics', () => {
  it('exposes the Mailroom series after they are updated', async () => {
    const m = createMetrics();
    m.countIngest('conversation', 'human');
    m.countIngest('skipped', 'own_address');
    m.ingestDuration.observe(0.12);
    m.observeSync('ok', 3);
    m.countAttachmentJob('warning');
    m.setMailboxStates({ idle: 4, auth_error: 1 });

    const text = await m.registry.metrics();
    expect(text).toContain('mailroom_ingest_total{outcome="conversation",classification="human"} 1');
    expect(text).toContain('mailroom_ingest_total{outcome="skipped",classification="own_address"} 1');
    expect(text).toContain('mailroom_ingest_duration_seconds_count 1');
    expect(text).toContain('mailroom_ingest_duration_seconds_bucket{le="0.25"} 1');
    expect(text).toContain('mailroom_sync_duration_seconds_count{result="ok"} 1');
    expect(text).toContain('mailroom_attachment_jobs_total{status="warning"} 1');
    expect(text).toContain('mailroom_mailbox_state{state="idle"} 4');
    expect(text).toContain('mailroom_mailbox_state{state="auth_error"} 1');
    expect(text).toContain('mailroom_mailbox_state{state="disabled"} 0');
    // Default process metrics land in the same registry.
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('zeroes mailbox states that left the counts instead of keeping stale values', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.setMailboxStates({ connect_error: 2 });
    m.setMailboxStates({ idle: 2 });
    const text = await m.registry.metrics();
    expect(text).toContain('mailroom_mailbox_state{state="connect_error"} 0');
    expect(text).toContain('mailroom_mailbox_state{state="idle"} 2');
    expect(text).not.toContain('process_cpu_user_seconds_total');
  });

  it('gives every call its own registry, so instances never share counts', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.countAttachmentJob('ok');
    expect(await a.registry.metrics()).toContain('mailroom_attachment_jobs_total{status="ok"} 1');
    expect(await b.registry.metrics()).not.toContain('mailroom_attachment_jobs_total{status="ok"}');
  });
});
