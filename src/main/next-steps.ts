// The one line `mailroom start|api|worker` logs once it is up: where to look
// and how to add the first mailbox, so a newcomer is not left at a silent log.
import type { AddressInfo } from 'node:net';

/** The base URL a person on this machine opens for a listening address (a wildcard becomes loopback). */
export function localBaseUrl(address: AddressInfo): string {
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

export function nextSteps(role: 'api' | 'worker' | 'start', address: AddressInfo | string | null | undefined): string {
  const addMailbox = 'add a mailbox with "mailroom tenant create SLUG" and "mailroom mailbox add --tenant SLUG ..." ("mailroom --help" lists the options)';
  if (role === 'worker' || !address || typeof address === 'string') {
    return `Next: ${addMailbox}; this worker syncs every enabled mailbox.`;
  }
  const base = localBaseUrl(address);
  const work = role === 'start' ? ', then mail that arrives becomes tickets' : '; a "mailroom worker" syncs them';
  return `Next: open ${base}/ (links to the API at ${base}/docs, the queues and the metrics); ${addMailbox}${work}; "npm run demo" shows it all with sample mail.`;
}
