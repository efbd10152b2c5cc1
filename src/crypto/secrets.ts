// Secrets at rest (mailbox passwords, OAuth2 refresh tokens): AES-256-GCM with a
// random 96-bit IV, keyed by MAILROOM_SECRET_KEY. The stored form carries a key id
// (first bytes of the key's sha256) so a rotated key can be told apart:
//   v1.<key id hex>.<iv b64url>.<tag b64url>.<ciphertext b64url>
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { MailroomError } from '../errors.js';

const VERSION = 'v1';

export function keyId(key: Buffer): string {
  return createHash('sha256').update('mailroom-secret-key-id').update(key).digest('hex').slice(0, 8);
}

export function encryptSecret(plaintext: string, key: Buffer): string {
  if (key.length !== 32) throw new MailroomError('CONFIG_INVALID', 'The secret key must be 32 bytes.');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${VERSION}.${keyId(key)}`));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, keyId(key), iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
}

/** Decrypt with the current key, or any older key given (rotation). */
export function decryptSecret(stored: string, keys: Buffer | readonly Buffer[]): string {
  const list = Array.isArray(keys) ? keys : [keys as Buffer];
  const parts = stored.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) {
    throw new MailroomError('SECRET_DECRYPT_FAILED', 'A stored secret has an unknown format.');
  }
  const [, id, ivText, tagText, ctText] = parts as [string, string, string, string, string];
  const key = list.find((k) => keyId(k) === id);
  if (!key) {
    throw new MailroomError('SECRET_DECRYPT_FAILED', `A stored secret was encrypted with another key (key id ${id}); set MAILROOM_SECRET_KEY to that key or re-enter the secret.`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
    decipher.setAAD(Buffer.from(`${VERSION}.${id}`));
    decipher.setAuthTag(Buffer.from(tagText, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new MailroomError('SECRET_DECRYPT_FAILED', 'A stored secret failed its integrity check.', { cause: err });
  }
}
