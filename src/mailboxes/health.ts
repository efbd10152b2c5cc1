// The mailbox health state machine (PRODUCT.md "Mailbox sync": state, last
// success, last error, consecutive failures; failures back off, an auth error
// waits for a person). Pure: an event and the current health in, the columns
// to write out. The sync worker and the admin service both go through it, so
// the states and what moves between them live in one place (EmailEngine keeps
// its account state the same way).
//
//   connecting ──opened──▶ syncing ──synced──▶ idle ──(next sync)──▶ connecting
//        │                  │  ▲
//        │            silent│  │answered   (a sync waiting on a silent server:
//        │                  ▼  │            shown as connect_error, not counted)
//        │              connect_error
//        │                    │
//        └──────failed────────┴──▶ connect_error | auth_error ──(backoff)──▶ connecting
//   any ──disabled──▶ disabled ──enabled──▶ connecting (failures forgotten)
//   any ──reconfigured (new server or credentials)──▶ connecting (failures forgotten)
//
// A sync writes connecting and syncing only once it has run long enough for
// somebody to see them (src/sync/pass-health.ts); its outcome always.

import type { MailboxState } from '../generated/prisma/enums.js';
import { nextDelayMs } from './backoff.js';
import type { FailureKind } from './backoff.js';
import { replaceControls } from '../util/controls.js';

export type { MailboxState };

export interface MailboxHealth {
  state: MailboxState;
  consecutive_failures: number;
  last_success_at: Date | null;
  last_error: string | null;
  /** No connection attempt before this (reconnect backoff). */
  next_attempt_at: Date | null;
}

export type HealthEvent =
  | { type: 'connecting' }
  | { type: 'opened' }
  /** A running sync has waited on a server that says nothing (not a failure yet: it may answer). */
  | { type: 'silent'; message: string }
  /** The silent server answered again: back to syncing, with the last error as it was before. */
  | { type: 'answered'; lastError: string | null }
  | { type: 'synced'; at: Date }
  | { type: 'failed'; kind: FailureKind; message: string; at: Date; random?: () => number }
  | { type: 'disabled' }
  | { type: 'enabled' }
  | { type: 'reconfigured' };

/** The columns to write for `event`; columns not named keep their value. */
export function transition(current: Pick<MailboxHealth, 'consecutive_failures'>, event: HealthEvent): Partial<MailboxHealth> {
  switch (event.type) {
    case 'connecting':
      return { state: 'connecting' };
    case 'opened':
      return { state: 'syncing' };
    case 'silent':
      return { state: 'connect_error', last_error: replaceControls(event.message).slice(0, 2000) };
    case 'answered':
      return { state: 'syncing', last_error: event.lastError };
    case 'synced':
      return { state: 'idle', last_success_at: event.at, last_error: null, consecutive_failures: 0, next_attempt_at: null };
    case 'failed': {
      const failures = current.consecutive_failures + 1;
      const retryInMs = nextDelayMs(failures, event.kind, event.random);
      return {
        state: event.kind === 'auth' ? 'auth_error' : 'connect_error',
        // What a server said, stored: its control characters replaced (src/util/controls.ts).
        last_error: replaceControls(event.message).slice(0, 2000),
        consecutive_failures: failures,
        next_attempt_at: new Date(event.at.getTime() + retryInMs),
      };
    }
    case 'disabled':
      return { state: 'disabled' };
    case 'enabled':
    case 'reconfigured':
      return { state: 'connecting', consecutive_failures: 0, next_attempt_at: null };
  }
}

/** How long until a sync may connect again; 0: now. */
export function waitBeforeAttempt(health: Pick<MailboxHealth, 'next_attempt_at'>, now: Date): number {
  return Math.max(0, (health.next_attempt_at?.getTime() ?? 0) - now.getTime());
}

/** Whether a mailbox in this state should hold a watch connection (auth errors wait for their backoff or a person). */
export function shouldWatch(health: Pick<MailboxHealth, 'state'>): boolean {
  return health.state !== 'auth_error' && health.state !== 'disabled';
}
