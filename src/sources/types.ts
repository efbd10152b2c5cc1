// The mail-source contract: how mail gets into Mailroom, whatever carries it.
// A source (IMAP today; an LMTP listener, a provider webhook, Graph or Gmail
// APIs, an mbox import later) knows its protocol and nothing after it; ingest
// and everything downstream know no protocol. A source:
//
// - yields **items**: the raw bytes of one mail, a `sourceKey` naming the item
//   within its mailbox (unique there: the ingest record's identity), when it
//   was received, and the opaque **cursor** that is true once this item is
//   stored. Ingest writes that cursor in the same transaction as the item's
//   result, so the cursor never passes a mail whose result is not stored.
// - may say how many items it has left (a **backlog** event), for progress;
// - may yield **cursor moves** on their own (a reset after its numbering
//   changed, items passed over): the sync driver stores them as they come.
// - is told each result (`ack`), and runs its post-action then (IMAP: \Seen,
//   move). An ack that a crash prevented is repeated by the next sync.
// - may **watch**: hold one cheap connection and say when there may be news
//   (IMAP IDLE, a push subscription). Watching never does the work: it only
//   asks for a sync, which runs under the worker's concurrency limit.
//
// Lock, health, backoff and scheduling belong to the sync worker
// (src/sync/), which drives every source the same way. A new source is a
// folder under src/sources/ implementing MailSource, plus one line in
// registry.ts.

import type { ErrorCode } from '../errors.js';
import type { Mailbox, MailboxTls } from '../generated/prisma/client.js';
import type { InboundItem, IngestOutcome } from '../ingest/types.js';
import type { Logger } from '../logging/logger.js';
import type { ConnectionPolicy } from '../net/policy.js';
import type { AccessTokenCache } from './oauth.js';

export type { InboundItem };

export type SourceEvent =
  | { readonly type: 'item'; readonly item: InboundItem }
  | { readonly type: 'cursor'; readonly cursor: string | null }
  /** How many items this pull will still yield (as far as the source knows): the backlog `mailroom status` shows. */
  | { readonly type: 'backlog'; readonly items: number };

/** What became of an item (or of a stored record whose ack is still due). */
export interface ItemAck {
  readonly sourceKey: string;
  readonly outcome: IngestOutcome;
}

/**
 * `done`: the post-action ran (or there is none); `stale`: the key no longer
 * names an item here (IMAP: another UIDVALIDITY), nothing can be done; both
 * end the ack. `kept`: deliberately left (a failed mail stays untouched for a
 * person), to be offered again if the record's outcome changes.
 */
export type AckResult = 'done' | 'stale' | 'kept';

/** One connected sync pass over a mailbox. */
export interface SourceSession {
  /** Whether results are acknowledged at all (IMAP: a post-action is configured); false skips ack bookkeeping. */
  readonly acks: boolean;
  /**
   * Events past `cursor`, oldest first; stops early when `signal` aborts. A
   * cursor the source does not recognise (null, or an admin's reset marker,
   * mailboxes/reset-cursor.ts) means none: the folder is read afresh.
   */
  pull(cursor: string | null, signal: AbortSignal): AsyncIterable<SourceEvent>;
  /**
   * Settles once the post-action ran. A session may defer it (IMAP runs one
   * command per batch): the driver does not wait for each ack before the next
   * item, and calls flush() before it ends.
   */
  ack(ack: ItemAck): Promise<AckResult>;
  /** Runs every deferred ack now. */
  flush(): Promise<void>;
  /**
   * The driver is done with the item (its result is stored): a source that
   * keeps an item's bytes outside memory (IMAP: a large mail's temporary
   * file) frees them now; close() frees whatever is left.
   */
  release?(item: InboundItem): Promise<void>;
  close(): Promise<void>;
  /**
   * How long the server has owed an answer without a word: for the state ops
   * see while a sync waits on a dead or black-holed server. Absent: the source
   * cannot tell.
   */
  silence?(): SourceSilence;
}

export interface SourceSilence {
  /** Since the server last said anything while a command waits on it; 0 when nothing is owed. */
  readonly silentMs: number;
  /** Silent this long, the session gives up and the sync fails. */
  readonly giveUpMs: number;
}

export interface WatchOptions {
  readonly signal: AbortSignal;
  /** Re-establish the wait this often (IMAP: restart IDLE), so a silently dead connection is noticed. */
  readonly refreshMs: number;
  /**
   * New items may be there: ask for a sync. `news`: the server announced a
   * change. `established`: the watch is in place (each time it connects): what
   * arrived before it was not announced, so a catch-up is due, not urgent.
   */
  readonly onChange: (why: 'news' | 'established') => void;
}

/** What a source failure means for the mailbox, in one sentence without secrets. */
export interface SourceFailure {
  /**
   * `auth`: the credentials were refused: needs a person, long backoff, auth_error.
   * `folder`: the folder is missing or cannot be opened: retried soon (it may be back in a moment).
   * `connect`: anything else, transient.
   */
  readonly kind: 'auth' | 'folder' | 'connect';
  readonly code: ErrorCode;
  readonly message: string;
}

/** What a source gets from the worker: secrets, the token cache, limits, a logger. */
export interface SourceContext {
  /** The current MAILROOM_SECRET_KEY first, older keys after it. */
  readonly secretKeys: readonly Buffer[];
  /** Where a mailbox may make Mailroom connect (MAILROOM_ALLOW_PRIVATE_HOSTS); checked on every connect. */
  readonly policy: ConnectionPolicy;
  readonly logger: Logger;
  readonly tokens: AccessTokenCache;
  /** Items larger than this are not downloaded whole (see InboundItem.oversize). */
  readonly maxRawBytes: number;
  /** The source rotated a stored secret (an OAuth2 refresh token): store it encrypted. */
  readonly onSecretRotated?: (mailboxId: number, secret: string) => Promise<void>;
  /** A sync's connection silent this long is dead (MAILROOM_IMAP_TIMEOUT_SECONDS); default: the source's own. */
  readonly silenceTimeoutMs?: number;
  /** Protocol timeouts in ms, for tests; each source names its own. */
  readonly timeouts?: Readonly<Record<string, number>>;
}

/** What a connection test is given. */
export type SourceTestContext = Pick<SourceContext, 'secretKeys' | 'policy'> & {
  timeoutMs?: number;
  /**
   * The test rotated a stored secret (an OAuth2 endpoint answered the refresh
   * with a new refresh token; the old one may stop working): the caller stores
   * it, whatever the later stages of the test found.
   */
  onSecretRotated?: (secret: string) => Promise<void>;
};

export interface MailSource {
  readonly kind: string;
  open(mailbox: Mailbox, ctx: SourceContext): Promise<SourceSession>;
  /** Absent: the source cannot watch, and its mailboxes are polled. */
  readonly watch?: (mailbox: Mailbox, ctx: SourceContext, opts: WatchOptions) => Promise<'closed' | 'unsupported'>;
  /** Maps anything open/pull/ack/watch threw to what it means for the mailbox. */
  classify(mailbox: Mailbox, err: unknown): SourceFailure;
  /** Connects and checks every stage an admin can get wrong (the mailbox test). */
  test(row: MailboxConnectionRow, ctx: SourceTestContext): Promise<ConnectionTestResult>;
  /** The cursor as readable fields for views (IMAP: uid_validity, last_uid, highest_modseq). */
  describeCursor(cursor: string | null): Record<string, number | string | null>;
  /** A source key as readable fields for the ingest log (IMAP: uid_validity, uid). */
  describeKey(sourceKey: string): Record<string, number | string | null>;
}

/** The columns needed to connect to a mailbox (a stored row, or one about to be stored). */
export type MailboxConnectionRow = Pick<
  Mailbox,
  'host' | 'port' | 'tls' | 'username' | 'auth' | 'secret_encrypted' | 'oauth_token_url' | 'oauth_client_id' | 'oauth_client_secret_encrypted' | 'oauth_scope' | 'tls_ca_pem' | 'folder'
> & {
  /** Absent before the mailbox is stored: then no OAuth2 access token is cached for it. */
  id?: number;
};

/** `policy`: the connection policy refused the address (nothing was sent to it). */
export type ConnectionTestStage = 'dns' | 'policy' | 'tcp' | 'tls' | 'auth' | 'folder' | 'oauth';

export interface ConnectionTestDetails {
  host: string;
  port: number;
  /** The address the TCP connection went to (the host itself when it is an IP literal). */
  address: string;
  tls: MailboxTls;
  /** Negotiated TLS version (`TLSv1.3`), null for plain text. */
  tls_protocol: string | null;
  username: string;
  folder: string;
  messages: number;
  uid_validity: number;
  uid_next: number;
}

export type ConnectionTestResult =
  | { ok: true; details: ConnectionTestDetails }
  | { ok: false; stage: ConnectionTestStage; code: ErrorCode; message: string };
