// A mailbox's private certificate authority (`tls_ca_pem`): for IMAP servers
// whose certificate no public CA signed (a company CA, a self-signed server).
// Stored as PEM text and handed to node:tls as `ca` by the connection test and
// the worker alike. Not a secret, but long and unreadable: views show each
// certificate's subject, fingerprint and expiry instead of the PEM.
import { X509Certificate } from 'node:crypto';

export interface CaCertificate {
  subject: string;
  /** SHA-256 fingerprint, colon-separated hex (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint_sha256: string;
  valid_to: string;
}

const BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates of a PEM text; null when it holds none, or anything besides certificates that is not blank. */
export function parseCaPem(pem: string): X509Certificate[] | null {
  const blocks = pem.match(BLOCK) ?? [];
  if (blocks.length === 0 || pem.replace(BLOCK, '').trim() !== '') return null;
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch {
    return null;
  }
}

/** What views show of a stored CA (never the PEM itself). */
export function describeCa(pem: string | null): CaCertificate[] | null {
  if (pem === null) return null;
  return (parseCaPem(pem) ?? []).map((c) => ({
    // One line: the subject's fields comma-separated, as `openssl x509 -subject` prints them.
    subject: c.subject.split('\n').join(', '),
    fingerprint_sha256: c.fingerprint256,
    valid_to: new Date(c.validTo).toISOString(),
  }));
}
