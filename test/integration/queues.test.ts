// Queues against the run's real Redis. Each test gets its own key prefix under
// the run's prefix, so global teardown still deletes everything it leaves.
import { randomBytes } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMailroomError } from '../../src/errors.js';
import {
  QUEUE_NAMES,
  closeQueues,
  createQueues,
  createRedisConnection,
  enqueueAttachmentJobs,
  requestMailboxSync,
  requestMailboxSyncUnique,
  scheduleMailboxPoll,
  uniqueSyncPending,
  unscheduleMailboxPoll,
  type AttachmentJobData,
  type MailboxSyncJobData,
  type Queues,
} from '../../src/queues/queues.js';
import { testEnv } from '../support/env.js';

let connection: Redis;
let queues: Queues;
let prefix: string;
const workers: Worker[] = [];

beforeEach(() => {
  const env = testEnv();
  prefix = `${env.queuePrefix}-${randomBytes(4).toString('hex')}`;
  connection = createRedisConnection(env.redisUrl);
  queues = createQueues({ connection, prefix });
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await closeQueues(queues);
  await connection.quit();
});

/** Waits for a condition with a deadline instead of sleeping a fixed time. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const row = (attachmentId: number): AttachmentJobData => ({ attachmentId, tenantId: 1 });

describe('createQueues', () => {
  it('names the queues and keeps every key under the prefix', async () => {
    expect(queues.sync.name).toBe(QUEUE_NAMES.sync);
    expect(queues.attachments.name).toBe(QUEUE_NAMES.attachments);
    await enqueueAttachmentJobs(queues.attachments, [row(1)]);
    const keys = await connection.keys(`${prefix}:*`);
    expect(keys).toContain(`${prefix}:attachments:attachment-1`);
    expect(connection.options.maxRetriesPerRequest).toBeNull();
  });
});

describe('enqueueAttachmentJobs', () => {
  it('makes one job per attachment however often it is called', async () => {
    const first = await enqueueAttachmentJobs(queues.attachments, [row(1), row(2)]);
    const again = await enqueueAttachmentJobs(queues.attachments, [row(2), row(1), row(2)]);
    expect(first.map((j) => j.id)).toEqual(['attachment-1', 'attachment-2']);
    expect(again.map((j) => j.id)).toEqual(['attachment-2', 'attachment-1', 'attachment-2']);
    expect(await queues.attachments.getJobCounts('waiting', 'delayed', 'active')).toEqual({ waiting: 2, delayed: 0, active: 0 });
    const job = await queues.attachments.getJob('attachment-1');
    expect(job?.data).toEqual(row(1));
    expect(job?.opts.attempts).toBe(5);
    expect(job?.opts.backoff).toEqual({ type: 'exponential', delay: 5_000 });
    expect(await enqueueAttachmentJobs(queues.attachments, [])).toEqual([]);
  });

  it('refuses payloads that are not attachment jobs', async () => {
    const bad = { attachmentId: 3, tenantId: 1, storageKey: '../../etc/passwd' };
    const err = await enqueueAttachmentJobs(queues.attachments, [bad]).catch((e: unknown) => e);
    expect(isMailroomError(err, 'VALIDATION')).toBe(true);
    expect(await queues.attachments.count()).toBe(0);
  });

  it("refuses anything beyond the ids: a blob key is the sha256 of a customer's file, and jobs are shown on the shared dashboard", async () => {
    const withKey = { attachmentId: 4, tenantId: 1, storageKey: `sha256/ab/cd/abcd${'0'.repeat(60)}` };
    const err = await enqueueAttachmentJobs(queues.attachments, [withKey]).catch((e: unknown) => e);
    expect(isMailroomError(err, 'VALIDATION')).toBe(true);
    expect((err as Error).message).toContain('storageKey');
    expect(await queues.attachments.count()).toBe(0);
  });
});

describe('mailbox poll schedules', () => {
  it('upserts one scheduler per mailbox and removes it', async () => {
    await scheduleMailboxPoll(queues.sync, 7, 60);
    await scheduleMailboxPoll(queues.sync, 7, 60);
    expect(await queues.sync.getJobSchedulersCount()).toBe(1);
    expect(await queues.sync.getJobScheduler('mailbox-7')).toMatchObject({ every: 60_000, template: { data: { mailboxId: 7 } } });

    await scheduleMailboxPoll(queues.sync, 7, 30);
    await scheduleMailboxPoll(queues.sync, 8, 120);
    expect(await queues.sync.getJobSchedulersCount()).toBe(2);
    expect((await queues.sync.getJobScheduler('mailbox-7'))?.every).toBe(30_000);

    expect(await unscheduleMailboxPoll(queues.sync, 7)).toBe(true);
    expect(await unscheduleMailboxPoll(queues.sync, 7)).toBe(false);
    expect(await queues.sync.getJobScheduler('mailbox-7')).toBeUndefined();
    const pending = await queues.sync.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(pending.map((j) => j.data.mailboxId)).toEqual([8]);
  });

  it('ticks at once, or an interval from now for a caller that asks for a sync itself', async () => {
    const before = Date.now();
    await scheduleMailboxPoll(queues.sync, 11, 60);
    await scheduleMailboxPoll(queues.sync, 12, 60, { firstTickLater: true });
    const due = async (mailboxId: number) => {
      const [job] = (await queues.sync.getJobs(['waiting', 'delayed', 'prioritized'])).filter((j) => j.data.mailboxId === mailboxId);
      return job!.timestamp + (job!.delay ?? 0);
    };
    expect(await due(11)).toBeLessThan(before + 5_000);
    const planned = await due(12);
    expect(planned).toBeGreaterThanOrEqual(before + 60_000);
    // Scheduling again changes nothing: the tick already planned stays.
    await new Promise((r) => setTimeout(r, 20));
    await scheduleMailboxPoll(queues.sync, 12, 60, { firstTickLater: true });
    await scheduleMailboxPoll(queues.sync, 11, 60);
    expect(await due(12)).toBe(planned);
    await unscheduleMailboxPoll(queues.sync, 11);
    await unscheduleMailboxPoll(queues.sync, 12);
  });

  it('rejects intervals below a second', async () => {
    const err = await scheduleMailboxPoll(queues.sync, 7, 0.2).catch((e: unknown) => e);
    expect(isMailroomError(err, 'VALIDATION')).toBe(true);
    expect(await queues.sync.getJobSchedulersCount()).toBe(0);
  });
});

describe('requestMailboxSync', () => {
  it('turns a burst of requests into one waiting job per mailbox', async () => {
    const jobs = await Promise.all(Array.from({ length: 10 }, () => requestMailboxSync(queues.sync, 5)));
    await requestMailboxSync(queues.sync, 6);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(1);
    const waiting = await queues.sync.getJobs(['waiting']);
    expect(waiting.map((j) => j.data.mailboxId).sort()).toEqual([5, 6]);
  });

  it('keeps a request made during a running sync as one follow-up job', async () => {
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const processed: string[] = [];
    const worker = new Worker<MailboxSyncJobData>(
      QUEUE_NAMES.sync,
      async (job: Job<MailboxSyncJobData>) => {
        processed.push(job.id ?? '?');
        if (processed.length === 1) await blocked;
      },
      { connection, prefix },
    );
    workers.push(worker);

    const first = await requestMailboxSync(queues.sync, 9);
    await until('the first sync to run', async () => (await queues.sync.getJobCounts('active')).active === 1);
    const during = await Promise.all([1, 2, 3].map(() => requestMailboxSync(queues.sync, 9)));
    expect(during.every((j) => j.id === first.id)).toBe(true);
    expect(await queues.sync.getJobCounts('waiting')).toEqual({ waiting: 0 });

    release();
    await until('the follow-up sync to finish', async () => processed.length === 2 && (await queues.sync.getJobCounts('active')).active === 0);
    expect(processed[0]).toBe(first.id);
    expect(processed[1]).not.toBe(first.id);
    expect(await queues.sync.getJobCounts('waiting', 'delayed', 'completed')).toEqual({ waiting: 0, delayed: 0, completed: 2 });
  });

  it('runs a sync for news before every routine one already waiting (polls, catch-ups)', async () => {
    // Routine: three polls due now, a start-up catch-up and a watch's catch-up; then news for mailbox 9.
    for (const id of [1, 2, 3]) await scheduleMailboxPoll(queues.sync, id, 60);
    await requestMailboxSyncUnique(queues.sync, 4, 'start');
    await requestMailboxSync(queues.sync, 5, 'routine');
    // A routine request folds into the waiting routine job, never into news (and the other way round).
    const news = await requestMailboxSync(queues.sync, 9);
    const routine9 = await requestMailboxSync(queues.sync, 9, 'routine');
    expect(routine9.id).not.toBe(news.id);
    expect(await queues.sync.getJobCounts('waiting', 'prioritized')).toEqual({ waiting: 1, prioritized: 6 });

    const order: number[] = [];
    const worker = new Worker<MailboxSyncJobData>(
      QUEUE_NAMES.sync,
      async (job: Job<MailboxSyncJobData>) => {
        order.push(job.data.mailboxId);
      },
      { connection, prefix, concurrency: 1 },
    );
    workers.push(worker);
    await until('every sync to run', async () => order.length === 7);
    expect(order[0]).toBe(9);
    expect(order.slice(1).sort()).toEqual([1, 2, 3, 4, 5, 9]);
  });

  it('tells whether a start-up sync is still queued: only then does it stand for a watch\'s catch-up', async () => {
    await requestMailboxSyncUnique(queues.sync, 4, 'start');
    expect(await uniqueSyncPending(queues.sync, 4, 'start')).toBe(true);
    expect(await uniqueSyncPending(queues.sync, 4, 'other-start')).toBe(false);
    expect(await uniqueSyncPending(queues.sync, 5, 'start')).toBe(false);
    let release!: () => void;
    const running = new Promise<void>((resolve) => (release = resolve));
    const worker = new Worker<MailboxSyncJobData>(QUEUE_NAMES.sync, () => running, { connection, prefix, concurrency: 1 });
    workers.push(worker);
    await until('the sync to start', async () => !(await uniqueSyncPending(queues.sync, 4, 'start')));
    release();
    await until('the sync to finish', async () => (await queues.sync.getJobCounts('completed')).completed === 1);
    expect(await uniqueSyncPending(queues.sync, 4, 'start')).toBe(false);
  });
});
