// IMAP as a mail source (src/sources/types.ts): sessions, watching through
// IDLE, the connection test, and the one error classifier they share.
import type { MailSource } from '../types.js';
import { testMailboxConnection } from './connection-test.js';
import { describeCursor, describeKey } from './cursor.js';
import { classifyImapError, STAGE_CODES, toSourceFailure } from './errors.js';
import { openImapSession } from './session.js';
import { watchImap } from './watch.js';
import { isMailroomError } from '../../errors.js';

const STAGE_OF = new Map(Object.entries(STAGE_CODES).map(([stage, code]) => [code as string, stage]));

export const imapSource: MailSource = {
  kind: 'imap',
  open: openImapSession,
  watch: watchImap,
  classify(mailbox, err) {
    // Errors the session already classified carry their stage's code.
    if (isMailroomError(err) && STAGE_OF.has(err.code)) {
      const stage = STAGE_OF.get(err.code) as Parameters<typeof toSourceFailure>[0]['stage'];
      return toSourceFailure({ stage, code: err.code, message: err.message });
    }
    return toSourceFailure(classifyImapError(mailbox, err, 'session'));
  },
  test: (row, ctx) => testMailboxConnection({ mailbox: row, secretKeys: ctx.secretKeys, timeoutMs: ctx.timeoutMs }),
  describeCursor,
  describeKey,
};
