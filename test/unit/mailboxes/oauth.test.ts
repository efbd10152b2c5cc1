// The OAuth2 refresh_token grant against a real local HTTP server acting as the
// token endpoint: the request it receives, its error bodies, and the cache.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AccessTokenCache, refreshAccessToken, type RefreshParams } from '../../../src/sources/oauth.js';
import { MailroomError } from '../../../src/errors.js';
import { parseAllowList, STRICT_POLICY } from '../../../src/net/policy.js';

const allowed = parseAllowList('127.0.0.1');
if ('error' in allowed) throw new Error(allowed.error);
/** The fake endpoint listens on loopback, which the connection policy allows only when told. */
const local = { policy: allowed.policy };

interface Seen {
  method: string;
  contentType: string;
  form: URLSearchParams;
}

type Reply = { status: number; body: string; delayMs?: number };

let server: http.Server;
let baseUrl: string;
let seen: Seen[] = [];
let replies: Reply[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', contentType: req.headers['content-type'] ?? '', form: new URLSearchParams(body) });
      const reply = replies.shift() ?? { status: 500, body: 'no reply queued' };
      setTimeout(() => {
        res.writeHead(reply.status, { 'content-type': reply.body.startsWith('{') ? 'application/json' : 'text/plain' });
        res.end(reply.body);
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  replies = [];
});

const params = (extra: Partial<RefreshParams> = {}): RefreshParams => ({
  tokenUrl: `${baseUrl}/oauth2/token?tenant=x`,
  clientId: 'client-1',
  clientSecret: 'client-secret-XYZ',
  refreshToken: 'refresh-token-ABC',
  scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access',
  ...extra,
});
const ok = (token: string, expiresIn = 3600, more: Record<string, unknown> = {}): Reply => ({ status: 200, body: JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: expiresIn, ...more }) });

async function failure(p: Promise<unknown>): Promise<MailroomError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MailroomError);
  expect((err as MailroomError).code).toBe('OAUTH_FAILED');
  const message = (err as MailroomError).message;
  for (const secret of ['refresh-token-ABC', 'client-secret-XYZ']) expect(message).not.toContain(secret);
  return err as MailroomError;
}

describe('refreshAccessToken', () => {
  it('posts a form-encoded refresh_token grant and returns the token with its expiry', async () => {
    replies.push(ok('access-1', 1800));
    const t0 = Date.parse('2026-11-25T10:00:00Z');
    const token = await refreshAccessToken(params(), { ...local, now: () => t0 });
    expect(token.accessToken).toBe('access-1');
    expect(token.expiresAt.toISOString()).toBe('2026-11-25T10:30:00.000Z');
    expect(token.refreshToken).toBeUndefined();
    const req = seen[0];
    expect(req?.method).toBe('POST');
    expect(req?.contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(req?.form ?? [])).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-token-ABC',
      client_id: 'client-1',
      client_secret: 'client-secret-XYZ',
      scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access',
    });
  });

  it('leaves out an absent client secret and scope, defaults the lifetime, and reports a rotated refresh token', async () => {
    replies.push({ status: 200, body: JSON.stringify({ access_token: 'access-2', refresh_token: 'refresh-token-NEW' }) });
    const token = await refreshAccessToken(params({ clientSecret: null, scope: null }), { ...local, now: () => 0 });
    expect([...(seen[0]?.form.keys() ?? [])].sort()).toEqual(['client_id', 'grant_type', 'refresh_token']);
    expect(token.expiresAt.getTime()).toBe(3600_000);
    expect(token.refreshToken).toBe('refresh-token-NEW');
  });

  it("quotes the endpoint's error and error_description, never the tokens, and is not retryable for invalid_grant", async () => {
    replies.push({ status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'AADSTS70000: refresh token refresh-token-ABC has expired' }) });
    const err = await failure(refreshAccessToken(params(), local));
    expect(err.message).toBe(`The OAuth2 token endpoint ${baseUrl}/oauth2/token refused the refresh token with HTTP 400: invalid_grant (AADSTS70000: refresh token [redacted] has expired).`);
    expect(err.message).not.toContain('tenant=x');
    expect(err.retryable).toBe(false);
  });

  it('says so when the endpoint fails with a non-JSON body, as retryable', async () => {
    replies.push({ status: 503, body: 'upstream unavailable' });
    const err = await failure(refreshAccessToken(params(), local));
    expect(err.message).toMatch(/HTTP 503: a non-JSON body\.$/);
    expect(err.retryable).toBe(true);
  });

  it('refuses a 200 without an access_token', async () => {
    replies.push({ status: 200, body: JSON.stringify({ token_type: 'Bearer' }) });
    expect((await failure(refreshAccessToken(params(), local))).message).toMatch(/without an access_token/);
  });

  it('gives up after the timeout', async () => {
    replies.push({ ...ok('late'), delayMs: 2000 });
    const err = await failure(refreshAccessToken(params(), { ...local, timeoutMs: 200 }));
    expect(err.message).toBe(`The OAuth2 token endpoint ${baseUrl}/oauth2/token did not answer within 0.2 s.`);
    expect(err.retryable).toBe(true);
  });

  it('names an endpoint that cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await failure(refreshAccessToken(params({ tokenUrl: `http://127.0.0.1:${port}/token` }), local));
    expect(err.message).toBe(`The OAuth2 token endpoint http://127.0.0.1:${port}/token cannot be reached (ECONNREFUSED).`);
  });
});

describe('the connection policy on the token endpoint', () => {
  const strict = { policy: STRICT_POLICY };

  it('refuses http://, internal literals in any spelling and names resolving to loopback, before any request', async () => {
    const port = new URL(baseUrl).port;
    const cases: [string, RegExp][] = [
      [`http://127.0.0.1:${port}/token`, /^The OAuth2 token URL http:\/\/127\.0\.0\.1:\d+\/token must be an https:\/\/ URL \(http:\/\/ only to a host MAILROOM_ALLOW_PRIVATE_HOSTS allows\)\.$/],
      [`http://tokens.example/token`, /must be an https:\/\/ URL/],
      [`https://127.1:${port}/token`, /^The OAuth2 token endpoint https:\/\/127\.0\.0\.1:\d+\/token is not used: 127\.0\.0\.1 is a loopback address; Mailroom refuses private, loopback and link-local addresses unless MAILROOM_ALLOW_PRIVATE_HOSTS allows them\.$/],
      [`https://0x7f000001:${port}/token`, /127\.0\.0\.1 is a loopback address/],
      [`https://2130706433:${port}/token`, /127\.0\.0\.1 is a loopback address/],
      [`https://localhost:${port}/token`, /^The OAuth2 token endpoint https:\/\/localhost:\d+\/token is not used: localhost resolves to (127\.0\.0\.1|::1), a loopback address; Mailroom refuses/],
      [`https://id:pw@login.example/token`, /must not contain a user name or password\.$/],
    ];
    for (const [tokenUrl, message] of cases) {
      const err = await refreshAccessToken(params({ tokenUrl }), strict).catch((e: unknown) => e);
      expect(err, tokenUrl).toBeInstanceOf(MailroomError);
      expect((err as MailroomError).code, tokenUrl).toBe('CONNECTION_NOT_ALLOWED');
      expect((err as MailroomError).message, tokenUrl).toMatch(message);
      expect((err as MailroomError).message).not.toMatch(/ECONNREFUSED|pw@/);
    }
    expect(seen).toHaveLength(0);
  });

  it('quotes no raw body: an error code outside RFC 6749 is not quoted, a description is cleaned and cut short', async () => {
    replies.push({ status: 400, body: JSON.stringify({ error: 'bad\u001b[2J', error_description: `\u001b]0;owned\u0007${'x'.repeat(500)}` }) });
    const err = await failure(refreshAccessToken(params(), local));
    expect(err.message).toMatch(/^The OAuth2 token endpoint .* refused the refresh token with HTTP 400: no recognizable error code\.$/);
    replies.push({ status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: `\u001b]0;owned\u0007${'x'.repeat(500)}` }) });
    const second = await failure(refreshAccessToken(params(), local));
    expect(second.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(second.message).toMatch(/HTTP 400: invalid_grant \(\uFFFD\]0;owned\uFFFDx+…\)\.$/);
    expect(second.message.length).toBeLessThan(300);
  });
});

describe('AccessTokenCache', () => {
  it('reuses a token until 60 s before it expires, then refreshes', async () => {
    const cache = new AccessTokenCache();
    let now = 1_000_000;
    replies.push(ok('first', 600), ok('second', 600));
    expect((await cache.get(7, params(), { ...local, now: () => now })).accessToken).toBe('first');
    now += 539_000; // 61 s left
    expect((await cache.get(7, params(), { ...local, now: () => now })).accessToken).toBe('first');
    expect(seen).toHaveLength(1);
    now += 2_000; // 59 s left
    expect((await cache.get(7, params(), { ...local, now: () => now })).accessToken).toBe('second');
    expect(seen).toHaveLength(2);
  });

  it('keys by mailbox, refreshes when the credentials change, and shares one refresh between concurrent callers', async () => {
    const cache = new AccessTokenCache();
    replies.push({ ...ok('shared'), delayMs: 50 }, ok('other-mailbox'), ok('new-credentials'));
    const [a, b] = await Promise.all([cache.get(1, params(), local), cache.get(1, params(), local)]);
    expect(a.accessToken).toBe('shared');
    expect(b.accessToken).toBe('shared');
    expect((await cache.get(2, params(), local)).accessToken).toBe('other-mailbox');
    expect((await cache.get(1, params({ refreshToken: 'refresh-token-CHANGED' }), local)).accessToken).toBe('new-credentials');
    expect(seen).toHaveLength(3);
    expect(cache.size).toBe(2);
  });

  it('does not keep a failure, and can be invalidated', async () => {
    const cache = new AccessTokenCache();
    replies.push({ status: 400, body: JSON.stringify({ error: 'invalid_client' }) }, ok('after-failure'), ok('after-invalidate'));
    await failure(cache.get(3, params(), local));
    expect((await cache.get(3, params(), local)).accessToken).toBe('after-failure');
    cache.invalidate(3);
    expect((await cache.get(3, params(), local)).accessToken).toBe('after-invalidate');
  });
});
