// AckQueue: one command per flush for all queued UIDs; a refusal by the
// server counts as done (logged), a connection lost before or during the
// command leaves every queued ack due (rejected), whether imapflow throws or
// answers false.
import { describe, expect, it } from 'vitest';
import type { ImapFlow } from 'imapflow';
import { AckQueue } from '../../../src/sources/imap/acks.js';
import { createLogger } from '../../../src/logging/logger.js';

const log = createLogger({ level: 'silent' });

function fakeClient(answer: () => Promise<unknown>, usable = true) {
  const calls: string[] = [];
  const client = {
    usable,
    mailbox: usable ? { path: 'INBOX' } : false,
    messageFlagsAdd: async (set: string) => {
      calls.push(`STORE ${set}`);
      return answer();
    },
    messageMove: async (set: string, to: string) => {
      calls.push(`MOVE ${set} ${to}`);
      return answer();
    },
  };
  return { client: client as unknown as ImapFlow, calls, state: client };
}

describe('AckQueue', () => {
  it('acknowledges a batch with one command', async () => {
    const { client, calls } = fakeClient(async () => true);
    const q = new AckQueue(client, { post_action: 'seen', post_action_folder: null }, log);
    const acks = [q.add(3n), q.add(1n), q.add(2n), q.add(7n)];
    await q.flush();
    await Promise.all(acks);
    expect(calls).toEqual(['STORE 1:3,7']);

    const move = fakeClient(async () => ({ uidMap: new Map() }));
    const m = new AckQueue(move.client, { post_action: 'move', post_action_folder: 'Done' }, log);
    const moved = m.add(5n);
    await m.flush();
    await moved;
    expect(move.calls).toEqual(['MOVE 5 Done']);
  });

  it('counts a refusal by a live server as done', async () => {
    const { client } = fakeClient(async () => false, true);
    const q = new AckQueue(client, { post_action: 'move', post_action_folder: 'Gone' }, log);
    const ack = q.add(1n);
    await q.flush();
    await expect(ack).resolves.toBeUndefined();
  });

  it('leaves the acks due when the connection is lost, however imapflow says so', async () => {
    const quiet = fakeClient(async () => false, false);
    const q = new AckQueue(quiet.client, { post_action: 'seen', post_action_folder: null }, log);
    const a = [q.add(1n), q.add(2n)];
    await q.flush();
    for (const p of a) await expect(p).rejects.toMatchObject({ code: 'MAILBOX_CONNECT_FAILED' });

    const loud = fakeClient(async () => {
      throw Object.assign(new Error('Socket closed unexpectedly'), { code: 'NoConnection' });
    });
    const r = new AckQueue(loud.client, { post_action: 'seen', post_action_folder: null }, log);
    const b = r.add(9n);
    await r.flush();
    await expect(b).rejects.toThrow(/Socket closed/);
  });
});
