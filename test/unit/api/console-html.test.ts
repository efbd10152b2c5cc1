// The console's pure parts: the html`` builder escapes every value it is
// given (so a page cannot forget to), and the CSRF token is the session's own.
import { describe, expect, it } from 'vitest';
import { csrfToken, csrfTokenMatches } from '../../../src/api/console/csrf.js';
import { html, query, trusted } from '../../../src/api/console/html.js';
import { testResult } from '../../../src/api/console/mailbox-views.js';

describe('html``', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    const hostile = `"><img src=x onerror=alert(1)>'\``;
    const out = html`<a title="${hostile}" href='${hostile}'>${hostile}</a>`.toString();
    expect(out).toBe(
      '<a title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&#96;" href=\'&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&#96;\'>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&#96;</a>',
    );
  });

  it('keeps Html built by itself, joins arrays, and renders null, undefined and booleans as nothing', () => {
    const items = ['<b>', 'ok'].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${true}${0}`.toString()).toBe('<ul><li>&lt;b&gt;</li><li>ok</li></ul>0');
    expect(html`${trusted('<em>made safe here</em>')}`.toString()).toBe('<em>made safe here</em>');
  });

  it('builds query strings from filters, leaving empty ones out', () => {
    expect(query({ outcome: 'failed', page: 2, status: '' , mailbox_id: undefined })).toBe('?outcome=failed&page=2');
    expect(query({ q: 'a&b=<c>' })).toBe('?q=a%26b%3D%3Cc%3E');
    expect(query({})).toBe('');
  });
});

describe('the CSRF token', () => {
  const key = Buffer.alloc(32, 7);
  const session = 'A'.repeat(43);

  it('belongs to one session and one secret key', () => {
    const token = csrfToken(key, session);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfTokenMatches(key, session, token)).toBe(true);
    expect(csrfTokenMatches(key, 'B'.repeat(43), token)).toBe(false);
    expect(csrfTokenMatches(Buffer.alloc(32, 8), session, token)).toBe(false);
    expect(token).not.toContain(session.slice(0, 10));
  });

  it('refuses anything that is not the token', () => {
    for (const given of [undefined, null, '', 'x'.repeat(43), csrfToken(key, session).slice(1), ['a'], 42]) expect(csrfTokenMatches(key, session, given)).toBe(false);
  });
});

describe('the connection test on a page', () => {
  it('marks the steps before the failed one as passed, names the failed one, and the rest as not reached', () => {
    const out = testResult({ ok: false, stage: 'auth', code: 'MAILBOX_AUTH_FAILED', message: 'imap.example.test:993 rejected the login of user <u>: Authentication failed.' }, 'tls', 'password').toString();
    expect(out).toContain('Connection test failed: authentication failed');
    expect(out.indexOf('DNS lookup: passed')).toBeLessThan(out.indexOf('TCP connection: passed'));
    expect(out).toContain('TLS: passed');
    expect(out).toContain('<strong>Authentication: failed</strong> — imap.example.test:993 rejected the login of user &lt;u&gt;: Authentication failed.');
    expect(out).toContain('Folder: not reached');
    expect(out).not.toContain('OAuth2');
  });

  it('skips TLS for a plain-text mailbox and names a DNS failure first', () => {
    const out = testResult({ ok: false, stage: 'dns', code: 'MAILBOX_DNS_FAILED', message: 'The host name imap.nowhere.test does not exist.' }, 'none', 'password').toString();
    expect(out).toContain('Connection test failed: DNS lookup failed');
    expect(out).not.toContain('TLS:');
    expect(out).toContain('TCP connection: not reached');
  });
});
