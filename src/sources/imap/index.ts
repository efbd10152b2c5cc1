// IMAP as a mail source (src/sources/types.ts): sessions, watching through
// IDLE, the connection test, and the one error classifier they share.
import type { MailSource } from '../types.js';
import { testMailboxConnection } from './connection-test.js';
import { describeCursor, describeKey } from './cursor.js';
import { sourceFailure } from './errors.js';
import { openImapSession } from './session.js';
import { watchImap } from './watch.js';

export const imapSource: MailSource = {
  kind: 'imap',
  open: openImapSession,
  watch: watchImap,
  classify: sourceFailure,
  test: (row, ctx) => testMailboxConnection({ mailbox: row, secretKeys: ctx.secretKeys, policy: ctx.policy, timeoutMs: ctx.timeoutMs, onSecretRotated: ctx.onSecretRotated }),
  describeCursor,
  describeKey,
};
