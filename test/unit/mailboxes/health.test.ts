// The mailbox health state machine: every event's columns, backoff on
// failures, and what enabling, disabling and re-pointing reset.
import { describe, expect, it } from 'vitest';
import { shouldWatch, transition, waitBeforeAttempt } from '../../../src/mailboxes/health.js';

const at = new Date('2026-12-04T10:00:00Z');

describe('mailbox state machine', () => {
  it('moves connecting → syncing → idle, and a success forgets the failures', () => {
    expect(transition({ consecutive_failures: 3 }, { type: 'connecting' })).toEqual({ state: 'connecting' });
    expect(transition({ consecutive_failures: 3 }, { type: 'opened' })).toEqual({ state: 'syncing' });
    expect(transition({ consecutive_failures: 3 }, { type: 'synced', at })).toEqual({ state: 'idle', last_success_at: at, last_error: null, consecutive_failures: 0, next_attempt_at: null });
  });

  it('counts failures and backs off: seconds for the network, minutes for credentials', () => {
    const connect = transition({ consecutive_failures: 0 }, { type: 'failed', kind: 'connect', message: 'refused', at, random: () => 1 });
    expect(connect).toEqual({ state: 'connect_error', last_error: 'refused', consecutive_failures: 1, next_attempt_at: new Date(at.getTime() + 2_000) });
    const auth = transition({ consecutive_failures: 1 }, { type: 'failed', kind: 'auth', message: 'rejected', at, random: () => 1 });
    expect(auth).toMatchObject({ state: 'auth_error', consecutive_failures: 2, next_attempt_at: new Date(at.getTime() + 10 * 60_000) });
  });

  it('shows a sync waiting on a silent server as connect_error without counting a failure, and back to syncing when it answers', () => {
    expect(transition({ consecutive_failures: 3 }, { type: 'silent', message: 'no answer from imap.example.com for 15 s\u001b[2J' })).toEqual({
      state: 'connect_error',
      last_error: 'no answer from imap.example.com for 15 s\uFFFD[2J',
    });
    expect(transition({ consecutive_failures: 3 }, { type: 'answered', lastError: 'an older failure' })).toEqual({ state: 'syncing', last_error: 'an older failure' });
  });

  it('retries a missing folder soon, as connect_error', () => {
    expect(transition({ consecutive_failures: 0 }, { type: 'failed', kind: 'folder', message: 'Folder "INBOX" does not exist', at, random: () => 1 })).toMatchObject({
      state: 'connect_error',
      next_attempt_at: new Date(at.getTime() + 2_000),
    });
  });

  it('keeps a long error to 2000 characters', () => {
    const f = transition({ consecutive_failures: 0 }, { type: 'failed', kind: 'connect', message: 'x'.repeat(5000), at });
    expect(f.last_error).toHaveLength(2000);
  });

  it('enabling or re-pointing starts afresh; disabling parks', () => {
    expect(transition({ consecutive_failures: 7 }, { type: 'enabled' })).toEqual({ state: 'connecting', consecutive_failures: 0, next_attempt_at: null });
    expect(transition({ consecutive_failures: 7 }, { type: 'reconfigured' })).toEqual({ state: 'connecting', consecutive_failures: 0, next_attempt_at: null });
    expect(transition({ consecutive_failures: 7 }, { type: 'disabled' })).toEqual({ state: 'disabled' });
  });

  it('says how long a sync must wait, and which states hold a watch', () => {
    expect(waitBeforeAttempt({ next_attempt_at: null }, at)).toBe(0);
    expect(waitBeforeAttempt({ next_attempt_at: new Date(at.getTime() + 1500) }, at)).toBe(1500);
    expect(waitBeforeAttempt({ next_attempt_at: new Date(at.getTime() - 1500) }, at)).toBe(0);
    expect(['connecting', 'syncing', 'idle', 'connect_error'].every((state) => shouldWatch({ state: state as 'idle' }))).toBe(true);
    expect(shouldWatch({ state: 'auth_error' })).toBe(false);
    expect(shouldWatch({ state: 'disabled' })).toBe(false);
  });
});
