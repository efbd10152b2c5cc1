// The ceiling Mailroom is measured against: how fast one process can read the
// same mailbox at all. Raw: one imapflow connection streaming
// `FETCH 1:* (BODY[])`. Fetch + parse: the same stream with mailparser's
// simpleParser run on each message as it arrives. Both on a warm cache (a
// first, unreported pass reads the folder once), as the worker's run is.
import { simpleParser } from 'mailparser';
import { imapClient, type DovecotInfo } from '../../test/support/dovecot.js';

export interface Rate {
  mails: number;
  ms: number;
  msgs_per_s: number;
  mb_per_s: number;
}

export interface CeilingResult {
  fetch: Rate;
  fetch_parse: Rate;
}

const MB = 1024 * 1024;

async function streamFolder(dovecot: DovecotInfo, user: string, onMessage: (source: Buffer) => Promise<void>): Promise<Rate> {
  const client = imapClient(dovecot, user);
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.mailboxOpen('INBOX');
    let mails = 0;
    let bytes = 0;
    const start = performance.now();
    for await (const msg of client.fetch('1:*', { source: true })) {
      if (!msg.source) continue;
      mails += 1;
      bytes += msg.source.length;
      await onMessage(msg.source);
    }
    const ms = performance.now() - start;
    return { mails, ms: Math.round(ms), msgs_per_s: Math.round((mails * 10_000) / ms) / 10, mb_per_s: Math.round((bytes / MB / (ms / 1000)) * 100) / 100 };
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export async function measureCeiling(dovecot: DovecotInfo, user: string): Promise<CeilingResult> {
  await streamFolder(dovecot, user, async () => undefined);
  const fetch = await streamFolder(dovecot, user, async () => undefined);
  const fetch_parse = await streamFolder(dovecot, user, async (source) => {
    await simpleParser(source);
  });
  return { fetch, fetch_parse };
}
