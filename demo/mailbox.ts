// Where the demo's sample mail goes: a throw-away Dovecot (the launcher the
// tests use, dev/dovecot.ts), or a mailbox of yours named by
// MAILROOM_DEMO_IMAP_URL; and the sample mails in demo/mail/, appended there.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';

export const MAIL_DIR = path.join(import.meta.dirname, 'mail');

/** An IMAP mailbox the demo appends to and Mailroom then reads. */
export interface DemoImap {
  address: string;
  host: string;
  port: number;
  tls: 'tls' | 'starttls' | 'none';
  username: string;
  password: string;
  folder: string;
}

/**
 * MAILROOM_DEMO_IMAP_URL: `imaps://USER:PASSWORD@HOST[:993][/FOLDER]` (implicit TLS) or
 * `imap://USER:PASSWORD@HOST[:143][/FOLDER]` (STARTTLS; `?tls=none` for plain text on a
 * local server); `?address=ADDR` when the login is not the mail address. Percent-encode
 * `@`, `:` and `/` inside the user or password.
 */
export function parseImapUrl(value: string): DemoImap {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new Error('MAILROOM_DEMO_IMAP_URL is not a URL; give imaps://USER:PASSWORD@HOST/FOLDER.');
  }
  if (u.protocol !== 'imap:' && u.protocol !== 'imaps:') throw new Error('MAILROOM_DEMO_IMAP_URL must start with imaps:// or imap://.');
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  if (!username || !password || !u.hostname) throw new Error('MAILROOM_DEMO_IMAP_URL needs a user, a password and a host (imaps://USER:PASSWORD@HOST).');
  const plain = u.searchParams.get('tls') === 'none';
  const address = u.searchParams.get('address') ?? username;
  if (!address.includes('@')) throw new Error('MAILROOM_DEMO_IMAP_URL: the login is not a mail address; add ?address=ADDR.');
  return {
    address: address.toLowerCase(),
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : u.protocol === 'imaps:' ? 993 : 143,
    tls: u.protocol === 'imaps:' ? 'tls' : plain ? 'none' : 'starttls',
    username,
    password,
    folder: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'INBOX',
  };
}

export interface SampleMail {
  file: string;
  raw: Buffer;
  /** The Date header: the INTERNALDATE the mail is appended with, so the thread reads in its real order. */
  date: Date;
}

/** demo/mail/*.eml in name order, with CRLF line ends as IMAP wants them. */
export function readSampleMails(dir = MAIL_DIR): SampleMail[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((file) => {
      const text = readFileSync(path.join(dir, file), 'latin1').replace(/\r?\n/g, '\r\n');
      const header = text.slice(0, text.indexOf('\r\n\r\n'));
      const dateLine = /^Date:[ \t]*(.+(?:\r\n[ \t].+)*)/im.exec(header)?.[1] ?? '';
      const date = new Date(dateLine.replace(/\r\n[ \t]+/g, ' ').replace(/\s*\([A-Z]+\)\s*$/, ''));
      return { file, raw: Buffer.from(text, 'latin1'), date: Number.isNaN(date.getTime()) ? new Date() : date };
    });
}

/** APPENDs every sample mail over one connection; `backdate` keeps each mail's own date as INTERNALDATE. */
export async function appendSampleMails(imap: DemoImap, mails: SampleMail[], options: { backdate: boolean }): Promise<void> {
  const client = new ImapFlow({
    host: imap.host,
    port: imap.port,
    secure: imap.tls === 'tls',
    doSTARTTLS: imap.tls === 'starttls' ? true : imap.tls === 'none' ? false : undefined,
    auth: { user: imap.username, pass: imap.password },
    logger: false,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (const m of mails) await client.append(imap.folder, m.raw, [], options.backdate ? m.date : undefined);
  } finally {
    await client.logout().catch(() => client.close());
  }
}
