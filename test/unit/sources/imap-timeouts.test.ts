// A connection that times out is the network's or the server's silence, not a
// TLS failure: a plain-text (or STARTTLS) test whose greeting never came was
// reported as "STARTTLS/TLS with host failed" because imapflow's message says
// "Maybe should use TLS?".
import { describe, expect, it } from 'vitest';
import { classifyImapError } from '../../../src/sources/imap/errors.js';

const row = (tls: 'tls' | 'starttls' | 'none') => ({ host: 'imap.example.test', port: 143, username: 'support', folder: 'INBOX', auth: 'password' as const, tls });
const greetingTimeout = () => Object.assign(new Error('Failed to receive greeting from server in required time. Maybe should use TLS?'), { code: 'GREETING_TIMEOUT' });
const socketTimeout = () => Object.assign(new Error('Socket timeout'), { code: 'ETIMEOUT' });

describe('classifyImapError on timeouts', () => {
  it('reports a missing greeting as the tcp stage in every TLS mode', () => {
    for (const mode of ['none', 'starttls'] as const) {
      const f = classifyImapError(row(mode), greetingTimeout(), 'connect');
      expect(f.stage, mode).toBe('tcp');
      expect(f.message).toBe('imap.example.test:143 accepted the connection but sent no IMAP greeting (is it an implicit TLS port? then use tls as the TLS mode).');
      expect(f.message).not.toMatch(/STARTTLS|TLS with/);
    }
  });

  it('reports a server that stops answering as a timeout, not TLS', () => {
    for (const mode of ['none', 'starttls', 'tls'] as const) {
      const f = classifyImapError(row(mode), socketTimeout(), 'connect');
      expect(f.stage, mode).toBe('tcp');
      expect(f.message).toBe('imap.example.test:143 stopped answering (the connection timed out).');
    }
  });

  it('never calls a plain-text connection a TLS failure', () => {
    const f = classifyImapError(row('none'), new Error('Unexpected TLS alert while reading'), 'connect');
    expect(f.stage).toBe('tcp');
  });

  it('still reports a failed STARTTLS upgrade as the tls stage', () => {
    const f = classifyImapError(row('starttls'), Object.assign(new Error('Failed to upgrade connection'), { code: 'UPGRADE_TIMEOUT', tlsFailed: true }), 'connect');
    expect(f.stage).toBe('tls');
    expect(f.message).toMatch(/^STARTTLS with imap\.example\.test:143 failed/);
  });
});
