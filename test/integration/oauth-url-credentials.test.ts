// Credentials inside an OAuth2 token URL (https://user:password@idp/token) are
// refused on input without being echoed, and a URL stored with them (before
// the connection policy refused them) is shown with *** in their place by the
// API, `mailroom mailbox show` and the connection test's answer, never whole.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../../src/crypto/secrets.js';
import { withoutCredentials } from '../../src/mailboxes/view.js';
import { bearer, buildTestApp, createApiTenant, type ApiTenant, type TestApp } from '../support/api.js';
import { runCli } from '../support/cli.js';
import { childEnv } from '../support/env.js';

const SECRET = `pa55-${randomBytes(6).toString('hex')}`;
const USERNAME = `idpuser${randomBytes(3).toString('hex')}`;
const URL_WITH_CREDENTIALS = `https://${USERNAME}:${SECRET}@idp.example.test/oauth2/token`;

let t: TestApp;
let tenant: ApiTenant;

beforeAll(async () => {
  t = await buildTestApp();
  tenant = await createApiTenant(t.db, 'oauthurl');
});
afterAll(async () => {
  await t?.close();
});

const oauthMailbox = (extra: Record<string, unknown> = {}) => ({
  address: `oauth-${randomBytes(3).toString('hex')}@oauthurl.test`,
  host: 'imap.oauthurl.test',
  port: 993,
  username: 'support@oauthurl.test',
  auth: 'oauth2',
  refresh_token: 'refresh-token-value',
  oauth_client_id: 'client-id',
  oauth_token_url: URL_WITH_CREDENTIALS,
  ...extra,
});

describe('credentials in oauth_token_url', () => {
  it('are refused on input, and the answer does not carry them', async () => {
    for (const test of [true, false]) {
      const res = await t.app.inject({ method: 'POST', url: `/api/${tenant.slug}/v1/mailboxes`, headers: bearer(tenant.adminToken), payload: oauthMailbox({ test }) });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ errors: { field?: string }[] }>().errors.map((e) => e.field)).toContain('oauth_token_url');
      expect(res.body).not.toContain(SECRET);
      expect(res.body).not.toContain(USERNAME);
    }
  });

  it('stored before the policy, are shown redacted by the API, the connection test and mailbox show', async () => {
    const created = await t.app.inject({ method: 'POST', url: `/api/${tenant.slug}/v1/mailboxes`, headers: bearer(tenant.adminToken), payload: oauthMailbox({ oauth_token_url: 'https://idp.example.test/oauth2/token', test: false }) });
    expect(created.statusCode).toBe(200);
    const id = created.json<{ data: { id: number } }>().data.id;
    // As a row written before the connection policy refused such URLs.
    await t.db.mailbox.update({ where: { id }, data: { oauth_token_url: URL_WITH_CREDENTIALS, secret_encrypted: encryptSecret('refresh-token-value', t.config.secretKey) } });

    const shown = await t.app.inject({ url: `/api/${tenant.slug}/v1/mailboxes/${id}`, headers: bearer(tenant.adminToken) });
    expect(shown.statusCode).toBe(200);
    expect(shown.json<{ data: { oauth_token_url: string } }>().data.oauth_token_url).toBe('https://***@idp.example.test/oauth2/token');
    const listed = await t.app.inject({ url: `/api/${tenant.slug}/v1/mailboxes`, headers: bearer(tenant.adminToken) });
    const tested = await t.app.inject({ method: 'POST', url: `/api/${tenant.slug}/v1/mailboxes/${id}/test`, headers: bearer(tenant.adminToken) });
    const patched = await t.app.inject({ method: 'PATCH', url: `/api/${tenant.slug}/v1/mailboxes/${id}`, headers: bearer(tenant.adminToken), payload: { oauth_client_id: 'other-client', test: true } });
    for (const res of [shown, listed, tested, patched]) {
      expect(res.statusCode).toBeLessThan(500);
      expect(res.body).not.toContain(SECRET);
      expect(res.body).not.toContain(USERNAME);
    }

    const cli = await runCli(['mailbox', 'show', String(id)], { env: childEnv() });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('https://***@idp.example.test/oauth2/token');
    expect(cli.stdout + cli.stderr).not.toContain(SECRET);
    expect(cli.stdout + cli.stderr).not.toContain(USERNAME);
  });
});

describe('withoutCredentials', () => {
  it('replaces user and password, leaves a URL without them as it is', () => {
    expect(withoutCredentials('https://u:p@idp.test/token?x=1')).toBe('https://***@idp.test/token?x=1');
    expect(withoutCredentials('https://tokenonly@idp.test/token')).toBe('https://***@idp.test/token');
    expect(withoutCredentials('https://idp.test/token')).toBe('https://idp.test/token');
    expect(withoutCredentials('not a url u:p@host')).toBe('***@host');
  });
});
