// A sync whose IMAP server falls silent mid-sync, through the drill's TCP proxy
// (drill/proxy.ts) between the sync and the run's Dovecot: the mailbox shows
// connect_error with "no answer from … for N s" while the sync still waits, not
// `syncing` until the silence timeout; that notice is not a failure (the
// failure is counted once, when the sync gives up), and a server that answers
// again takes the mailbox back to syncing and the sync to its end.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../drill/proxy.js';
import { createLogger } from '../../src/logging/logger.js';
import { createBlobStore } from '../../src/storage/blob-store.js';
import { createMailboxLocks, type MailboxLocks } from '../../src/sync/lock.js';
import { syncMailbox, type SyncDeps, type SyncOutcome } from '../../src/sync/sync-mailbox.js';
import { AccessTokenCache } from '../../src/sources/oauth.js';
import { sourceFor } from '../../src/sources/registry.js';
import { appendMessage, waitFor } from '../support/dovecot.js';
import { testEnv, testPolicy, testPrisma } from '../support/env.js';
import { createTestMailbox, secretKey, testMail } from '../support/mailboxes.js';

const db = testPrisma();
let locks: MailboxLocks;
let proxy: TcpProxy;
const never = new AbortController().signal;

/** The sync gives up after this much silence (MAILROOM_IMAP_TIMEOUT_SECONDS); the notice comes long before (room for a loaded machine). */
const GIVE_UP_MS = 15_000;
const NOTICE_MS = 2_000;

/** Deps whose IMAP source runs `strike` on the proxy as soon as the folder is open (the sync is syncing). */
function depsStriking(strike: () => void): SyncDeps {
  const logger = createLogger({ level: 'silent' });
  const imap = sourceFor('imap');
  return {
    db,
    locks,
    ingest: { db, blobs: createBlobStore(`file://${mkdtempSync(path.join(tmpdir(), 'mailroom-silence-'))}`), secretKey: secretKey(), publicUrl: 'http://mailroom.test', logger },
    source: { secretKeys: [secretKey()], policy: testPolicy(), logger, tokens: new AccessTokenCache(), maxRawBytes: 1024 * 1024, silenceTimeoutMs: GIVE_UP_MS },
    logger,
    enqueueAttachments: async () => undefined,
    sources: () => ({
      ...imap,
      open: async (mailbox, ctx) => {
        const session = await imap.open(mailbox, ctx);
        strike();
        return session;
      },
    }),
    health: { silentNoticeMs: NOTICE_MS },
  };
}

/** A mailbox with three mails, reached through the proxy. */
async function mailboxBehindProxy(): Promise<number> {
  const box = await createTestMailbox(db);
  for (let i = 0; i < 3; i++) await appendMessage(testEnv().dovecot, box.user, testMail(box.user));
  await db.mailbox.update({ where: { id: box.mailboxId }, data: { port: proxy.port } });
  return box.mailboxId;
}

const row = (id: number) => db.mailbox.findUniqueOrThrow({ where: { id } });

beforeAll(async () => {
  locks = createMailboxLocks({ databaseUrl: testEnv().databaseUrl });
  proxy = await TcpProxy.create(testEnv().dovecot.imapPort);
});
afterAll(async () => {
  await proxy.close();
  await locks.close();
  await db.$disconnect();
});

describe('a sync waiting on a silent IMAP server', () => {
  it('shows connect_error while it waits on a black-holed connection, then counts one failure when it gives up', async () => {
    const id = await mailboxBehindProxy();
    let outcome: SyncOutcome | null = null;
    const started = Date.now();
    const run = syncMailbox(depsStriking(() => proxy.blackHole()), id, { signal: never }).then((o) => (outcome = o));
    try {
      await waitFor(async () => (await row(id)).state === 'connect_error', GIVE_UP_MS, 'the silent server was never shown');
      const waiting = await row(id);
      expect(outcome).toBeNull(); // still waiting: the notice came before the sync gave up
      expect(Date.now() - started).toBeLessThan(GIVE_UP_MS);
      // The seconds are those counted when the notice was written (a second or so later on a loaded machine).
      expect(waiting).toMatchObject({ last_error: expect.stringMatching(/^no answer from 127\.0\.0\.1 for \d+ s; waiting up to 15 s$/), consecutive_failures: 0, next_attempt_at: null });
      await run;
    } finally {
      proxy.restore();
    }
    expect(outcome).toMatchObject({ status: 'failed', kind: 'connect' });
    const failed = await row(id);
    expect(failed).toMatchObject({ state: 'connect_error', consecutive_failures: 1 });
    expect(failed.last_error).not.toMatch(/waiting up to/);
    expect(failed.next_attempt_at).not.toBeNull();
    expect(await db.ingestRecord.count({ where: { mailbox_id: id } })).toBe(0);
  }, 60_000);

  it('goes back to syncing when the server answers again, and the sync ends well', async () => {
    const id = await mailboxBehindProxy();
    let outcome: SyncOutcome | null = null;
    const run = syncMailbox(depsStriking(() => proxy.hold()), id, { signal: never }).then((o) => (outcome = o));
    try {
      await waitFor(async () => (await row(id)).state === 'connect_error', GIVE_UP_MS, 'the silent server was never shown');
      expect(await row(id)).toMatchObject({ last_error: expect.stringMatching(/^no answer from 127\.0\.0\.1 for \d+ s/), consecutive_failures: 0 });
    } finally {
      proxy.release();
    }
    await waitFor(async () => outcome !== null || (await row(id)).state !== 'connect_error', GIVE_UP_MS, 'the mailbox stayed connect_error after the server answered');
    await run;
    expect(outcome).toMatchObject({ status: 'ok', ingested: 3 });
    expect(await row(id)).toMatchObject({ state: 'idle', consecutive_failures: 0, last_error: null });
  }, 60_000);
});
