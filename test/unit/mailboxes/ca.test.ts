// A mailbox's private CA: PEM validation, what views show of it, and the TLS options it becomes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeCa, parseCaPem } from '../../../src/mailboxes/ca.js';
import { parseMailboxInput } from '../../../src/mailboxes/service.js';
import { tlsOptions } from '../../../src/sources/imap/client.js';

let pem = '';
beforeAll(() => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-ca-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Test Root CA/O=Acme', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem')], { stdio: 'ignore' });
  pem = readFileSync(path.join(dir, 'c.pem'), 'utf8');
});

const base = { address: 'a@acme.test', host: 'imap.acme.test', port: 993, username: 'a', password: 'pw' };

describe('tls_ca_pem', () => {
  it('accepts PEM certificates (one or a bundle) and nothing else', () => {
    expect(parseCaPem(pem)).toHaveLength(1);
    expect(parseCaPem(`${pem}\n${pem}`)).toHaveLength(2);
    expect(parseCaPem('')).toBeNull();
    expect(parseCaPem('not a certificate')).toBeNull();
    expect(parseCaPem(`${pem}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`)).toBeNull();
    expect(parseCaPem('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n')).toBeNull();
  });

  it('is validated by the mailbox service, naming the field', () => {
    expect(parseMailboxInput({ ...base, tls_ca_pem: pem }).tls_ca_pem).toBe(pem);
    expect(parseMailboxInput(base).tls_ca_pem).toBeNull();
    expect(() => parseMailboxInput({ ...base, tls_ca_pem: 'garbage' })).toThrow(expect.objectContaining({ code: 'VALIDATION', fields: [expect.objectContaining({ field: 'tls_ca_pem' })] }));
  });

  it('is shown as subject, fingerprint and expiry, never as the PEM', () => {
    const [shown] = describeCa(pem) ?? [];
    expect(shown?.subject).toBe('CN=Test Root CA, O=Acme');
    expect(shown?.fingerprint_sha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(shown?.valid_to).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(JSON.stringify(describeCa(pem))).not.toContain('BEGIN');
    expect(describeCa(null)).toBeNull();
  });

  it('becomes the only trust anchor of the TLS options', () => {
    expect(tlsOptions({ tls_ca_pem: pem })).toEqual({ minVersion: 'TLSv1.2', ca: pem });
    expect(tlsOptions({ tls_ca_pem: null })).toEqual({ minVersion: 'TLSv1.2' });
  });
});
