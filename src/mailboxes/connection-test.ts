// "Does this mailbox work?", answered stage by stage so that an admin learns
// exactly what to fix: the host name (dns), the port (tcp), TLS, the OAuth2
// token endpoint, the credentials (auth) or the folder. The network stages run
// with node:dns / node:net / node:tls before imapflow, whose own errors do not
// always say which of them failed. Messages are one sentence naming
// host:port, user or folder; secrets are never part of them.
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import { ImapFlow, type ImapFlowError } from 'imapflow';
import { describeError, isMailroomError, type ErrorCode } from '../errors.js';
import { withTimeout } from '../util/timeout.js';
import { imapClientOptions, oauthParams, type ImapClientDeps } from './imap.js';
import { refreshAccessToken } from './oauth.js';
import type { ConnectionTestDetails, ConnectionTestResult, ConnectionTestStage, MailboxConnectionRow } from './types.js';

export interface ConnectionTestOptions extends Omit<ImapClientDeps, 'timeouts'> {
  mailbox: MailboxConnectionRow;
  /** Budget of each network stage. */
  timeoutMs?: number;
}

const CODES: Record<ConnectionTestStage, ErrorCode> = {
  dns: 'MAILBOX_DNS_FAILED',
  tcp: 'MAILBOX_CONNECT_FAILED',
  tls: 'MAILBOX_TLS_FAILED',
  oauth: 'OAUTH_FAILED',
  auth: 'MAILBOX_AUTH_FAILED',
  folder: 'MAILBOX_FOLDER_FAILED',
};

class StageFailure extends Error {
  constructor(
    readonly stage: ConnectionTestStage,
    message: string,
    readonly code: ErrorCode = CODES[stage],
  ) {
    super(message);
  }
}

/** Node's error codes for a certificate that failed verification. */
const CERT_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME/;

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function tlsReason(err: unknown): string {
  const code = errCode(err);
  // OpenSSL errors carry their short text in `reason`; their message is a dump of library internals.
  const reason = (err as { reason?: unknown } | undefined)?.reason;
  const text = (typeof reason === 'string' && reason ? reason : err instanceof Error ? err.message : String(err)).trim().replace(/\.$/, '');
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

async function resolveHost(host: string, timeoutMs: number): Promise<string[]> {
  if (net.isIP(host)) return [host];
  try {
    const found = await withTimeout(lookup(host, { all: true }), timeoutMs, () => new StageFailure('dns', `Resolving the host name ${host} timed out after ${timeoutMs / 1000} s.`));
    return found.map((a) => a.address);
  } catch (err) {
    if (err instanceof StageFailure) throw err;
    const code = errCode(err);
    const why = code === 'ENOTFOUND' ? 'does not exist' : `cannot be resolved (${code ?? describeError(err)})`;
    throw new StageFailure('dns', `The host name ${host} ${why}.`);
  }
}

function connectTcp(address: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }));
    });
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

async function openTcp(host: string, addresses: string[], port: number, timeoutMs: number): Promise<{ socket: net.Socket; address: string }> {
  let last: unknown;
  for (const address of addresses) {
    try {
      return { socket: await connectTcp(address, port, timeoutMs), address };
    } catch (err) {
      last = err;
    }
  }
  const where = `${host}:${port}`;
  const code = errCode(last);
  if (code === 'ECONNREFUSED') throw new StageFailure('tcp', `Nothing accepts connections on ${where} (connection refused).`);
  if (code === 'ETIMEDOUT') throw new StageFailure('tcp', `Connecting to ${where} timed out after ${timeoutMs / 1000} s.`);
  throw new StageFailure('tcp', `Cannot connect to ${where} (${code ?? describeError(last)}).`);
}

function handshake(socket: net.Socket, host: string, port: number, extra: ConnectionOptions | undefined, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const where = `${host}:${port}`;
    // SNI only for names; the certificate is still checked against an IP literal through `host`.
    const secure = tls.connect({ socket, host, servername: net.isIP(host) ? undefined : host, minVersion: 'TLSv1.2', ...extra });
    secure.setTimeout(timeoutMs, () => {
      secure.destroy();
      reject(new StageFailure('tls', `The TLS handshake with ${where} timed out after ${timeoutMs / 1000} s (is it a plain-text or STARTTLS port?).`));
    });
    secure.once('secureConnect', () => {
      const protocol = secure.getProtocol();
      secure.destroy();
      resolve(protocol);
    });
    secure.once('error', (err) => {
      secure.destroy();
      const plain = /wrong version number|packet length too long/i.test(tlsReason(err)) ? '; the port speaks plain text, so use starttls or none as the TLS mode' : '';
      const what = CERT_CODE.test(errCode(err) ?? '') ? `The certificate of ${where} is not trusted` : `The TLS handshake with ${where} failed`;
      reject(new StageFailure('tls', `${what}: ${tlsReason(err)}${plain}.`));
    });
  });
}

/** Maps an imapflow connect() failure (after the network stages passed) to a stage. */
function connectFailure(err: unknown, row: MailboxConnectionRow): StageFailure {
  const e = err as ImapFlowError;
  const where = `${row.host}:${row.port}`;
  if (e.authenticationFailed) {
    const said = e.responseText || e.serverResponseCode || 'authentication failed';
    const how = row.auth === 'oauth2' ? 'the OAuth2 access token' : 'the login';
    return new StageFailure('auth', `${where} rejected ${how} of user ${row.username}: ${said.replace(/\.$/, '')}.`);
  }
  if (/Unsupported authentication mechanism/i.test(e.message) && row.auth === 'oauth2') {
    return new StageFailure('auth', `${where} does not offer OAuth2 login (XOAUTH2 or OAUTHBEARER) for user ${row.username}.`);
  }
  if (e.tlsFailed || CERT_CODE.test(e.code ?? '') || /ssl|tls/i.test(e.message)) {
    if (CERT_CODE.test(e.code ?? '')) return new StageFailure('tls', `The certificate of ${where} (after STARTTLS) is not trusted: ${tlsReason(err)}.`);
    return new StageFailure('tls', `STARTTLS with ${where} failed: ${tlsReason(err)}.`);
  }
  if (e.code === 'GREETING_TIMEOUT') {
    return new StageFailure('tcp', `${where} accepted the connection but sent no IMAP greeting (is it an implicit TLS port? then use tls as the TLS mode).`);
  }
  return new StageFailure('tcp', `The IMAP session with ${where} failed: ${describeError(err)}.`);
}

function folderFailure(err: unknown, row: MailboxConnectionRow): StageFailure {
  const e = err as ImapFlowError;
  if (e.mailboxMissing) return new StageFailure('folder', `Folder "${row.folder}" does not exist for user ${row.username} on ${row.host}:${row.port}.`);
  const said = e.responseText || describeError(err);
  return new StageFailure('folder', `Folder "${row.folder}" of user ${row.username} on ${row.host}:${row.port} cannot be opened: ${said.replace(/\.$/, '')}.`);
}

export async function testMailboxConnection(options: ConnectionTestOptions): Promise<ConnectionTestResult> {
  const row = options.mailbox;
  const timeoutMs = options.timeoutMs ?? 15_000;
  let client: ImapFlow | null = null;
  try {
    const addresses = await resolveHost(row.host, timeoutMs);
    const { socket, address } = await openTcp(row.host, addresses, row.port, timeoutMs);
    let tlsProtocol: string | null = null;
    if (row.tls === 'tls') tlsProtocol = await handshake(socket, row.host, row.port, options.tls, timeoutMs);
    else socket.destroy();

    let accessToken: string | undefined;
    if (row.auth === 'oauth2') {
      try {
        accessToken = (await refreshAccessToken(oauthParams(row, options.secretKeys), { fetch: options.oauth?.fetch, timeoutMs })).accessToken;
      } catch (err) {
        if (isMailroomError(err, 'OAUTH_FAILED')) throw new StageFailure('oauth', err.message);
        throw err;
      }
    }

    const imapOptions = await imapClientOptions(row, {
      ...options,
      oauth: { ...options.oauth, accessToken },
      timeouts: { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: Math.max(timeoutMs * 2, 30_000) },
    });
    const c = new ImapFlow({ ...imapOptions, disableAutoIdle: true });
    client = c;
    c.on('error', () => undefined); // connect() rejects with the same error
    await c.connect().catch((err: unknown) => {
      throw connectFailure(err, row);
    });
    if (row.tls === 'starttls' && c.tls) tlsProtocol = c.tls.version ?? null;
    const box = await c.mailboxOpen(row.folder, { readOnly: true }).catch((err: unknown) => {
      throw folderFailure(err, row);
    });
    const details: ConnectionTestDetails = {
      host: row.host,
      port: row.port,
      address,
      tls: row.tls,
      tls_protocol: tlsProtocol,
      username: row.username,
      folder: row.folder,
      messages: box.exists,
      uid_validity: Number(box.uidValidity),
      uid_next: box.uidNext,
    };
    await c.logout().catch(() => undefined);
    client = null;
    return { ok: true, details };
  } catch (err) {
    if (err instanceof StageFailure) return { ok: false, stage: err.stage, code: err.code, message: err.message };
    // Secrets that cannot be decrypted: the stored credentials are unusable, an auth problem for the admin.
    if (isMailroomError(err, 'SECRET_DECRYPT_FAILED')) return { ok: false, stage: 'auth', code: err.code, message: err.message };
    throw err;
  } finally {
    client?.close();
  }
}
