// Change notices for mailboxes: a trigger on the mailboxes table NOTIFYs
// `mailroom_mailbox_changed` with the mailbox id when an admin adds,
// disables, enables, re-points or removes one (whoever did it: the CLI, the
// API, SQL). A worker LISTENs on one connection of its own and ends or starts
// that mailbox's sync and watch at once, instead of at its next poll. A lost
// connection is re-opened with backoff; the worker's periodic reconcile
// covers whatever was missed meanwhile.
import pg from 'pg';
import { describeError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { nextDelayMs } from '../mailboxes/backoff.js';

export const MAILBOX_CHANGED_CHANNEL = 'mailroom_mailbox_changed';

export interface ChangeListener {
  /** Resolves once the first LISTEN is in place (or failed: the listener keeps trying). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export function listenForMailboxChanges(databaseUrl: string, onChange: (mailboxId: number) => void, log: Logger): ChangeListener {
  let client: pg.Client | null = null;
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: databaseUrl, application_name: 'mailroom-mailbox-changes' });
    c.on('notification', (n) => {
      const id = Number(n.payload);
      if (n.channel === MAILBOX_CHANGED_CHANNEL && Number.isSafeInteger(id)) onChange(id);
    });
    c.on('error', (err) => log.warn({ err: describeError(err) }, 'mailbox change listener lost its connection'));
    c.on('end', () => {
      if (client === c) client = null;
      if (!stopped) retry();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${MAILBOX_CHANGED_CHANNEL}`);
      if (stopped) {
        // stop() ran while this reconnect was under way: this connection must not keep the process alive.
        c.removeAllListeners('end');
        await c.end().catch(() => undefined);
        return;
      }
      client = c;
      failures = 0;
    } catch (err) {
      log.warn({ err: describeError(err) }, 'cannot listen for mailbox changes; retrying');
      c.removeAllListeners('end');
      await c.end().catch(() => undefined);
      if (!stopped) retry();
    }
  };
  const retry = () => {
    failures += 1;
    clearTimeout(timer);
    timer = setTimeout(() => void connect(), nextDelayMs(failures, 'connect'));
    timer.unref();
  };

  const ready = connect();
  return {
    ready,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await ready;
      await client?.end().catch(() => undefined);
    },
  };
}
