// Acknowledgements of committed messages, run as one command per kind of
// post-action instead of one round trip per message: `\Seen` for a whole UID
// set with one UID STORE, a move with one UID MOVE. Acks are queued and
// flushed at batch boundaries and at the end of a sync (the sync driver calls
// flush); each ack's promise settles when its command has run. A refusal by
// the server (a folder that is gone) is logged and counts as done: retrying
// would only repeat it. A lost connection rejects the promises: the acks stay
// due and the next sync catches them up.
import type { ImapFlow, ImapFlowError } from 'imapflow';
import { MailroomError } from '../../errors.js';
import type { Mailbox } from '../../generated/prisma/client.js';
import type { Logger } from '../../logging/logger.js';
import { uidSet } from './fetch-plan.js';

interface Waiting {
  readonly uid: bigint;
  resolve(): void;
  reject(err: unknown): void;
}

/** UIDs per command: keeps a command line well under servers' limits. */
const MAX_PER_COMMAND = 500;

export class AckQueue {
  private waiting: Waiting[] = [];

  constructor(
    private readonly client: ImapFlow,
    private readonly mailbox: Pick<Mailbox, 'post_action' | 'post_action_folder'>,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.waiting.length;
  }

  /** Settles once the post-action of `uid` ran (in a later flush). */
  add(uid: bigint): Promise<void> {
    return new Promise<void>((resolve, reject) => this.waiting.push({ uid, resolve, reject }));
  }

  async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      const chunk = this.waiting.splice(0, MAX_PER_COMMAND);
      try {
        await this.run(chunk.map((w) => w.uid));
        for (const w of chunk) w.resolve();
      } catch (err) {
        for (const w of [...chunk, ...this.waiting.splice(0)]) w.reject(err);
        return;
      }
    }
  }

  private async run(uids: bigint[]): Promise<void> {
    const set = uidSet(uids);
    let ok: unknown = true;
    try {
      // imapflow answers a refusal or a connection lost mid-command with false, not an error.
      if (this.mailbox.post_action === 'seen') ok = await this.client.messageFlagsAdd(set, ['\\Seen'], { uid: true });
      else if (this.mailbox.post_action === 'move' && this.mailbox.post_action_folder) ok = await this.client.messageMove(set, this.mailbox.post_action_folder, { uid: true });
    } catch (err) {
      const status = (err as ImapFlowError).responseStatus;
      if ((status !== 'NO' && status !== 'BAD') || !this.client.usable) throw err;
      ok = false;
    }
    if (ok !== false && ok !== undefined) return;
    if (!this.client.usable || !this.client.mailbox) throw new MailroomError('MAILBOX_CONNECT_FAILED', 'The IMAP connection was lost before the post-action ran; it runs on the next sync.');
    this.log.warn({ uids: uids.length, action: this.mailbox.post_action }, 'post-action refused by the server; the messages are ingested');
  }
}
