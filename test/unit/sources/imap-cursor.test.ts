// IMAP's cursor and source keys: the text forms the migration wrote for
// existing rows ('uidvalidity:uid', 'uidvalidity:lastuid[:modseq]') round-trip,
// foreign or damaged text reads as "no cursor", and views get numbers.
import { describe, expect, it } from 'vitest';
import { describeCursor, describeKey, formatCursor, formatSourceKey, parseCursor, parseSourceKey } from '../../../src/sources/imap/cursor.js';
import { classifyImapError, toSourceFailure } from '../../../src/sources/imap/errors.js';
import { transition } from '../../../src/mailboxes/health.js';
import { MailroomError } from '../../../src/errors.js';

describe('IMAP cursor and source keys', () => {
  it('round-trips, with and without HIGHESTMODSEQ', () => {
    const c = { uidValidity: 4_000_000_000n, lastUid: 4_294_967_295n, highestModseq: 9_007_199_254_740_993n };
    expect(formatCursor(c)).toBe('4000000000:4294967295:9007199254740993');
    expect(parseCursor(formatCursor(c))).toEqual(c);
    expect(parseCursor('7:0')).toEqual({ uidValidity: 7n, lastUid: 0n, highestModseq: null });
    expect(formatSourceKey(7n, 12n)).toBe('7:12');
    expect(parseSourceKey('7:12')).toEqual({ uidValidity: 7n, uid: 12n });
  });

  it('reads anything else as no cursor, so the folder is read afresh', () => {
    for (const bad of [null, '', '7', '7:', ':7', 'a:b', '7:8:9:10', '-1:2', '7 :8']) expect(parseCursor(bad)).toBeNull();
    expect(parseSourceKey('7:8:9')).toBeNull();
  });

  it('describes cursors and keys for views', () => {
    expect(describeCursor('1764064800:17:9007199254740993')).toEqual({ uid_validity: 1764064800, last_uid: 17, highest_modseq: '9007199254740993' });
    expect(describeCursor(null)).toEqual({ uid_validity: null, last_uid: null, highest_modseq: null });
    expect(describeKey('11:1')).toEqual({ uid_validity: 11, uid: 1 });
    expect(describeKey('not-imap')).toEqual({ uid_validity: null, uid: null });
  });
});

describe('classifyImapError', () => {
  const row = { host: 'imap.example.test', port: 993, username: 'support', folder: 'INBOX', auth: 'password' as const, tls: 'tls' as const };

  it('names the stage and whether a person is needed', () => {
    const auth = classifyImapError(row, Object.assign(new Error('Command failed'), { authenticationFailed: true, responseText: 'Authentication failed.' }), 'connect');
    expect(auth).toEqual({ stage: 'auth', code: 'MAILBOX_AUTH_FAILED', message: 'imap.example.test:993 rejected the login of user support: Authentication failed.' });
    expect(toSourceFailure(auth).kind).toBe('auth');
    const folder = classifyImapError(row, Object.assign(new Error('Command failed'), { mailboxMissing: true }), 'folder');
    expect(folder).toMatchObject({ stage: 'folder', code: 'MAILBOX_FOLDER_FAILED' });
    // A folder missing for a moment (recreated) is retried soon, not parked like refused credentials.
    expect(toSourceFailure(folder).kind).toBe('folder');
    const refused = classifyImapError(row, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'connect');
    expect(refused).toEqual({ stage: 'tcp', code: 'MAILBOX_CONNECT_FAILED', message: 'Nothing accepts connections on imap.example.test:993 (connection refused).' });
    expect(toSourceFailure(refused).kind).toBe('connect');
    const dropped = classifyImapError(row, Object.assign(new Error('Socket closed unexpectedly'), { code: 'NoConnection' }), 'session');
    expect(dropped.message).toBe('The IMAP session with imap.example.test:993 failed (NoConnection): Socket closed unexpectedly.');
  });

  it("keeps a server's NO text but not its control characters (it is stored as last_error and shown in terminals)", () => {
    const no = Object.assign(new Error('Command failed'), { responseStatus: 'NO', responseText: 'Mailbox locked \u001b[2J\u001b]0;owned\u0007\r\nA1 OK\u009b' });
    const folder = classifyImapError(row, no, 'folder');
    expect(folder.message).toBe('Folder "INBOX" of user support on imap.example.test:993 cannot be opened: Mailbox locked \uFFFD[2J\uFFFD]0;owned\uFFFD  A1 OK\uFFFD.');
    const auth = classifyImapError(row, Object.assign(new Error('Command failed'), { authenticationFailed: true, responseText: 'no \u001b[31mway' }), 'connect');
    expect(auth.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(transition({ consecutive_failures: 0 }, { type: 'failed', kind: 'auth', message: 'raw \u001b[2J text', at: new Date(0) }).last_error).toBe('raw \uFFFD[2J text');
  });

  it('reports a connection-policy refusal as the policy stage, retried like a connection failure', () => {
    const refusal = new MailroomError('CONNECTION_NOT_ALLOWED', 'imap.example.test resolves to 10.0.0.5, a private address; Mailroom refuses private, loopback and link-local addresses unless MAILROOM_ALLOW_PRIVATE_HOSTS allows them.');
    const f = classifyImapError(row, refusal, 'connect');
    expect(f).toEqual({ stage: 'policy', code: 'CONNECTION_NOT_ALLOWED', message: refusal.message });
    expect(toSourceFailure(f).kind).toBe('connect');
  });
});
