// From a stored mailbox row to the options of an ImapFlow client (imapflow
// 2.10.2): the one place that builds an ImapFlow, so that syncing, watching
// and the connection test cannot drift apart in how they connect. Secrets are decrypted here,
// just before use, and handed only to imapflow (never to a log). Every socket imapflow opens
// goes through the connection policy: an IP-literal host is checked here, a host name by the
// `lookup` imapflow hands to node:net/tls, at each connect (src/net/resolve.ts).
import type { ConnectionOptions } from 'node:tls';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { decryptSecret } from '../../crypto/secrets.js';
import type { Logger } from '../../logging/logger.js';
import type { ConnectionPolicy } from '../../net/policy.js';
import { assertHostAllowed, policyLookup } from '../../net/resolve.js';
import { refreshAccessToken, type AccessTokenCache, type FetchFn, type RefreshParams } from '../oauth.js';
import type { Mailbox } from '../../generated/prisma/client.js';
import type { MailboxConnectionRow, SourceContext } from '../types.js';
import { classified } from './errors.js';

export interface ImapTimeouts {
  /** DNS + TCP + TLS handshake, one budget. */
  connectionTimeout: number;
  /** From connected to the server's `* OK` greeting. */
  greetingTimeout: number;
  /** Inactivity on an open connection (IDLE restarts well within it). */
  socketTimeout: number;
}

export const DEFAULT_IMAP_TIMEOUTS: ImapTimeouts = { connectionTimeout: 30_000, greetingTimeout: 15_000, socketTimeout: 5 * 60_000 };

export interface OAuthClientOptions {
  /** Use this access token as it is (the connection test refreshes it itself). */
  accessToken?: string;
  /** Access tokens per mailbox id (the worker's cache); `false` or absent: always refresh. */
  cache?: AccessTokenCache | false;
  fetch?: FetchFn;
  timeoutMs?: number;
  /** Called when the endpoint rotated the refresh token: store it, or the next refresh may fail. */
  onRotated?: (refreshToken: string) => Promise<void>;
}

export interface ImapClientDeps {
  /** The current MAILROOM_SECRET_KEY first, older keys after it (rotation). */
  secretKeys: Buffer | readonly Buffer[];
  /** Where the mailbox and its token endpoint may be (MAILROOM_ALLOW_PRIVATE_HOSTS). */
  policy: ConnectionPolicy;
  /** A pino logger (redacting secrets, see src/logging/logger.ts); default: no imapflow logs. */
  logger?: Logger | false;
  oauth?: OAuthClientOptions;
  /** Extra node:tls options, e.g. `ca` for a private certificate authority. */
  tls?: ConnectionOptions;
  timeouts?: Partial<ImapTimeouts>;
}

/** secure / doSTARTTLS for each TLS mode; never secure together with doSTARTTLS (imapflow refuses it). */
export function transportSecurity(mode: MailboxConnectionRow['tls']): Pick<ImapFlowOptions, 'secure' | 'doSTARTTLS'> {
  switch (mode) {
    case 'tls':
      return { secure: true };
    case 'starttls':
      // Required, not opportunistic: a stripped STARTTLS capability must fail, not send the password in clear.
      return { secure: false, doSTARTTLS: true };
    case 'none':
      return { secure: false, doSTARTTLS: false };
  }
}

/**
 * node:tls options of a mailbox: TLS 1.2 at least, and its private CA (`tls_ca_pem`) as the
 * only trust anchor when it has one (the server's certificate must chain to it). The
 * connection test's own handshake and every imapflow client take these, so both trust the same.
 */
export function tlsOptions(row: Pick<MailboxConnectionRow, 'tls_ca_pem'>, extra?: ConnectionOptions): ConnectionOptions {
  return { minVersion: 'TLSv1.2', ...(row.tls_ca_pem ? { ca: row.tls_ca_pem } : {}), ...extra };
}

/** The OAuth2 refresh parameters of a row, secrets decrypted. */
export function oauthParams(row: MailboxConnectionRow, secretKeys: Buffer | readonly Buffer[]): RefreshParams {
  if (!row.oauth_token_url || !row.oauth_client_id) {
    throw new TypeError('An OAuth2 mailbox needs oauth_token_url and oauth_client_id.');
  }
  return {
    tokenUrl: row.oauth_token_url,
    clientId: row.oauth_client_id,
    clientSecret: row.oauth_client_secret_encrypted ? decryptSecret(row.oauth_client_secret_encrypted, secretKeys) : null,
    refreshToken: decryptSecret(row.secret_encrypted, secretKeys),
    scope: row.oauth_scope,
  };
}

async function accessTokenFor(row: MailboxConnectionRow, deps: ImapClientDeps): Promise<string> {
  const o = deps.oauth ?? {};
  if (o.accessToken) return o.accessToken;
  const params = oauthParams(row, deps.secretKeys);
  const refresh = { policy: deps.policy, fetch: o.fetch, timeoutMs: o.timeoutMs };
  const cache = o.cache ?? false;
  // A mailbox not stored yet has no id to cache under.
  const token = cache && row.id !== undefined ? await cache.get(row.id, params, refresh) : await refreshAccessToken(params, refresh);
  if (token.refreshToken && token.refreshToken !== params.refreshToken && o.onRotated) await o.onRotated(token.refreshToken);
  return token.accessToken;
}

export async function imapClientOptions(row: MailboxConnectionRow, deps: ImapClientDeps): Promise<ImapFlowOptions> {
  assertHostAllowed(deps.policy, row.host);
  const auth =
    row.auth === 'oauth2'
      ? { user: row.username, accessToken: await accessTokenFor(row, deps) }
      : { user: row.username, pass: decryptSecret(row.secret_encrypted, deps.secretKeys) };
  const timeouts = { ...DEFAULT_IMAP_TIMEOUTS, ...deps.timeouts };
  const logger = deps.logger ? deps.logger.child({ component: 'imap', mailbox_id: row.id ?? null, host: row.host }) : false;
  return {
    host: row.host,
    port: row.port,
    ...transportSecurity(row.tls),
    // imapflow passes `tls` to net.connect as well as tls.connect: the lookup guards plain text too.
    tls: { ...tlsOptions(row, deps.tls), lookup: policyLookup(deps.policy) },
    auth,
    logger,
    connectionTimeout: timeouts.connectionTimeout,
    greetingTimeout: timeouts.greetingTimeout,
    socketTimeout: timeouts.socketTimeout,
    clientInfo: { name: 'Mailroom' },
  };
}

/**
 * A not yet connected ImapFlow client. It already has an `error` listener that
 * logs (an EventEmitter without one would crash the process on a dropped
 * connection); callers add their own for recovery.
 */
export async function createImapClient(row: MailboxConnectionRow, deps: ImapClientDeps, extra: Partial<ImapFlowOptions> = {}): Promise<ImapFlow> {
  const client = new ImapFlow({ ...(await imapClientOptions(row, deps)), ...extra });
  client.on('error', (err: Error) => {
    if (deps.logger) deps.logger.warn({ mailbox_id: row.id ?? null, host: row.host, err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'IMAP connection error');
  });
  return client;
}

/**
 * A logged-in client (no folder open yet), shared by syncing and watching.
 * Aborting `signal` while it connects closes the socket at once (a disabled
 * mailbox must not wait out a connection timeout).
 */
export async function connectImap(
  mailbox: Mailbox,
  ctx: SourceContext,
  extra: Parameters<typeof createImapClient>[2],
  opts: { signal?: AbortSignal; timeouts?: Partial<ImapTimeouts> } = {},
): Promise<ImapFlow> {
  const { signal } = opts;
  let client: ImapFlow;
  try {
    client = await createImapClient(
      mailbox,
      {
        secretKeys: ctx.secretKeys,
        policy: ctx.policy,
        logger: false,
        timeouts: { ...opts.timeouts, ...(ctx.timeouts as Partial<ImapTimeouts> | undefined) },
        oauth: { cache: ctx.tokens, onRotated: ctx.onSecretRotated ? (secret) => ctx.onSecretRotated!(mailbox.id, secret) : undefined },
      },
      extra,
    );
  } catch (err) {
    throw classified(mailbox, err, 'connect');
  }
  client.on('error', (err: Error) => ctx.logger.warn({ mailboxId: mailbox.id, err: err.message }, 'IMAP connection error'));
  const abort = () => client.close();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    await client.connect();
  } catch (err) {
    client.close();
    throw classified(mailbox, err, 'connect');
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  return client;
}
