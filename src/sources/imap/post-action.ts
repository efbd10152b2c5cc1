// The IMAP post-action (PRODUCT.md "Mailbox sync"): \Seen, a move to another
// folder, or nothing, run only after the message's result is committed. A
// post-action the server refuses (a folder that is gone) is logged and not
// retried: the mail is ingested, and retrying on every sync would only repeat
// the refusal. A lost connection is different: the error propagates, the ack
// stays due, and the next sync runs it.
import type { ImapFlow, ImapFlowError } from 'imapflow';
import { describeError } from '../../errors.js';
import type { Mailbox } from '../../generated/prisma/client.js';
import type { Logger } from '../../logging/logger.js';

export async function runPostAction(client: ImapFlow, mailbox: Pick<Mailbox, 'post_action' | 'post_action_folder'>, uid: bigint, log: Logger): Promise<void> {
  try {
    if (mailbox.post_action === 'seen') {
      await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
    } else if (mailbox.post_action === 'move' && mailbox.post_action_folder) {
      await client.messageMove(String(uid), mailbox.post_action_folder, { uid: true });
    }
  } catch (err) {
    const refused = (err as ImapFlowError).responseStatus === 'NO' || (err as ImapFlowError).responseStatus === 'BAD';
    if (!refused || !client.usable) throw err;
    log.warn({ err: describeError(err), uid: String(uid), action: mailbox.post_action }, 'post-action refused by the server; the message is ingested');
  }
}
