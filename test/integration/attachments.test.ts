// Attachment processing against the run's real PostgreSQL and Redis and a
// throw-away filesystem blob store: mail goes in through ingestMessage, the
// attachment worker (each test on its own queue prefix) brings every row to a
// final status, the sweeper heals rows whose job was never enqueued, and the
// download route serves the exact bytes only to a valid signed URL, streamed
// from the store.
import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_LIMITS } from '../../src/attachments/policy.js';
import { processAttachment } from '../../src/attachments/processor.js';
import { STREAMED_JUDGE_BYTES } from '../../src/attachments/streamed.js';
import { downloadUrl } from '../../src/attachments/signing.js';
import { startAttachmentWorker, type AttachmentWorkerHandle } from '../../src/attachments/worker.js';
import { buildApp } from '../../src/api/app.js';
import { ingestContext } from '../../src/main/services.js';
import { downloadUrlFor } from '../../src/api/routes/conversations.js';
import { conversationDto, conversationInclude } from '../../src/conversations/dto.js';
import { loadConfig } from '../../src/config/config.js';
import { MailroomError } from '../../src/errors.js';
import { imapCursor, ingestMessage, type IngestContext, type IngestMailbox } from '../support/ingest.js';
import { createLogger, type Logger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { attachmentJobId, createRedisConnection, enqueueAttachmentJobs, lastSweep } from '../../src/queues/queues.js';
import { createBlobStore, type BlobStore } from '../../src/storage/blob-store.js';
import { createTenant } from '../../src/tenants/service.js';
import { PDF, PNG, bomb42, buildZip, mailWithAttachments, peExecutable } from '../fixtures/attachments/samples.js';
import { testEnv, testPrisma } from '../support/env.js';
import { secretKey } from '../support/mailboxes.js';

const db = testPrisma();
const logger = createLogger({ level: 'silent' });
const blobRoot = mkdtempSync(path.join(tmpdir(), 'mailroom-attachment-blobs-'));
const blobs = createBlobStore(`file://${blobRoot}`);
let connection: Redis;
let ctx: IngestContext;
let mailbox: IngestMailbox;
let tenantSlug: string;
let otherSlug: string;
let uid = 0n;
const handles: AttachmentWorkerHandle[] = [];

beforeAll(async () => {
  // The sweeper looks at every UNAVAILABLE row of the database: rows earlier test files left (their
  // blobs elsewhere) would be swept by these workers and counted in their metrics. Settle them first.
  await db.attachment.updateMany({ where: { status: 'UNAVAILABLE' }, data: { status: 'ERROR', status_message: 'Left by an earlier test file.' } });
  connection = createRedisConnection(testEnv().redisUrl);
  tenantSlug = `att-${randomBytes(4).toString('hex')}`;
  otherSlug = `att-${randomBytes(4).toString('hex')}`;
  const tenant = await createTenant(db, { slug: tenantSlug });
  await createTenant(db, { slug: otherSlug });
  const row = await db.mailbox.create({
    data: { tenant_id: tenant.id, address: 'support@acme.test', host: '127.0.0.1', port: 143, tls: 'none', username: 'u', secret_encrypted: 'x', cursor: imapCursor(1n, 0n) },
  });
  mailbox = { id: row.id, tenant_id: tenant.id, address: row.address, aliases: [] };
  ctx = { db, blobs, secretKey: secretKey(), publicUrl: 'http://mailroom.test', logger };
});
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});
afterAll(async () => {
  await connection.quit();
  await db.$disconnect();
});

async function startWorker(env: Record<string, string> = {}, extra: Partial<Parameters<typeof startAttachmentWorker>[0]> = {}) {
  const config = loadConfig({
    DATABASE_URL: testEnv().databaseUrl,
    REDIS_URL: testEnv().redisUrl,
    MAILROOM_SECRET_KEY: testEnv().secretKey,
    MAILROOM_QUEUE_PREFIX: `${testEnv().queuePrefix}-${randomBytes(4).toString('hex')}`,
    ...env,
  });
  const handle = await startAttachmentWorker({ config, db, connection, logger, blobs, ...extra });
  handles.push(handle);
  return handle;
}

/** Ingests one mail (as the sync would, but without enqueueing: the caller decides). */
async function ingest(parts: { filename: string; type: string; data: Buffer }[]) {
  const raw = mailWithAttachments({ messageId: `${randomBytes(6).toString('hex')}@example.com` }, parts);
  const result = await ingestMessage(ctx, mailbox, { uidValidity: 1n, uid: ++uid, raw, internalDate: new Date() });
  expect(result.outcome).toBe('conversation');
  expect(result.attachments).toHaveLength(parts.length);
  return result.attachments.map((a) => ({ id: a.id, attachmentId: a.id, tenantId: a.tenantId, storageKey: a.storageKey }));
}

/** The job payload for an ingested row, as the sync enqueues it: ids only (no blob key, which is the file's sha256). */
const job = ({ attachmentId, tenantId }: { attachmentId: number; tenantId: number }) => ({ attachmentId, tenantId });

/** The rows, in the given order, once none of them is UNAVAILABLE. */
async function finalRows(ids: number[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.attachment.findMany({ where: { id: { in: ids } } });
    if (rows.every((r) => r.status !== 'UNAVAILABLE')) return ids.map((id) => rows.find((r) => r.id === id)!);
    if (Date.now() > deadline) throw new Error(`still UNAVAILABLE: ${rows.filter((r) => r.status === 'UNAVAILABLE').map((r) => r.id).join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const jobState = async (queue: AttachmentWorkerHandle['queue'], id: number) => (await queue.getJob(attachmentJobId(id)))?.getState();

/** A blob store whose reads fail (transiently) as many times as asked per key. */
function flaky(inner: BlobStore, failures: Map<string, number>): BlobStore {
  return {
    put: (bytes) => inner.put(bytes),
    putStream: (source) => inner.putStream(source),
    exists: (key) => inner.exists(key),
    open: (key) => inner.open(key),
    get: async (key) => {
      const left = failures.get(key) ?? 0;
      if (left > 0) {
        failures.set(key, left - 1);
        // Worded as the real stores word it: with the key, which is the sha256 of the file.
        throw new MailroomError('STORAGE_FAILED', `Cannot read blob ${key}.`);
      }
      return inner.get(key);
    },
  };
}

// Shared with the download tests: the first mail's rows.
let processed: { pdf: number; png: number; exe: number };

describe('attachment worker', () => {
  it('brings a PDF, a PNG and an .exe renamed .pdf to OK, OK and ERROR', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const worker = await startWorker({}, { metrics });
    const jobs = await ingest([
      { filename: 'report.pdf', type: 'application/pdf', data: PDF },
      { filename: '=?UTF-8?Q?r=C3=A9sum=C3=A9_photo.png?=', type: 'image/png', data: PNG },
      { filename: 'invoice.pdf', type: 'application/pdf', data: peExecutable() },
    ]);
    expect(await db.attachment.count({ where: { id: { in: jobs.map((j) => j.id) }, status: 'UNAVAILABLE' } })).toBe(3);
    await enqueueAttachmentJobs(worker.queue, jobs.map(job));
    const [pdf, png, exe] = await finalRows(jobs.map((j) => j.id));
    expect(pdf).toMatchObject({ status: 'OK', status_message: null, detected_type: 'application/pdf', attempts: 1 });
    expect(png).toMatchObject({ status: 'OK', status_message: null, detected_type: 'image/png', filename: 'résumé photo.png' });
    expect(exe).toMatchObject({ status: 'ERROR', status_message: 'Blocked file type: the bytes are a Windows executable.', filename: 'invoice.pdf', attempts: 1 });
    // The counter moves just after the row is final: wait for it rather than read it at once.
    const counted = async () => Object.fromEntries((await metrics.attachmentJobsTotal.get()).values.map((v) => [v.labels.status, v.value]));
    await until('the attachment outcomes to be counted', async () => {
      const c = await counted();
      return c.ok === 2 && c.error === 1;
    });
    expect(await counted()).toEqual({ ok: 2, error: 1 });
    processed = { pdf: pdf!.id, png: png!.id, exe: exe!.id };

    // A second job for a final row, or a job naming another tenant, changes nothing.
    const deps = { db, blobs, logger, limits: DEFAULT_POLICY_LIMITS, attemptBudget: 5 };
    const again = await processAttachment(deps, job(jobs[2]!), { attempt: 1, maxAttempts: 5 });
    expect(again).toEqual({ status: 'skipped', reason: 'final' });
    const foreign = await processAttachment(deps, { ...job(jobs[2]!), tenantId: jobs[2]!.tenantId + 1 }, { attempt: 1, maxAttempts: 5 });
    expect(foreign).toEqual({ status: 'skipped', reason: 'missing' });
    expect(await db.attachment.findUniqueOrThrow({ where: { id: exe!.id } })).toEqual(exe);
  });

  it('brings a 42.zip-style nested bomb to ERROR and a harmless nested archive to OK', async () => {
    const worker = await startWorker();
    const inner = buildZip([{ name: 'notes.txt', data: Buffer.from('hello '.repeat(500)), deflate: true }]);
    const harmless = buildZip([{ name: 'inner.zip', data: buildZip([{ name: 'deeper.zip', data: inner, deflate: true }]), deflate: true }]);
    const jobs = await ingest([
      { filename: '42.zip', type: 'application/zip', data: bomb42(4, 1024 * 1024) },
      { filename: 'bundle.zip', type: 'application/zip', data: harmless },
    ]);
    await enqueueAttachmentJobs(worker.queue, jobs.map(job));
    const [bomb, ok] = await finalRows(jobs.map((j) => j.id));
    expect(bomb).toMatchObject({ status: 'ERROR', status_message: 'The archive holds archives nested more than 3 levels deep (lib3_0.zip/lib2_0.zip/lib1_0.zip/lib0_0.zip).', attempts: 1 });
    expect(ok).toMatchObject({ status: 'OK', status_message: null });
  });

  it('refuses an attachment over the size limit, and bytes that fail their checksum', async () => {
    const worker = await startWorker({ MAILROOM_MAX_ATTACHMENT_BYTES: '1024' });
    const [big, tampered] = await ingest([
      { filename: 'big.pdf', type: 'application/pdf', data: Buffer.concat([PDF, Buffer.alloc(4000, 0x20)]) },
      { filename: 'small.pdf', type: 'application/pdf', data: Buffer.concat([PDF, Buffer.from('% tampered')]) },
    ]);
    // The row no longer matches its bytes: as if the blob had been swapped underneath it.
    await db.attachment.update({ where: { id: tampered!.id }, data: { sha256: 'f'.repeat(64) } });
    await enqueueAttachmentJobs(worker.queue, [job(big!), job(tampered!)]);
    const [bigRow, tamperedRow] = await finalRows([big!.id, tampered!.id]);
    expect(bigRow!.status).toBe('ERROR');
    expect(bigRow!.status_message).toMatch(/^The attachment is [\d.]+ KiB, which exceeds the 1 KiB limit\.$/);
    expect(tamperedRow).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(tamperedRow!.status_message).toMatch(/^Checksum mismatch/);
    // A permanent failure is not retried: the job failed on its first attempt.
    await until('the job to fail', async () => (await jobState(worker.queue, tampered!.id)) === 'failed');
    expect((await worker.queue.getJob(attachmentJobId(tampered!.id)))?.attemptsMade).toBe(1);
  });

  it('judges a large attachment from two streamed reads, not held whole, unless it may be an archive', async () => {
    const big = (start: Buffer) => Buffer.concat([start, randomBytes(STREAMED_JUDGE_BYTES + 1024 - start.length)]);
    const jobs = await ingest([
      { filename: 'scan.pdf', type: 'application/pdf', data: big(PDF) },
      { filename: 'photo.pdf', type: 'application/pdf', data: big(PNG) },
      { filename: 'tools.zip', type: 'application/zip', data: buildZip([{ name: 'data.bin', data: randomBytes(STREAMED_JUDGE_BYTES) }, { name: 'setup.exe', data: Buffer.from('MZ') }]) },
      { filename: 'damaged.pdf', type: 'application/pdf', data: big(PDF) },
      { filename: 'resized.pdf', type: 'application/pdf', data: big(PDF) },
    ]);
    // The fourth one's file is overwritten with other bytes of the same length: its hash no longer matches.
    const damaged = path.join(blobRoot, ...jobs[3]!.storageKey.split('/'));
    await writeFile(damaged, big(PDF));
    // The fifth one's row says another size than its bytes have.
    await db.attachment.update({ where: { id: jobs[4]!.id }, data: { size_bytes: STREAMED_JUDGE_BYTES + 2048 } });
    const whole: string[] = [];
    const opened: string[] = [];
    const watched: BlobStore = {
      put: (bytes) => blobs.put(bytes),
      putStream: (source) => blobs.putStream(source),
      exists: (key) => blobs.exists(key),
      get: (key) => (whole.push(key), blobs.get(key)),
      open: (key) => (opened.push(key), blobs.open(key)),
    };
    const worker = await startWorker({}, { blobs: watched });
    await enqueueAttachmentJobs(worker.queue, jobs.map(job));
    const [pdf, png, zip, bad, resized] = await finalRows(jobs.map((j) => j.id));
    expect(pdf).toMatchObject({ status: 'OK', status_message: null, detected_type: 'application/pdf' });
    expect(png).toMatchObject({ status: 'WARNING', status_message: 'Declared application/pdf, but the bytes are a PNG image.', detected_type: 'image/png' });
    expect(zip).toMatchObject({ status: 'ERROR', status_message: 'The archive contains a blocked file type: setup.exe.' });
    expect(bad).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(bad!.status_message).toMatch(/^Checksum mismatch/);
    expect(resized).toMatchObject({ status: 'ERROR', attempts: 1 });
    expect(resized!.status_message).toMatch(/^Checksum mismatch/);
    // Only the archive was read whole, after a stream showed its first bytes; each of the others was opened
    // as a stream: twice for a verdict, once to find the damage or the other size.
    expect(whole).toEqual([jobs[2]!.storageKey]);
    const opens = (j: number) => opened.filter((k) => k === jobs[j]!.storageKey).length;
    expect([0, 1, 2, 3, 4].map(opens)).toEqual([2, 2, 1, 1, 1]);
  });

  it('retries transient failures: OK after two, ERROR once the attempts are used up', async () => {
    const failures = new Map<string, number>();
    const worker = await startWorker({}, { blobs: flaky(blobs, failures), jobOptions: { attempts: 3, backoff: { type: 'fixed', delay: 50 } } });
    const [twice, always] = await ingest([
      { filename: 'twice.pdf', type: 'application/pdf', data: Buffer.concat([PDF, Buffer.from('% twice')]) },
      { filename: 'always.pdf', type: 'application/pdf', data: Buffer.concat([PDF, Buffer.from('% always')]) },
    ]);
    failures.set(twice!.storageKey, 2);
    failures.set(always!.storageKey, Number.POSITIVE_INFINITY);
    await enqueueAttachmentJobs(worker.queue, [job(twice!), job(always!)]);
    const [ok, failed] = await finalRows([twice!.id, always!.id]);
    expect(ok).toMatchObject({ status: 'OK', detected_type: 'application/pdf', attempts: 3 });
    expect(failed).toMatchObject({ status: 'ERROR', status_message: `Processing failed after 3 attempts: Cannot read blob ${always!.storageKey}.`, attempts: 3 });
    // The failure BullMQ keeps is shown on the shared dashboard: the same words without the file's hash.
    await until('the job to fail', async () => (await jobState(worker.queue, always!.id)) === 'failed');
    const failedJob = await worker.queue.getJob(attachmentJobId(always!.id));
    expect(failedJob?.failedReason).toBe('Processing failed after 3 attempts: Cannot read blob sha256:….');
    expect(JSON.stringify({ data: failedJob?.data, reason: failedJob?.failedReason, stack: failedJob?.stacktrace })).not.toMatch(/[0-9a-f]{64}/);
  });

  it('sweeps rows left UNAVAILABLE without a job: re-enqueued, or ERROR once out of attempts', async () => {
    // A crash between the ingest commit and the enqueue: rows, but no jobs.
    const [lost, spent, finished] = await ingest([
      { filename: 'lost.png', type: 'image/png', data: PNG },
      { filename: 'spent.pdf', type: 'application/pdf', data: Buffer.concat([PDF, Buffer.from('% spent')]) },
      { filename: 'again.pdf', type: 'application/pdf', data: Buffer.concat([PDF, Buffer.from('% again')]) },
    ]);
    await db.attachment.update({ where: { id: spent!.id }, data: { attempts: 5 } });
    const worker = await startWorker({ MAILROOM_ATTACHMENT_SWEEP_SECONDS: '1', MAILROOM_ATTACHMENT_STALE_SECONDS: '0' });
    // A job that completed but whose row is UNAVAILABLE again: its job id must not swallow the re-enqueue.
    await enqueueAttachmentJobs(worker.queue, [job(finished!)]);
    await until('the job to complete', async () => (await jobState(worker.queue, finished!.id)) === 'completed');
    await db.attachment.update({ where: { id: finished!.id }, data: { status: 'UNAVAILABLE', status_message: null } });

    const [lostRow, spentRow, finishedRow] = await finalRows([lost!.id, spent!.id, finished!.id], 30_000);
    expect(lostRow).toMatchObject({ status: 'OK', detected_type: 'image/png', attempts: 1 });
    expect(spentRow).toMatchObject({ status: 'ERROR', status_message: 'Processing failed after 5 attempts: the last attempt did not finish.', attempts: 5 });
    expect(finishedRow).toMatchObject({ status: 'OK', attempts: 2 });
  });

  it('puts a lost sweeper schedule back, notes each sweep, and never trims the queue\'s finished jobs', async () => {
    const worker = await startWorker({ MAILROOM_ATTACHMENT_SWEEP_SECONDS: '1' });
    const prefix = worker.queue.opts.prefix ?? '';
    const done = await ingest(Array.from({ length: 12 }, (_, i) => ({ filename: `f${i}.pdf`, type: 'application/pdf', data: Buffer.concat([PDF, Buffer.from(`% ${i} ${randomBytes(4).toString('hex')}`)]) })));
    await enqueueAttachmentJobs(worker.queue, done.map(job));
    await finalRows(done.map((d) => d.id));
    await until('the completed jobs to be counted', async () => ((await worker.queue.getJobCounts('completed')).completed ?? 0) >= 12);
    // Sweeps run every second and finish; the dozen completed attachment jobs must all still be there.
    await until('a sweep to be noted', async () => (await lastSweep(connection, prefix)) !== null, 10_000);
    const noted = (await lastSweep(connection, prefix))!;
    await until('a later sweep', async () => ((await lastSweep(connection, prefix))?.getTime() ?? 0) > noted.getTime(), 10_000);
    expect((await worker.queue.getJobCounts("completed")).completed ?? 0).toBeGreaterThanOrEqual(12);

    // Redis lost the schedule (a restart without persistence): the next reconcile puts it back.
    await worker.queue.removeJobScheduler('attachments-sweeper');
    expect(await worker.queue.getJobScheduler('attachments-sweeper')).toBeFalsy();
    await worker.ensureSchedule();
    expect(await worker.queue.getJobScheduler('attachments-sweeper')).toBeTruthy();
  });
});

describe('attachment download', () => {
  const now = () => new Date();
  /** The app as `mailroom api` builds it, reading this file's blob store (or the one given). */
  async function app(deps: { blobs?: BlobStore; logger?: Logger } = {}) {
    const config = loadConfig({ DATABASE_URL: testEnv().databaseUrl, REDIS_URL: testEnv().redisUrl, MAILROOM_SECRET_KEY: testEnv().secretKey, MAILROOM_PUBLIC_URL: 'http://mailroom.test' });
    const store = deps.blobs ?? blobs;
    return buildApp({ db, redis: connection, logger, config, blobs: store, ingest: ingestContext(config, { db, blobs: store, logger: deps.logger ?? logger }), ...deps });
  }
  /** An OK row for bytes put in this file's blob store, as the worker leaves one. */
  async function okAttachment(bytes: Buffer, filename: string, type = 'application/octet-stream') {
    const stored = await blobs.put(bytes);
    const row = await db.attachment.create({
      data: { tenant_id: mailbox.tenant_id, filename, content_type: type, detected_type: type, size_bytes: BigInt(stored.size), sha256: stored.sha256, storage_key: stored.key, status: 'OK', attempts: 1 },
    });
    return { id: row.id, key: stored.key, file: path.join(blobRoot, ...stored.key.split('/')) };
  }
  /** A logger writing its JSON lines into `lines`. */
  function capturingLogger(lines: { level: number; msg: string; attachmentId?: number; err?: string }[]): Logger {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
        done();
      },
    });
    return createLogger({ level: 'info', destination });
  }
  /** A GET over a real socket: what arrived, and how the response ended. */
  function download(address: string, target: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer; error: Error | null }> {
    return new Promise((resolve, reject) => {
      httpGet(`${address}${target}`, (res) => {
        const chunks: Buffer[] = [];
        const done = (error: Error | null) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), error });
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null));
        res.on('error', done);
      }).on('error', reject);
    });
  }
  type ErrorBody = { data: null; errors: { code: string; message: string }[]; meta: { request_id: string } };
  const pathOf = (url: string) => url.slice('http://mailroom.test'.length);
  const url = (slug: string, id: number, at = now()) => pathOf(downloadUrl('http://mailroom.test', slug, id, secretKey(), at));

  it('serves the exact bytes with safe download headers', async () => {
    const server = await app();
    const res = await server.inject({ method: 'GET', url: url(tenantSlug, processed.pdf) });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(PDF)).toBe(true);
    expect(res.headers).toMatchObject({
      'content-type': 'application/pdf',
      'content-disposition': 'attachment; filename="report.pdf"; filename*=UTF-8\'\'report.pdf',
      'x-content-type-options': 'nosniff',
      'content-security-policy': 'sandbox',
      'cache-control': 'private, max-age=3600',
    });
    const png = await server.inject({ method: 'GET', url: url(tenantSlug, processed.png) });
    expect(png.rawPayload.equals(PNG)).toBe(true);
    expect(png.headers['content-disposition']).toBe('attachment; filename="resume photo.png"; filename*=UTF-8\'\'r%C3%A9sum%C3%A9%20photo.png');
    await server.close();
  });

  it('makes a cid: image reachable from the conversation html and Editor.js once its attachment is OK, and not before', async () => {
    const cid = `logo-${randomBytes(4).toString('hex')}@acme.test`;
    const raw = Buffer.from(
      [
        'From: Ann <ann@example.com>',
        'To: support@acme.test',
        `Message-ID: <${randomBytes(6).toString('hex')}@example.com>`,
        'Subject: inline logo',
        'MIME-Version: 1.0',
        'Content-Type: multipart/related; boundary="rel"',
        '',
        '--rel',
        'Content-Type: text/html; charset=utf-8',
        '',
        `<p>See our logo:</p><img src="cid:${cid}" alt="logo"><p>Thanks</p>`,
        '--rel',
        'Content-Type: image/png',
        'Content-Transfer-Encoding: base64',
        `Content-ID: <${cid}>`,
        'Content-Disposition: inline',
        '',
        PNG.toString('base64'),
        '--rel--',
        '',
      ].join('\r\n'),
    );
    const result = await ingestMessage(ctx, mailbox, { uidValidity: 1n, uid: ++uid, raw, internalDate: new Date() });
    expect(result.attachments).toHaveLength(1);
    const [image] = result.attachments;
    const config = loadConfig({ DATABASE_URL: testEnv().databaseUrl, REDIS_URL: testEnv().redisUrl, MAILROOM_SECRET_KEY: testEnv().secretKey, MAILROOM_PUBLIC_URL: 'http://mailroom.test' });
    const read = async () => conversationDto(await db.conversation.findUniqueOrThrow({ where: { id: result.conversationId! }, include: conversationInclude }), downloadUrlFor(config, tenantSlug));

    const before = await read();
    expect(before.sys_attachments[0]).toMatchObject({ id: image!.id, status: 1, download_url: null });
    expect(before.sys_content_rich.html).toContain(`src="http://mailroom.test/api/${tenantSlug}/v1/attachments/${image!.id}/download"`);
    expect(before.sys_content_rich.html).not.toContain('sig=');

    await processAttachment({ db, blobs, logger, limits: DEFAULT_POLICY_LIMITS, attemptBudget: 5 }, { attachmentId: image!.id, tenantId: image!.tenantId }, { attempt: 1, maxAttempts: 5 });
    const after = await read();
    const src = /<img[^>]* src="([^"]+)"/.exec(after.sys_content_rich.html)?.[1]?.replaceAll('&amp;', '&');
    expect(src).toMatch(/\/download\?expires=\d+&sig=[0-9a-f]{64}$/);
    const block = after.sys_content_rich.editorjs.blocks.find((b) => b.type === 'image');
    expect((block?.data as { file: { url: string } } | undefined)?.file.url).toBe(src);
    const server = await app();
    const res = await server.inject({ method: 'GET', url: pathOf(src!) });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(PNG)).toBe(true);
    await server.close();
  });

  it('refuses tampered, expired and cross-tenant links, and rows that are not OK or WARNING', async () => {
    const server = await app();
    const get = async (u: string) => {
      const res = await server.inject({ method: 'GET', url: u });
      return { status: res.statusCode, body: res.json<{ data: null; errors: { code: string; message: string }[]; meta: { request_id: string } }>() };
    };
    const good = url(tenantSlug, processed.pdf);
    const tampered = await get(good.replace(/sig=([0-9a-f])/, (_, c: string) => `sig=${c === 'a' ? 'b' : 'a'}`));
    expect(tampered).toMatchObject({ status: 403, body: { data: null, errors: [{ code: 'FORBIDDEN', message: 'The download link is not valid.' }] } });
    expect(tampered.body.meta.request_id).toEqual(expect.any(String));
    expect(await get(good.replace(/expires=\d+/, (m) => `${m}0`))).toMatchObject({ status: 403 });
    expect(await get(good.replace(/\?.*$/, ''))).toMatchObject({ status: 403 });
    expect(await get(url(tenantSlug, processed.pdf, new Date(Date.now() - 2 * 3600_000)))).toMatchObject({
      status: 403,
      body: { errors: [{ code: 'FORBIDDEN', message: 'The download link has expired.' }] },
    });
    // Another tenant's path with this link's signature, and a link genuinely signed for another tenant.
    expect(await get(good.replace(`/api/${tenantSlug}/`, `/api/${otherSlug}/`))).toMatchObject({ status: 403 });
    expect(await get(url(otherSlug, processed.pdf))).toMatchObject({ status: 404, body: { errors: [{ code: 'NOT_FOUND' }] } });
    expect(await get(url(tenantSlug, 2_000_000_000))).toMatchObject({ status: 404 });
    expect(await get(url(tenantSlug, processed.exe))).toMatchObject({ status: 409, body: { errors: [{ code: 'CONFLICT' }] } });
    await server.close();
  });

  it('streams a 20 MiB attachment byte for byte with its Content-Length, and answers HEAD without the body', async () => {
    const bytes = randomBytes(20 * 1024 * 1024);
    const { id } = await okAttachment(bytes, 'big scan.tiff', 'image/tiff');
    const server = await app();
    try {
      const address = await server.listen({ port: 0, host: '127.0.0.1' });
      const res = await download(address, url(tenantSlug, id));
      expect(res.error).toBeNull();
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject({
        'content-length': String(bytes.length),
        'content-type': 'image/tiff',
        'content-disposition': 'attachment; filename="big scan.tiff"; filename*=UTF-8\'\'big%20scan.tiff',
        'x-content-type-options': 'nosniff',
        'content-security-policy': 'sandbox',
        'cache-control': 'private, max-age=3600',
      });
      expect(res.headers['transfer-encoding']).toBeUndefined();
      expect(res.body.length).toBe(bytes.length);
      expect(res.body.equals(bytes)).toBe(true);

      const head = await server.inject({ method: 'HEAD', url: url(tenantSlug, id) });
      expect(head.statusCode).toBe(200);
      expect(head.headers).toMatchObject({ 'content-length': String(bytes.length), 'content-type': 'image/tiff', 'content-security-policy': 'sandbox' });
      expect(head.rawPayload.length).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('serves an empty attachment', async () => {
    const { id } = await okAttachment(Buffer.alloc(0), 'empty.txt', 'text/plain');
    const server = await app();
    const res = await server.inject({ method: 'GET', url: url(tenantSlug, id) });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'content-length': '0', 'content-type': 'text/plain' });
    expect(res.rawPayload.length).toBe(0);
    await server.close();
  });

  it('answers 503 STORAGE_FAILED in the wrap when the blob is gone from disk, to GET and HEAD', async () => {
    const { id, file } = await okAttachment(randomBytes(1024), 'gone.bin');
    await rm(file);
    const server = await app();
    const res = await server.inject({ method: 'GET', url: url(tenantSlug, id) });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toBeUndefined();
    const body = res.json<ErrorBody>();
    expect(body).toMatchObject({ data: null, errors: [{ code: 'STORAGE_FAILED', message: 'The attachment cannot be read right now.' }] });
    expect(body.meta.request_id).toEqual(expect.any(String));
    const head = await server.inject({ method: 'HEAD', url: url(tenantSlug, id) });
    expect(head.statusCode).toBe(503);
    await server.close();
  });

  it('answers 503 STORAGE_FAILED, not the bytes, for a small blob that no longer matches its hash', async () => {
    const bytes = randomBytes(1024);
    const { id, file } = await okAttachment(bytes, 'rotten.bin');
    const rotten = Buffer.from(bytes);
    rotten[0] = (rotten[0] ?? 0) ^ 0xff;
    await writeFile(file, rotten);
    const server = await app();
    const res = await server.inject({ method: 'GET', url: url(tenantSlug, id) });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-disposition']).toBeUndefined();
    expect(res.json<ErrorBody>()).toMatchObject({ data: null, errors: [{ code: 'STORAGE_FAILED', message: 'The attachment cannot be read right now.' }] });
    await server.close();
  });

  it('cuts the response short and logs an error when the read breaks off mid-stream, and goes on serving', async () => {
    const bytes = randomBytes(1024 * 1024);
    const { id, key } = await okAttachment(bytes, 'breaks.bin');
    const lines: Parameters<typeof capturingLogger>[0] = [];
    // This blob's first 256 KiB, then a failing read, as a dying disk or a reset S3 connection would give.
    const breaking: BlobStore = {
      put: (b) => blobs.put(b),
      putStream: (s) => blobs.putStream(s),
      get: (k) => blobs.get(k),
      exists: (k) => blobs.exists(k),
      open: async (k) => {
        if (k !== key) return blobs.open(k);
        let sent = 0;
        const stream = new Readable({
          read() {
            if (sent >= 256 * 1024) {
              this.destroy(new MailroomError('STORAGE_FAILED', 'Cannot read blob: EIO.'));
              return;
            }
            this.push(bytes.subarray(sent, (sent += 64 * 1024)));
          },
        });
        return { stream, size: bytes.length };
      },
    };
    const server = await app({ blobs: breaking, logger: capturingLogger(lines) });
    try {
      const address = await server.listen({ port: 0, host: '127.0.0.1' });
      const res = await download(address, url(tenantSlug, id));
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe(String(bytes.length));
      expect(res.error).not.toBeNull();
      expect(res.body.length).toBeLessThan(bytes.length);
      expect(res.body.equals(bytes.subarray(0, res.body.length))).toBe(true);
      await until('the error to be logged', async () => lines.some((l) => l.msg === 'attachment download broke off'));
      expect(lines.find((l) => l.msg === 'attachment download broke off')).toMatchObject({ level: 50, attachmentId: id, err: 'Cannot read blob: EIO.' });

      // The process and the server are fine: the next download is whole.
      const next = await download(address, url(tenantSlug, processed.pdf));
      expect(next).toMatchObject({ status: 200, error: null });
      expect(next.body.equals(PDF)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('releases the blob when the client goes away mid-download, without logging an error', async () => {
    // More than socket buffers hold, so the client is gone before the last byte is read.
    const bytes = randomBytes(16 * 1024 * 1024);
    const { id } = await okAttachment(bytes, 'abandoned.bin');
    const opened: Readable[] = [];
    const watching: BlobStore = {
      put: (b) => blobs.put(b),
      putStream: (s) => blobs.putStream(s),
      get: (k) => blobs.get(k),
      exists: (k) => blobs.exists(k),
      open: async (k) => {
        const blob = await blobs.open(k);
        opened.push(blob.stream);
        return blob;
      },
    };
    const lines: Parameters<typeof capturingLogger>[0] = [];
    const server = await app({ blobs: watching, logger: capturingLogger(lines) });
    try {
      const address = await server.listen({ port: 0, host: '127.0.0.1' });
      await new Promise<void>((resolve, reject) => {
        const req = httpGet(`${address}${url(tenantSlug, id)}`, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      });
      await until('the blob stream to be released', async () => opened[0]?.destroyed === true);
      expect(opened[0]?.readableEnded).toBe(false);
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
