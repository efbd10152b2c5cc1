// The one classifier of what imapflow (and the sockets under it) throws: which
// stage failed, the registry code, and one sentence naming host:port, user or
// folder, never a secret. The connection test reports the stage to an admin;
// a sync turns it into the mailbox's health (credentials and folders need a
// person and back off long, everything else is transient).
import type { ImapFlowError } from 'imapflow';
import { describeError, isMailroomError, MailroomError, type ErrorCode } from '../../errors.js';
import { replaceControls } from '../../util/controls.js';
import type { ConnectionTestStage, MailboxConnectionRow } from '../types.js';
import type { SourceFailure } from '../types.js';

export interface ImapFailure {
  readonly stage: ConnectionTestStage;
  readonly code: ErrorCode;
  readonly message: string;
}

export const STAGE_CODES: Readonly<Record<ConnectionTestStage, ErrorCode>> = Object.freeze({
  dns: 'MAILBOX_DNS_FAILED',
  policy: 'CONNECTION_NOT_ALLOWED',
  tcp: 'MAILBOX_CONNECT_FAILED',
  tls: 'MAILBOX_TLS_FAILED',
  oauth: 'OAUTH_FAILED',
  auth: 'MAILBOX_AUTH_FAILED',
  folder: 'MAILBOX_FOLDER_FAILED',
});

const STAGE_OF_CODE = new Map<ErrorCode, ConnectionTestStage>(Object.entries(STAGE_CODES).map(([stage, code]) => [code, stage as ConnectionTestStage]));

/** The stage a registry code stands for (MAILBOX_AUTH_FAILED → auth), if it is one of them. */
export function stageOfCode(code: ErrorCode): ConnectionTestStage | undefined {
  return STAGE_OF_CODE.get(code);
}

/** The registry error for an imapflow failure (the original as its cause); one already classified is kept. */
export function classified(row: Parameters<typeof classifyImapError>[0], err: unknown, during: 'connect' | 'folder' | 'session'): MailroomError {
  if (err instanceof MailroomError && stageOfCode(err.code)) return err;
  const f = classifyImapError(row, err, during);
  return new MailroomError(f.code, f.message, { cause: err });
}

/** Node's error codes for a certificate that failed verification. */
export const CERT_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME/;

export function errCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** OpenSSL's short reason (its message is a dump of library internals), with the code. */
export function tlsReason(err: unknown): string {
  const code = errCode(err);
  const reason = (err as { reason?: unknown } | undefined)?.reason;
  const text = (typeof reason === 'string' && reason ? reason : err instanceof Error ? err.message : String(err)).trim().replace(/\.$/, '');
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/** What a server said is stored and shown: its control characters are replaced (src/util/controls.ts). */
const failure = (stage: ConnectionTestStage, message: string): ImapFailure => ({ stage, code: STAGE_CODES[stage], message: replaceControls(message) });

function isMissingFolder(e: ImapFlowError): boolean {
  return Boolean(e.mailboxMissing) || e.serverResponseCode === 'NONEXISTENT' || /mailbox doesn't exist|nonexistent/i.test(e.responseText ?? '');
}

/**
 * What failed. `during` says what was being done: `connect` (up to and
 * including login), `folder` (opening it) or `session` (anything after).
 */
export function classifyImapError(row: Pick<MailboxConnectionRow, 'host' | 'port' | 'username' | 'folder' | 'auth' | 'tls'>, err: unknown, during: 'connect' | 'folder' | 'session'): ImapFailure {
  const e = (err ?? {}) as ImapFlowError;
  const where = `${row.host}:${row.port}`;
  if (isMailroomError(err, 'CONNECTION_NOT_ALLOWED')) return failure('policy', err.message);
  if (isMailroomError(err, 'OAUTH_FAILED')) return failure('oauth', err.message);
  // Secrets that cannot be decrypted: the stored credentials are unusable, an auth problem for the admin.
  if (isMailroomError(err, 'SECRET_DECRYPT_FAILED')) return { stage: 'auth', code: err.code, message: err.message };
  if (e.authenticationFailed || isMailroomError(err, 'MAILBOX_AUTH_FAILED')) {
    const said = e.responseText || e.serverResponseCode || 'authentication failed';
    const how = row.auth === 'oauth2' ? 'the OAuth2 access token' : 'the login';
    return failure('auth', `${where} rejected ${how} of user ${row.username}: ${said.replace(/\.$/, '')}.`);
  }
  if (/Unsupported authentication mechanism/i.test(e.message ?? '') && row.auth === 'oauth2') {
    return failure('auth', `${where} does not offer OAuth2 login (XOAUTH2 or OAUTHBEARER) for user ${row.username}.`);
  }
  if (isMissingFolder(e)) return failure('folder', `Folder "${row.folder}" does not exist for user ${row.username} on ${where}.`);
  // Only the server's own refusal (NO/BAD) is about the folder; a connection lost while opening it is the network's.
  if (during === 'folder' && (e.responseStatus === 'NO' || e.responseStatus === 'BAD')) {
    const said = e.responseText || describeError(err);
    return failure('folder', `Folder "${row.folder}" of user ${row.username} on ${where} cannot be opened: ${said.replace(/\.$/, '')}.`);
  }
  const code = errCode(err);
  // Silence first: imapflow's greeting timeout says "Maybe should use TLS?", which is advice, not a TLS failure.
  if (code === 'GREETING_TIMEOUT') {
    return failure('tcp', `${where} accepted the connection but sent no IMAP greeting (is it an implicit TLS port? then use tls as the TLS mode).`);
  }
  if (code === 'ETIMEOUT' || code === 'ETIMEDOUT' || code === 'CONNECT_TIMEOUT') return failure('tcp', `${where} stopped answering (the connection timed out).`);
  // A plain-text connection (tls none) has no TLS to fail, whatever a message says.
  const mayBeTls = row.tls !== 'none';
  if (mayBeTls && (e.tlsFailed || CERT_CODE.test(code ?? '') || (during === 'connect' && /ssl|tls/i.test(e.message ?? '')))) {
    const starttls = row.tls === 'starttls';
    if (CERT_CODE.test(code ?? '')) return failure('tls', `The certificate of ${where}${starttls ? ' (after STARTTLS)' : ''} is not trusted: ${tlsReason(err)}.`);
    return failure('tls', `${starttls ? 'STARTTLS' : 'TLS'} with ${where} failed: ${tlsReason(err)}.`);
  }
  if (code === 'ECONNREFUSED') return failure('tcp', `Nothing accepts connections on ${where} (connection refused).`);
  if (code === 'ENOTFOUND') return failure('dns', `The host name ${row.host} does not exist.`);
  const said = e.responseText || describeError(err);
  return failure('tcp', `The IMAP session with ${where} failed${code ? ` (${code})` : ''}: ${said.replace(/\.$/, '')}.`);
}

/** What anything a session or watch threw means for the mailbox (MailSource.classify). */
export function sourceFailure(row: Parameters<typeof classifyImapError>[0], err: unknown): SourceFailure {
  const stage = isMailroomError(err) ? stageOfCode(err.code) : undefined;
  return toSourceFailure(isMailroomError(err) && stage ? { stage, code: err.code, message: err.message } : classifyImapError(row, err, 'session'));
}

/**
 * For the sync worker: refused credentials need a person; a folder may be back in a moment; the rest is
 * transient (a policy refusal too: connect_error on its backoff, as the host may resolve elsewhere later).
 */
export function toSourceFailure(f: ImapFailure): SourceFailure {
  const kind = f.stage === 'auth' || f.stage === 'oauth' ? 'auth' : f.stage === 'folder' ? 'folder' : 'connect';
  return { kind, code: f.code, message: f.message };
}
