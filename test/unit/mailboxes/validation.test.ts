// Mailbox input validation and the post-action forms, without a database.
import { describe, expect, it } from 'vitest';
import { parseMailboxInput, storedFields } from '../../../src/mailboxes/service.js';
import { formatPostAction, parsePostAction } from '../../../src/mailboxes/types.js';
import { decryptSecret } from '../../../src/crypto/secrets.js';
import { MailroomError } from '../../../src/errors.js';

const base = { address: 'Support@Example.TEST', host: 'imap.example.test', port: 993, username: 'support', password: 'hunter2-pass' };

function problems(input: unknown): { field: string; message: string }[] {
  try {
    parseMailboxInput(input);
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

  it('takes only https token endpoints (http only on this machine)', () => {
    const oauth = { ...base, password: undefined, auth: 'oauth2', refresh_token: 'r', oauth_client_id: 'c' };
    expect(problems({ ...oauth, oauth_token_url: 'http://tokens.example/token' }).map((p) => p.field)).toEqual(['oauth_token_url']);
    expect(parseMailboxInput({ ...oauth, oauth_token_url: 'http://127.0.0.1:8080/token' }).oauth_token_url).toBe('http://127.0.0.1:8080/token');
    expect(parseMailboxInput({ ...oauth, oauth_token_url: 'https://login.example/token' }).auth).toBe('oauth2');
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
