// Puts generated mail into a Dovecot user's INBOX over one IMAP connection,
// building each mail only when it is appended (a 2,000-mail corpus is hundreds
// of MB: it never has to sit in memory at once).
import { imapClient, type DovecotInfo } from '../../test/support/dovecot.js';
import { corpusMail, type CorpusAttachment } from './corpus.js';

export interface Appended {
  mails: number;
  bytes: number;
}

/** Mails [from, from + count) of the corpus of `seed`, addressed to `user`; `extra` adds attachments to some. */
export async function appendCorpus(dovecot: DovecotInfo, user: string, seed: number, from: number, count: number, extra: Map<number, CorpusAttachment[]> = new Map()): Promise<Appended> {
  const client = imapClient(dovecot, user);
  client.on('error', () => undefined);
  await client.connect();
  let bytes = 0;
  try {
    for (let i = from; i < from + count; i++) {
      const raw = corpusMail(seed, i, user, extra.get(i));
      bytes += raw.length;
      await client.append('INBOX', raw);
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return { mails: count, bytes };
}
