// A tenant with one mailbox on the run's Dovecot, for sync tests: a fresh
// Dovecot user per call so tests never share a folder.
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../../src/db/prisma.js';
import { decodeSecretKey } from '../../src/config/config.js';
import { encryptSecret } from '../../src/crypto/secrets.js';
import { createTenant } from '../../src/tenants/service.js';
import { addDovecotUser, DEFAULT_PASSWORD } from './dovecot.js';
import { testEnv } from './env.js';

export interface TestMailbox {
  tenantId: number;
  tenantSlug: string;
  mailboxId: number;
  user: string;
}

export function secretKey(): Buffer {
  const key = decodeSecretKey(testEnv().secretKey);
  if (!key) throw new Error('the test secret key does not decode');
  return key;
}

export async function createTestMailbox(
  db: PrismaClient,
  options: { tenantId?: number; tenantSlug?: string; password?: string; post_action?: 'seen' | 'move' | 'none'; post_action_folder?: string; poll_seconds?: number; since?: Date } = {},
): Promise<TestMailbox> {
  const env = testEnv();
  let tenantId = options.tenantId;
  let tenantSlug = options.tenantSlug ?? '';
  if (tenantId === undefined) {
    tenantSlug = `t-${randomBytes(4).toString('hex')}`;
    tenantId = (await createTenant(db, { slug: tenantSlug })).id;
  }
  const user = `box-${randomBytes(4).toString('hex')}@example.test`;
  await addDovecotUser(env.dovecot, user);
  const mailbox = await db.mailbox.create({
    data: {
      tenant_id: tenantId,
      address: user,
      host: env.dovecot.host,
      port: env.dovecot.imapPort,
      tls: 'none',
      username: user,
      secret_encrypted: encryptSecret(options.password ?? DEFAULT_PASSWORD, secretKey()),
      post_action: options.post_action ?? 'none',
      post_action_folder: options.post_action_folder ?? null,
      poll_seconds: options.poll_seconds ?? 60,
      since: options.since ?? null,
    },
  });
  return { tenantId, tenantSlug, mailboxId: mailbox.id, user };
}

let counter = 0;
/** A small, distinct human mail to `to`. */
export function testMail(to: string, opts: { from?: string; subject?: string; messageId?: string; inReplyTo?: string; body?: string; attachment?: boolean } = {}): string {
  counter += 1;
  const id = opts.messageId ?? `m${Date.now()}.${counter}.${randomBytes(3).toString('hex')}@example.com`;
  const headers = [
    `From: ${opts.from ?? 'Customer <customer@example.com>'}`,
    `To: ${to}`,
    `Subject: ${opts.subject ?? `Question ${counter}`}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${id}>`,
    ...(opts.inReplyTo ? [`In-Reply-To: <${opts.inReplyTo}>`] : []),
    'MIME-Version: 1.0',
  ];
  const body = opts.body ?? `Hello, this is message ${counter}.`;
  if (!opts.attachment) return `${headers.join('\r\n')}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;
  return `${headers.join('\r\n')}\r\nContent-Type: multipart/mixed; boundary="xx"\r\n\r\n--xx\r\nContent-Type: text/plain\r\n\r\n${body}\r\n--xx\r\nContent-Type: application/pdf; name="doc.pdf"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--xx--\r\n`;
}
