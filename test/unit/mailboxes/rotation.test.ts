// A token endpoint that rotates the refresh token: the IMAP client options hand
// the new one to `onRotated` (the sync engine stores it encrypted), so the next
// refresh does not fail with the old, now invalid, token.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { imapClientOptions } from '../../../src/sources/imap/client.js';
import { encryptSecret } from '../../../src/crypto/secrets.js';
import { parseAllowList } from '../../../src/net/policy.js';

const allowed = parseAllowList('127.0.0.1');
if ('error' in allowed) throw new Error(allowed.error);
/** The fake endpoint listens on loopback, which the connection policy allows only when told. */
const local = allowed.policy;

let server: http.Server;
let url: string;
const forms: URLSearchParams[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      forms.push(new URLSearchParams(body));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'access-1', expires_in: 3600, refresh_token: 'refresh-NEW' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it('passes a rotated refresh token to onRotated and uses the access token for XOAUTH2', async () => {
  const key = randomBytes(32);
  const rotated: string[] = [];
  const options = await imapClientOptions(
    {
      host: 'imap.example.test',
      port: 993,
      tls: 'tls',
      username: 'support@example.test',
      auth: 'oauth2',
      secret_encrypted: encryptSecret('refresh-OLD', key),
      oauth_token_url: url,
      oauth_client_id: 'client',
      oauth_client_secret_encrypted: null,
      oauth_scope: null,
      tls_ca_pem: null,
      folder: 'INBOX',
    },
    { secretKeys: key, policy: local, oauth: { cache: false, onRotated: async (t: string) => void rotated.push(t) } },
  );
  expect(options.auth).toEqual({ user: 'support@example.test', accessToken: 'access-1' });
  expect(forms[0]?.get('refresh_token')).toBe('refresh-OLD');
  expect(rotated).toEqual(['refresh-NEW']);
});
