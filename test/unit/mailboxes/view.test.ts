// What leaves the mailbox module: views without secrets, and ImapFlow options
// with the right TLS semantics for imapflow 2.10.2.
import { describe, expect, it } from 'vitest';
import { encryptSecret } from '../../../src/crypto/secrets.js';
import { imapClientOptions, transportSecurity } from '../../../src/sources/imap/client.js';
import { parseMailboxInput, storedFields } from '../../../src/mailboxes/service.js';
import type { Mailbox } from '../../../src/mailboxes/types.js';
import { toMailboxView } from '../../../src/mailboxes/view.js';
import { MailroomError } from '../../../src/errors.js';
import { STRICT_POLICY } from '../../../src/net/policy.js';

const key = Buffer.alloc(32, 3);

function row(extra: Partial<Mailbox> = {}): Mailbox & { tenant: { slug: string } } {
  const fields = storedFields(
    parseMailboxInput({
      address: 'support@example.test',
      host: 'imap.example.test',
      port: 993,
      username: 'support',
      auth: 'oauth2',
      refresh_token: 'refresh-PLAIN-1',
      oauth_token_url: 'https://login.example/token',
      oauth_client_id: 'cid',
      oauth_client_secret: 'client-PLAIN-2',
    }),
    key,
  );
  return {
    ...fields,
    id: 42,
    tenant_id: 1,
    cursor: '1764064800:17:9007199254740993',
    last_success_at: new Date('2026-11-25T10:00:00Z'),
    last_error: null,
    consecutive_failures: 0,
    next_attempt_at: null,
    backlog: null,
    backlog_done: 0,
    backlog_started_at: null,
    created: new Date('2026-11-25T09:00:00Z'),
    last_updated: new Date('2026-11-25T10:00:00Z'),
    tenant: { slug: 'acme' },
    ...extra,
  };
}

describe('MailboxView', () => {
  it('has no secret field, only flags, and no ciphertext or plaintext in its JSON', () => {
    const r = row();
    const view = toMailboxView(r);
    const json = JSON.stringify(view);
    expect(Object.keys(view).filter((k) => /secret|password|token$/i.test(k) && !k.startsWith('has_'))).toEqual([]);
    expect(view.has_secret).toBe(true);
    expect(view.has_oauth_client_secret).toBe(true);
    for (const s of ['refresh-PLAIN-1', 'client-PLAIN-2', r.secret_encrypted, r.oauth_client_secret_encrypted ?? 'x']) expect(json).not.toContain(s);
  });

  it('writes times as ISO strings and the cursor exactly', () => {
    const view = toMailboxView(row());
    expect(view).toMatchObject({
      id: 42,
      tenant: 'acme',
      uid_validity: 1764064800,
      last_uid: 17,
      highest_modseq: '9007199254740993',
      last_success_at: '2026-11-25T10:00:00.000Z',
      since: null,
      post_action: 'none',
      state: 'connecting',
    });
  });
});

describe('imapClientOptions', () => {
  it('maps the TLS modes onto secure / doSTARTTLS', () => {
    expect(transportSecurity('tls')).toEqual({ secure: true });
    expect(transportSecurity('starttls')).toEqual({ secure: false, doSTARTTLS: true });
    expect(transportSecurity('none')).toEqual({ secure: false, doSTARTTLS: false });
  });

  it('decrypts the password into auth.pass, without logging, with timeouts', async () => {
    const pw = { ...row(), auth: 'password' as const, secret_encrypted: encryptSecret('pw-PLAIN', key), oauth_token_url: null, oauth_client_id: null, tls: 'starttls' as const, port: 143 };
    const options = await imapClientOptions(pw, { secretKeys: [Buffer.alloc(32, 9), key], policy: STRICT_POLICY, tls: { servername: 'mail.example.test' } });
    expect(options).toMatchObject({
      host: 'imap.example.test',
      port: 143,
      secure: false,
      doSTARTTLS: true,
      auth: { user: 'support', pass: 'pw-PLAIN' },
      logger: false,
      tls: { minVersion: 'TLSv1.2', servername: 'mail.example.test', lookup: expect.any(Function) },
    });
    expect(options.connectionTimeout).toBeGreaterThan(0);
    expect(options.greetingTimeout).toBeGreaterThan(0);
    expect(options.socketTimeout).toBeGreaterThan(options.greetingTimeout ?? 0);
  });

  it('uses an OAuth2 access token given to it as XOAUTH2 credentials', async () => {
    const options = await imapClientOptions(row(), { secretKeys: key, policy: STRICT_POLICY, oauth: { accessToken: 'access-now' } });
    expect(options.auth).toEqual({ user: 'support', accessToken: 'access-now' });
    expect(options.secure).toBe(true);
  });

  it('fails clearly when the stored secret was encrypted with another key', async () => {
    const err = await imapClientOptions({ ...row(), auth: 'password' }, { secretKeys: Buffer.alloc(32, 8), policy: STRICT_POLICY }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MailroomError);
    expect((err as MailroomError).code).toBe('SECRET_DECRYPT_FAILED');
  });
});
