// The s3:// blob store against a real S3 API (s3rver, started here on its own
// port and directory), built from a storage URL as the worker builds it, with
// credentials from the environment through the AWS SDK's default chain.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_POLICY_LIMITS } from '../../src/attachments/policy.js';
import { processAttachment } from '../../src/attachments/processor.js';
import { isMailroomError, type MailroomError } from '../../src/errors.js';
import { imapCursor, ingestMessage } from '../support/ingest.js';
import { createLogger } from '../../src/logging/logger.js';
import { blobKeyFor, createBlobStore, sha256Hex, type BlobStore } from '../../src/storage/blob-store.js';
import { S3BlobStore } from '../../src/storage/s3-store.js';
import { createTenant } from '../../src/tenants/service.js';
import { PDF, mailWithAttachments } from '../fixtures/attachments/samples.js';
import { testPrisma } from '../support/env.js';
import { secretKey } from '../support/mailboxes.js';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '../support/s3-server.js';

const BUCKET = 'mailroom-test';
let s3: TestS3Server;
let raw: S3Client;
const stores: S3BlobStore[] = [];

beforeAll(async () => {
  for (const [name, value] of Object.entries(S3RVER_CREDENTIALS)) vi.stubEnv(name, value);
  s3 = await startS3Server([BUCKET]);
  raw = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
});
afterAll(async () => {
  for (const store of stores) store.close();
  raw.destroy();
  await s3.stop();
  vi.unstubAllEnvs();
});

/** A store under its own prefix, made from a storage URL. */
function storeAt(url: string): S3BlobStore {
  const store = createBlobStore(url);
  if (!(store instanceof S3BlobStore)) throw new Error('expected an S3 store');
  stores.push(store);
  return store;
}
const freshPrefix = () => `runs/${randomBytes(4).toString('hex')}`;
const storeUrl = (prefix: string, server = s3) => `s3://${BUCKET}/${prefix}?endpoint=${encodeURIComponent(server.endpoint)}`;

async function keysUnder(prefix: string): Promise<string[]> {
  const res = await raw.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/` }));
  return (res.Contents ?? []).map((o) => o.Key ?? '');
}

async function storageError(promise: Promise<unknown>): Promise<MailroomError> {
  try {
    await promise;
  } catch (err) {
    if (isMailroomError(err, 'STORAGE_FAILED')) return err;
    throw err;
  }
  throw new Error('expected STORAGE_FAILED');
}

/** Everything a stream emits, and the error it ended with (null when it ended cleanly). */
async function drain(stream: Readable): Promise<{ bytes: Buffer; error: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { bytes: Buffer.concat(chunks), error: null };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
}

describe('S3BlobStore', () => {
  it('puts under the prefix with a SHA-256 checksum and gets the exact bytes back', async () => {
    const prefix = freshPrefix();
    const store = storeAt(storeUrl(prefix));
    const bytes = Buffer.concat([randomBytes(70_000), Buffer.from([0, 0xff, 0x0d, 0x0a])]);
    const stored = await store.put(bytes);
    expect(stored).toEqual({ key: blobKeyFor(sha256Hex(bytes)), sha256: sha256Hex(bytes), size: bytes.length });
    expect(stored.key).toMatch(/^sha256\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
    expect(await keysUnder(prefix)).toEqual([`${prefix}/${stored.key}`]);

    const upload = s3.requests.find((r) => r.method === 'PUT' && r.url.startsWith(`/${BUCKET}/${prefix}/${stored.key}`));
    expect(upload?.headers['x-amz-checksum-sha256']).toBe(createHash('sha256').update(bytes).digest('base64'));
    expect(upload?.headers['content-length']).toBe(String(bytes.length));

    const back = await store.get(stored.key);
    expect(back.equals(bytes)).toBe(true);
  });

  it('opens an object as a stream of its exact bytes, with its size', async () => {
    const prefix = freshPrefix();
    const store = storeAt(storeUrl(prefix));
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const { key } = await store.put(bytes);
    const opened = await store.open(key);
    expect(opened.size).toBe(bytes.length);
    const { bytes: read, error } = await drain(opened.stream);
    expect(error).toBeNull();
    expect(read.equals(bytes)).toBe(true);
    const get = s3.requests.filter((r) => r.method === 'GET' && r.url.split('?')[0] === `/${BUCKET}/${prefix}/${key}`);
    expect(get).toHaveLength(1);

    // A reader may stop early: destroying the stream drops that response, and the store goes on working.
    const early = await store.open(key);
    early.stream.destroy();
    const again = await store.open(key);
    again.stream.destroy();
    expect(again.size).toBe(bytes.length);
  });

  it('opens a missing object as get() reads it, and refuses keys that are not content addresses', async () => {
    const store = storeAt(storeUrl(freshPrefix()));
    const key = blobKeyFor(sha256Hex(Buffer.from('never stored')));
    const missing = await storageError(store.open(key));
    expect(missing.retryable).toBe(false);
    expect(missing.message).toBe(`Blob ${key} does not exist.`);
    const bad = await storageError(store.open('../../etc/passwd'));
    expect(bad.retryable).toBe(false);
    expect(bad.message).toMatch(/Invalid blob key/);
  });

  it('fails the stream of an object that does not match its key, without retrying', async () => {
    const prefix = freshPrefix();
    const store = storeAt(storeUrl(prefix));
    const key = blobKeyFor(sha256Hex(Buffer.from('the real bytes')));
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${key}`, Body: Buffer.from('other bytes') }));
    const opened = await store.open(key);
    expect(opened.size).toBe('other bytes'.length);
    const { bytes, error } = await drain(opened.stream);
    expect(bytes.length).toBe(0);
    expect(isMailroomError(error, 'STORAGE_FAILED') && !error.retryable && error.message).toBe(`Blob ${key} is corrupt: its bytes do not match its hash.`);
  });

  it('stores the same bytes once: a second put finds them with HEAD and uploads nothing', async () => {
    const prefix = freshPrefix();
    const store = storeAt(storeUrl(prefix));
    const bytes = Buffer.from(`same bytes ${prefix}`);
    const first = await store.put(bytes);
    const objectPath = `/${BUCKET}/${prefix}/${first.key}`;
    const seen = () => s3.requests.filter((r) => r.url.split('?')[0] === objectPath).map((r) => r.method);
    expect(seen()).toEqual(['HEAD', 'PUT']);

    const second = await storeAt(storeUrl(prefix)).put(bytes);
    expect(second).toEqual(first);
    expect(seen()).toEqual(['HEAD', 'PUT', 'HEAD']);
    expect(await keysUnder(prefix)).toEqual([`${prefix}/${first.key}`]);
  });

  it('stores a stream with its SHA-256 and length as put() stores its bytes, once', async () => {
    const prefix = freshPrefix();
    const store = storeAt(storeUrl(prefix));
    const bytes = randomBytes(200_000);
    const stored = await store.putStream(Readable.from([bytes.subarray(0, 70_000), bytes.subarray(70_000)]));
    expect(stored).toEqual({ key: blobKeyFor(sha256Hex(bytes)), sha256: sha256Hex(bytes), size: bytes.length });
    const objectPath = `/${BUCKET}/${prefix}/${stored.key}`;
    const upload = s3.requests.find((r) => r.method === 'PUT' && r.url.split('?')[0] === objectPath);
    expect(upload?.headers['x-amz-checksum-sha256']).toBe(createHash('sha256').update(bytes).digest('base64'));
    expect(upload?.headers['content-length']).toBe(String(bytes.length));
    expect((await store.get(stored.key)).equals(bytes)).toBe(true);

    expect(await store.putStream(Readable.from([bytes]))).toEqual(stored);
    expect(s3.requests.filter((r) => r.url.split('?')[0] === objectPath && r.method !== 'GET').map((r) => r.method)).toEqual(['HEAD', 'PUT', 'HEAD']);
  });

  it('says whether a key exists, and refuses keys that are not content addresses', async () => {
    const prefix = freshPrefix();
    const store = storeAt(storeUrl(prefix));
    const { key } = await store.put(Buffer.from('present'));
    expect(await store.exists(key)).toBe(true);
    expect(await store.exists(blobKeyFor(sha256Hex(Buffer.from('absent'))))).toBe(false);
    // The same bytes under another prefix are another store's.
    expect(await storeAt(storeUrl(freshPrefix())).exists(key)).toBe(false);
    const bad = await storageError(store.get('../../etc/passwd'));
    expect(bad.retryable).toBe(false);
  });

  it('reports a missing blob as STORAGE_FAILED that is not retryable', async () => {
    const store = storeAt(storeUrl(freshPrefix()));
    const key = blobKeyFor(sha256Hex(Buffer.from('never stored')));
    const err = await storageError(store.get(key));
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(`Blob ${key} does not exist.`);
  });

  it('refuses bytes that do not match their key, without retrying', async () => {
    const prefix = freshPrefix();
    const store = storeAt(storeUrl(prefix));
    const key = blobKeyFor(sha256Hex(Buffer.from('the real bytes')));
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${key}`, Body: Buffer.from('other bytes') }));
    const err = await storageError(store.get(key));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/is corrupt/);
  });

  it('reports a missing bucket as retryable: the blob is not known to be gone', async () => {
    const store = storeAt(`s3://no-such-bucket-${randomBytes(3).toString('hex')}/p?endpoint=${encodeURIComponent(s3.endpoint)}`);
    const err = await storageError(store.get(blobKeyFor(sha256Hex(Buffer.from('x')))));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/NoSuchBucket, HTTP 404/);
  });

  it('reports a server that went away as retryable STORAGE_FAILED', async () => {
    const gone = await startS3Server([BUCKET]);
    const store = storeAt(storeUrl(freshPrefix(), gone));
    const { key } = await store.put(Buffer.from('before the outage'));
    await gone.stop();
    for (const attempt of [() => store.get(key), () => store.open(key), () => store.exists(key), () => store.put(Buffer.from('during the outage')), () => store.putStream(Readable.from([Buffer.from('streamed during the outage')]))]) {
      const err = await storageError(attempt());
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/ECONNREFUSED/);
    }
  });

  it('reports 5xx answers as retryable STORAGE_FAILED', async () => {
    let calls = 0;
    const failing: Server = createServer((_req, res) => {
      calls++;
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
      const store = storeAt(`s3://${BUCKET}/p?endpoint=${encodeURIComponent(endpoint)}`);
      const err = await storageError(store.get(blobKeyFor(sha256Hex(Buffer.from('x')))));
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/SlowDown, HTTP 503/);
      expect(calls).toBeGreaterThan(1); // the SDK's own retries came first
    } finally {
      failing.closeAllConnections();
      await new Promise((resolve) => failing.close(resolve));
    }
  });
});

describe('attachments through the S3 store', () => {
  it('ingests a mail and processes its attachment from S3', async () => {
    const db = testPrisma();
    try {
      const prefix = freshPrefix();
      const blobs: BlobStore = storeAt(storeUrl(prefix));
      const logger = createLogger({ level: 'silent' });
      const tenant = await createTenant(db, { slug: `s3-${randomBytes(4).toString('hex')}` });
      const row = await db.mailbox.create({
        data: { tenant_id: tenant.id, address: 'support@acme.test', host: '127.0.0.1', port: 143, tls: 'none', username: 'u', secret_encrypted: 'x', cursor: imapCursor(1n, 0n) },
      });
      const mailbox = { id: row.id, tenant_id: tenant.id, address: row.address, aliases: [] };
      const raw = mailWithAttachments({ messageId: `${randomBytes(6).toString('hex')}@example.com` }, [{ filename: 'secret plans.pdf', type: 'application/pdf', data: PDF }]);
      const ctx = { db, blobs, secretKey: secretKey(), publicUrl: 'http://mailroom.test', logger };
      const result = await ingestMessage(ctx, mailbox, { uidValidity: 1n, uid: 1n, raw, internalDate: new Date() });
      const [attachment] = result.attachments;
      if (!attachment) throw new Error('expected one attachment');
      // The raw message and the attachment, both under content addresses: no file name in any key.
      const keys = await keysUnder(prefix);
      expect(keys).toContain(`${prefix}/${attachment.storageKey}`);
      expect(keys.every((k) => /^runs\/[0-9a-f]{8}\/sha256\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(k))).toBe(true);

      const deps = { db, blobs, logger, limits: DEFAULT_POLICY_LIMITS, attemptBudget: 5 };
      const job = { attachmentId: attachment.id, tenantId: attachment.tenantId };
      expect(await processAttachment(deps, job, { attempt: 1, maxAttempts: 5 })).toEqual({ status: 'OK', message: null, detectedType: 'application/pdf' });
    } finally {
      await db.$disconnect();
    }
  });
});
