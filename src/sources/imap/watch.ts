// Watching an IMAP folder: one logged-in connection per mailbox, EXAMINEd
// read-only and parked in IDLE (RFC 2177), that only says "there may be new
// mail" (EXISTS). It never fetches: the sync that the notice asks for runs
// under the worker's concurrency limit on its own connection, so a thousand
// quiet mailboxes cost a thousand sockets and no sync slots. IDLE is restarted
// every `refreshMs` (imapflow's maxIdleTime), well within the 29 minutes
// after which servers may drop it.
import type { Mailbox } from '../../generated/prisma/client.js';
import type { SourceContext, WatchOptions } from '../types.js';
import { connectImap } from './client.js';
import { classified } from './errors.js';

export async function watchImap(mailbox: Mailbox, ctx: SourceContext, opts: WatchOptions): Promise<'closed' | 'unsupported'> {
  if (opts.signal.aborted) return 'closed';
  let client;
  try {
    // IDLE is quiet by design: the socket may be silent until the next restart of IDLE, not longer.
    client = await connectImap(mailbox, ctx, { autoIdleDelay: 200, maxIdleTime: opts.refreshMs }, { signal: opts.signal, timeouts: { socketTimeout: opts.refreshMs + 60_000 } });
  } catch (err) {
    if (opts.signal.aborted) return 'closed';
    throw err;
  }
  const c = client;
  // Aborting closes the socket at once, whatever the connection is doing (an EXAMINE that hangs).
  let wake = () => undefined as void;
  const closed = new Promise<void>((resolve) => {
    wake = resolve;
    c.once('close', () => resolve());
  });
  const abort = () => {
    c.close();
    wake();
  };
  opts.signal.addEventListener('abort', abort, { once: true });
  try {
    if (!client.capabilities.has('IDLE')) return 'unsupported';
    try {
      await client.mailboxOpen(mailbox.folder, { readOnly: true });
    } catch (err) {
      if (opts.signal.aborted) return 'closed';
      throw classified(mailbox, err, 'folder');
    }
    client.on('exists', () => opts.onChange('news'));
    // Mail that arrived between the last sync and this IDLE is not announced by the server.
    opts.onChange('established');
    await closed;
    return 'closed';
  } finally {
    // The per-mailbox signal lives across reconnects: each attempt removes its own listener.
    opts.signal.removeEventListener('abort', abort);
    if (opts.signal.aborted) c.close();
    else await c.logout().catch(() => c.close());
  }
}
