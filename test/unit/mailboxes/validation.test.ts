// Mailbox input validation and the post-action forms, without a database.
import { describe, expect, it } from 'vitest';
import { parseMailboxInput, storedFields } from '../../../src/mailboxes/service.js';
import { formatPostAction, parsePostAction } from '../../../src/mailboxes/types.js';
import { decryptSecret } from '../../../src/crypto/secrets.js';
import { MailroomError } from '../../../src/errors.js';
import { parseAllowList, STRICT_POLICY, type ConnectionPolicy } from '../../../src/net/policy.js';

const base = { address: 'Support@Example.TEST', host: 'imap.example.test', port: 993, username: 'support', password: 'hunter2-pass' };

function problems(input: unknown, policy?: ConnectionPolicy): { field: string; message: string }[] {
  try {
    parseMailboxInput(input, policy);
  } catch (err) {
    expect(err).toBeInstanceOf(MailroomError);
    expect((err as MailroomError).code).toBe('VALIDATION');
    return [...(err as MailroomError).fields];
  }
  throw new Error('expected a validation error');
}

describe('parseMailboxInput', () => {
  it('normalises and applies the defaults', () => {
    const s = parseMailboxInput({ ...base, host: ' IMAP.Example.TEST ', aliases: ['Help@Example.test', 'help@example.test', 'support@example.test'] });
    expect(s).toMatchObject({
      address: 'support@example.test',
      host: 'imap.example.test',
      aliases: ['help@example.test'],
      tls: 'tls',
      auth: 'password',
      folder: 'INBOX',
      post_action: { post_action: 'none', post_action_folder: null },
      poll_seconds: 60,
      since: null,
      enabled: true,
    });
  });

  it('accepts an IP literal host (IPv6 in brackets) and a date or ISO string for since', () => {
    expect(parseMailboxInput({ ...base, host: '[::1]' }).host).toBe('::1');
    expect(parseMailboxInput({ ...base, host: '127.0.0.1', since: '2026-11-01T00:00:00Z' }).since).toEqual(new Date('2026-11-01T00:00:00Z'));
    const d = new Date('2026-01-02T03:04:05Z');
    expect(parseMailboxInput({ ...base, since: d }).since).toEqual(d);
  });

  it.each([
    [{ port: 0 }, 'port', /between 1 and 65535/],
    [{ port: 65536 }, 'port', /between 1 and 65535/],
    [{ port: 1.5 }, 'port', /whole number/],
    [{ tls: 'ssl' }, 'tls', /tls, starttls or none/],
    [{ address: 'not-an-address' }, 'address', /email address/],
    [{ aliases: ['ok@example.test', 'nope'] }, 'aliases.1', /email address/],
    [{ host: 'bad host/name' }, 'host', /host name/],
    [{ poll_seconds: 4 }, 'poll_seconds', /at least 5/],
    [{ poll_seconds: 86_401 }, 'poll_seconds', /at most 86400/],
    [{ post_action: 'delete' }, 'post_action', /seen, none or move:FOLDER/],
    [{ post_action: 'move:' }, 'post_action', /seen, none or move:FOLDER/],
    [{ since: 'yesterday' }, 'since', /date/],
    [{ folder: '' }, 'folder', /empty/],
    [{ username: '   ' }, 'username', /empty/],
    [{ colour: 'blue' }, 'colour', /not a mailbox field/],
  ])('rejects %j naming the field', (change, field, message) => {
    const found = problems({ ...base, ...change });
    expect(found.map((p) => p.field)).toContain(field);
    expect(found.find((p) => p.field === field)?.message).toMatch(message);
  });

  it('names every bad field at once, in one sentence', () => {
    try {
      parseMailboxInput({ ...base, port: 0, poll_seconds: 1 });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/^Invalid mailbox: .*port.*poll_seconds.*\.$/);
    }
  });

  it('asks for the credentials each auth method needs', () => {
    const { password: _pw, ...noPassword } = base;
    expect(problems(noPassword)).toEqual([{ field: 'password', message: 'is required for password authentication' }]);
    const oauthProblems = problems({ ...noPassword, auth: 'oauth2' }).map((p) => p.field);
    expect(oauthProblems).toEqual(['refresh_token', 'oauth_token_url', 'oauth_client_id']);
    expect(problems({ ...base, auth: 'oauth2', refresh_token: 'r', oauth_token_url: 'https://t.example/token', oauth_client_id: 'c' }).map((p) => p.field)).toEqual(['password']);
    expect(problems({ ...base, refresh_token: 'r' }).map((p) => p.field)).toEqual(['refresh_token']);
  });

  it('takes only https token endpoints without credentials (http only to a host MAILROOM_ALLOW_PRIVATE_HOSTS allows)', () => {
    const oauth = { ...base, password: undefined, auth: 'oauth2', refresh_token: 'r', oauth_client_id: 'c' };
    const allowed = parseAllowList('127.0.0.1');
    if ('error' in allowed) throw new Error(allowed.error);
    expect(problems({ ...oauth, oauth_token_url: 'http://tokens.example/token' }, STRICT_POLICY)).toEqual([
      { field: 'oauth_token_url', message: 'must be an https:// URL (http:// only to a host MAILROOM_ALLOW_PRIVATE_HOSTS allows)' },
    ]);
    expect(problems({ ...oauth, oauth_token_url: 'http://127.0.0.1:8080/token' }, STRICT_POLICY).map((p) => p.field)).toEqual(['oauth_token_url']);
    expect(parseMailboxInput({ ...oauth, oauth_token_url: 'http://127.0.0.1:8080/token' }, allowed.policy).oauth_token_url).toBe('http://127.0.0.1:8080/token');
    expect(parseMailboxInput({ ...oauth, oauth_token_url: 'https://login.example/token' }, STRICT_POLICY).auth).toBe('oauth2');
    // Without a policy only the shape is checked here (every fetch still applies the policy).
    expect(problems({ ...oauth, oauth_token_url: 'https://user:pw@login.example/token' })).toEqual([{ field: 'oauth_token_url', message: 'must not contain a user name or password' }]);
    expect(problems({ ...oauth, oauth_token_url: 'ftp://login.example/token' })).toEqual([{ field: 'oauth_token_url', message: 'must be an https:// URL' }]);
    for (const url of ['https://127.1/token', 'https://0x7f000001/token', 'https://2130706433/token', 'https://[::1]/token', 'https://[::ffff:10.0.0.5]/token']) {
      const [p] = problems({ ...oauth, oauth_token_url: url }, STRICT_POLICY);
      expect(p?.field, url).toBe('oauth_token_url');
      expect(p?.message, url).toMatch(/^is not allowed: .* is an? [a-z -]+ address; Mailroom refuses private, loopback and link-local addresses unless MAILROOM_ALLOW_PRIVATE_HOSTS allows them$/);
    }
  });

  it('refuses a host that is an IP literal in a refused range, in any spelling, naming the field', () => {
    for (const host of ['127.0.0.1', '127.1', '0x7f000001', '2130706433', '0177.0.0.1', '10.0.0.5', '[::1]', '::ffff:192.168.1.1', 'fe80::1', '169.254.169.254', '100.64.0.1', '0.0.0.0']) {
      const found = problems({ ...base, host }, STRICT_POLICY);
      expect(found.map((p) => p.field), host).toEqual(['host']);
      expect(found[0]?.message, host).toContain('Mailroom refuses private, loopback and link-local addresses unless MAILROOM_ALLOW_PRIVATE_HOSTS allows them');
    }
    expect(problems({ ...base, host: '10.0.0.5' }, STRICT_POLICY)[0]?.message).toBe(
      'is not allowed: 10.0.0.5 is a private address; Mailroom refuses private, loopback and link-local addresses unless MAILROOM_ALLOW_PRIVATE_HOSTS allows them',
    );
    const allowed = parseAllowList('10.0.0.0/8, 127.0.0.1');
    if ('error' in allowed) throw new Error(allowed.error);
    expect(parseMailboxInput({ ...base, host: '10.0.0.5' }, allowed.policy).host).toBe('10.0.0.5');
    // Names are decided at connect time, after DNS.
    expect(parseMailboxInput({ ...base, host: 'localhost' }, STRICT_POLICY).host).toBe('localhost');
    expect(parseMailboxInput({ ...base, host: '8.8.8.8' }, STRICT_POLICY).host).toBe('8.8.8.8');
  });

  it('refuses control characters in every text field, naming it', () => {
    for (const [field, value] of [
      ['username', 'support\u001b[2J'],
      ['folder', 'INBOX\u001b]0;owned\u0007'],
      ['folder', 'INBOX\u009b2J'],
      ['folder', 'IN\u007fBOX'],
      ['username', 'a\r\nb'],
      ['address', 'sup\u001bport@example.test'],
      ['post_action', 'move:Arch\u001bive'],
    ] as const) {
      expect(problems({ ...base, [field]: value }), `${field}=${JSON.stringify(value)}`).toEqual([{ field, message: 'must not contain control characters' }]);
    }
    expect(problems({ ...base, password: 'pass\r\nA1 LOGOUT' })).toEqual([{ field: 'password', message: 'must not contain line breaks or NUL' }]);
  });
});

describe('post actions', () => {
  it.each([
    ['seen', { post_action: 'seen', post_action_folder: null }],
    ['NONE', { post_action: 'none', post_action_folder: null }],
    ['move:Archive', { post_action: 'move', post_action_folder: 'Archive' }],
    ['move:Done/2026 tickets', { post_action: 'move', post_action_folder: 'Done/2026 tickets' }],
    ['MOVE: Archive ', { post_action: 'move', post_action_folder: 'Archive' }],
  ])('parses %j', (text, expected) => {
    expect(parsePostAction(text)).toEqual(expected);
  });

  it.each(['', 'move', 'move:', 'move:  ', 'delete', 'seen:Archive'])('refuses %j', (text) => {
    expect(parsePostAction(text)).toBeNull();
  });

  it('formats back to the CLI form', () => {
    expect(formatPostAction({ post_action: 'move', post_action_folder: 'Archive' })).toBe('move:Archive');
    expect(formatPostAction({ post_action: 'seen', post_action_folder: null })).toBe('seen');
  });
});

describe('storedFields', () => {
  const key = Buffer.alloc(32, 7);

  it('encrypts the password and keeps no plaintext column', () => {
    const data = storedFields(parseMailboxInput({ ...base, post_action: 'move:Done' }), key);
    expect(JSON.stringify(data)).not.toContain('hunter2-pass');
    expect(decryptSecret(data.secret_encrypted, key)).toBe('hunter2-pass');
    expect(data).toMatchObject({ post_action: 'move', post_action_folder: 'Done', oauth_client_secret_encrypted: null, state: 'connecting', since: null });
  });

  it('encrypts the refresh token and the client secret of an OAuth2 mailbox', () => {
    const data = storedFields(
      parseMailboxInput({ ...base, password: undefined, auth: 'oauth2', refresh_token: 'rt-value-1', oauth_token_url: 'https://t.example/token', oauth_client_id: 'cid', oauth_client_secret: 'cs-value-2', enabled: false }),
      key,
    );
    const json = JSON.stringify(data);
    expect(json).not.toContain('rt-value-1');
    expect(json).not.toContain('cs-value-2');
    expect(decryptSecret(data.secret_encrypted, key)).toBe('rt-value-1');
    expect(decryptSecret(data.oauth_client_secret_encrypted ?? '', key)).toBe('cs-value-2');
    expect(data.state).toBe('disabled');
  });
});
