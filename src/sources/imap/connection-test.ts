// "Does this mailbox work?", answered stage by stage so that an admin learns
// exactly what to fix: the host name (dns), the port (tcp), TLS, the OAuth2
// token endpoint, the credentials (auth) or the folder. The network stages run
// with node:dns / node:net / node:tls before imapflow, whose own errors do not
// always say which of them failed. Messages are one sentence naming
// host:port, user or folder; secrets are never part of them. The connection
// policy (src/net/) is applied to the resolved addresses before any packet is
// sent (the `policy` stage), so a refused host says nothing about its ports.
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import type { ImapFlow } from 'imapflow';
import { describeError, isMailroomError, MailroomError } from '../../errors.js';
import type { ConnectionPolicy } from '../../net/policy.js';
import { allowedAddresses, assertHostAllowed } from '../../net/resolve.js';
import { refreshAccessToken } from '../oauth.js';
import type { ConnectionTestDetails, ConnectionTestResult, ConnectionTestStage, MailboxConnectionRow } from '../types.js';
import { withTimeout } from '../../util/timeout.js';
import { createImapClient, oauthParams, tlsOptions, type ImapClientDeps } from './client.js';
import { CERT_CODE, classified, errCode, STAGE_CODES, stageOfCode, tlsReason } from './errors.js';

export interface ConnectionTestOptions extends Omit<ImapClientDeps, 'timeouts'> {
  mailbox: MailboxConnectionRow;
  /** Budget of each network stage. */
  timeoutMs?: number;
  /** See SourceTestContext.onSecretRotated. */
  onSecretRotated?: ((secret: string) => Promise<void>) | undefined;
}

/** A failed stage, as a registry error (its code names the stage). */
function stageFailure(stage: ConnectionTestStage, message: string): MailroomError {
  return new MailroomError(STAGE_CODES[stage], message);
}

/** The addresses the policy allows (CONNECTION_NOT_ALLOWED, the policy stage, when none). */
async function resolveHost(host: string, policy: ConnectionPolicy, timeoutMs: number): Promise<string[]> {
  if (net.isIP(host)) {
    assertHostAllowed(policy, host);
    return [host];
  }
  let found;
  try {
    found = await withTimeout(lookup(host, { all: true }), timeoutMs, () => stageFailure('dns', `Resolving the host name ${host} timed out after ${timeoutMs / 1000} s.`));
  } catch (err) {
    if (isMailroomError(err)) throw err;
    const code = errCode(err);
    const why = code === 'ENOTFOUND' ? 'does not exist' : `cannot be resolved (${code ?? describeError(err)})`;
    throw stageFailure('dns', `The host name ${host} ${why}.`);
  }
  return allowedAddresses(policy, host, found).map((a) => a.address);
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
  if (code === 'ECONNREFUSED') throw stageFailure('tcp', `Nothing accepts connections on ${where} (connection refused).`);
  if (code === 'ETIMEDOUT') throw stageFailure('tcp', `Connecting to ${where} timed out after ${timeoutMs / 1000} s.`);
  throw stageFailure('tcp', `Cannot connect to ${where} (${code ?? describeError(last)}).`);
}

function handshake(socket: net.Socket, host: string, port: number, extra: ConnectionOptions | undefined, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const where = `${host}:${port}`;
    // SNI only for names; the certificate is still checked against an IP literal through `host`.
    const secure = tls.connect({ socket, host, servername: net.isIP(host) ? undefined : host, ...extra });
    secure.setTimeout(timeoutMs, () => {
      secure.destroy();
      reject(stageFailure('tls', `The TLS handshake with ${where} timed out after ${timeoutMs / 1000} s (is it a plain-text or STARTTLS port?).`));
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
      reject(stageFailure('tls', `${what}: ${tlsReason(err)}${plain}.`));
    });
  });
}

export async function testMailboxConnection(options: ConnectionTestOptions): Promise<ConnectionTestResult> {
  const row = options.mailbox;
  const timeoutMs = options.timeoutMs ?? 15_000;
  let client: ImapFlow | null = null;
  try {
    const addresses = await resolveHost(row.host, options.policy, timeoutMs);
    const { socket, address } = await openTcp(row.host, addresses, row.port, timeoutMs);
    let tlsProtocol: string | null = null;
    if (row.tls === 'tls') tlsProtocol = await handshake(socket, row.host, row.port, tlsOptions(row, options.tls), timeoutMs);
    else socket.destroy();

    let accessToken: string | undefined;
    if (row.auth === 'oauth2') {
      // An OAUTH_FAILED error names the oauth stage itself.
      const params = oauthParams(row, options.secretKeys);
      const token = await refreshAccessToken(params, { policy: options.policy, fetch: options.oauth?.fetch, timeoutMs });
      if (token.refreshToken && token.refreshToken !== params.refreshToken) await options.onSecretRotated?.(token.refreshToken);
      accessToken = token.accessToken;
    }

    const c = await createImapClient(
      row,
      { ...options, logger: false, oauth: { ...options.oauth, accessToken }, timeouts: { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: Math.max(timeoutMs * 2, 30_000) } },
      { disableAutoIdle: true },
    );
    client = c;
    await c.connect().catch((err: unknown) => {
      throw classified(row, err, 'connect');
    });
    if (row.tls === 'starttls' && c.tls) tlsProtocol = c.tls.version ?? null;
    const box = await c.mailboxOpen(row.folder, { readOnly: true }).catch((err: unknown) => {
      throw classified(row, err, 'folder');
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
    const stage = isMailroomError(err) ? stageOfCode(err.code) : undefined;
    if (isMailroomError(err) && stage) return { ok: false, stage, code: err.code, message: err.message };
    // Secrets that cannot be decrypted: the stored credentials are unusable, an auth problem for the admin.
    if (isMailroomError(err, 'SECRET_DECRYPT_FAILED')) return { ok: false, stage: 'auth', code: err.code, message: err.message };
    throw err;
  } finally {
    client?.close();
  }
}
