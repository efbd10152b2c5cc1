// Mailbox admin over HTTP (PRODUCT.md "HTTP API", ADMIN only): the mailboxes
// of the token's tenant, their connection test, their ingest log and the
// re-run of one stored message. Every route calls the same services as
// `mailroom mailbox ...` and `mailroom reprocess`, so CLI and API cannot
// drift; secrets go in (password, refresh_token, oauth_client_secret) and
// never come out (MailboxView has no secret field). Another tenant's mailbox
// is simply not found: every lookup is scoped by the principal's tenant.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
// Types only: @fastify/swagger adds `tags`, `summary` and `description` to route schemas.
import type {} from '@fastify/swagger';
import type { Config } from '../../config/config.js';
import type { PageRequest } from '../../db/page.js';
import type { PrismaClient } from '../../db/prisma.js';
import type { IngestContext } from '../../ingest/types.js';
import { addMailboxTested, connectionTestDeps, testStoredMailbox, updateMailboxTested, type FailedTest } from '../../mailboxes/connection.js';
import { getMailbox, listMailboxes, removeMailbox, setMailboxEnabled } from '../../mailboxes/service.js';
import type { Queues } from '../../queues/queues.js';
import { principal, requireRole } from '../auth.js';
import { listIngestLog, reprocessLogRecord } from '../ingest-records.js';
import { pageMeta, pageOf, pageQuery } from '../kit/paging.js';
import { wrappedResponses } from '../kit/schemas.js';
import { sendErrors, wrap, type WrapError } from '../kit/wrap.js';
import {
  connectionTestSchema,
  createBody,
  ingestRecordList,
  listParams,
  mailboxParams,
  mailboxSchema,
  messageParams,
  messagesQuery,
  patchBody,
  reprocessSchema,
  type CreateBody,
  type MailboxParams,
  type MessageParams,
  type MessagesQuery,
  type PatchBody,
} from '../mailbox-schemas.js';

export interface MailboxRoutesOptions {
  db: PrismaClient;
  config: Config;
  ingest: IngestContext;
  /** Present: a reprocessed message's attachment jobs are enqueued at once (else the sweeper picks them up). */
  queues?: Queues;
}

const paged = { paged: true };

const TAGS = ['mailboxes'];

/** The principal's tenant: every lookup is scoped by it. */
const tenantOf = (req: FastifyRequest) => ({ tenantId: principal(req).tenantId });

export async function mailboxRoutes(app: FastifyInstance, opts: MailboxRoutesOptions): Promise<void> {
  app.addHook('onRequest', requireRole(opts.db, 'ADMIN'));
  readRoutes(app, opts);
  writeRoutes(app, opts);
  ingestLogRoutes(app, opts);
}

/** List, show and test. */
function readRoutes(app: FastifyInstance, opts: MailboxRoutesOptions): void {
  const { db, config } = opts;
  app.get<{ Querystring: PageRequest }>(
    '/mailboxes',
    { schema: { tags: TAGS, summary: 'List the mailboxes of the tenant', params: listParams, querystring: pageQuery, response: wrappedResponses({ type: 'array', items: mailboxSchema }, 'mailboxes, oldest first', paged) } },
    async (req) => {
      const page = pageOf(req.query);
      const { mailboxes, total } = await listMailboxes(db, { ...tenantOf(req), page });
      return wrap(req, mailboxes, pageMeta(page, total));
    },
  );

  app.get<{ Params: MailboxParams }>(
    '/mailboxes/:id',
    { schema: { tags: TAGS, summary: 'One mailbox with its health', params: mailboxParams, response: wrappedResponses(mailboxSchema, 'the mailbox') } },
    async (req) => wrap(req, await getMailbox(db, req.params.id, tenantOf(req))),
  );

  app.post<{ Params: MailboxParams }>(
    '/mailboxes/:id/test',
    {
      schema: {
        tags: TAGS,
        summary: 'Connect, log in, open the folder; report what failed',
        description: 'Answers 200 either way: `data.ok` says whether the mailbox works, else `data.stage` says which step failed.',
        params: mailboxParams,
        response: wrappedResponses(connectionTestSchema, 'the result of the connection test'),
      },
    },
    async (req) => wrap(req, await testStoredMailbox(connectionTestDeps(db, config), req.params.id, tenantOf(req))),
  );
}

/** Add (after the connection test), change, remove. */
function writeRoutes(app: FastifyInstance, opts: MailboxRoutesOptions): void {
  const { db, config } = opts;
  app.post<{ Body: CreateBody }>(
    '/mailboxes',
    {
      schema: {
        tags: TAGS,
        summary: 'Add a mailbox (tests the connection first unless "test": false)',
        description: 'A failed connection test stores nothing and answers 422 with the stage that failed. Only mail that arrives after the mailbox was added is ingested, unless `since` asks for a backfill.',
        params: listParams,
        body: createBody,
        response: wrappedResponses(mailboxSchema, 'the new mailbox', { failures: { 422: 'The connection test failed: errors[0].stage names the stage; nothing was stored' } }),
      },
    },
    async (req, reply) => {
      const { test = true, ...input } = req.body;
      // A failed test aborts the add before anything is stored; the answer says which stage.
      const added = await addMailboxTested(connectionTestDeps(db, config), principal(req).tenantId, input, { test });
      // 200 like the seed's POST ticket_conversations: one status for "created" across the API.
      if ('mailbox' in added) return reply.send(wrap(req, added.mailbox));
      return testFailed(req, reply, added.failed);
    },
  );

  app.patch<{ Params: MailboxParams; Body: PatchBody }>(
    '/mailboxes/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Change a mailbox: only the fields given',
        description:
          'New credentials or another server reset the state to connecting (an auth_error is retried at once); another host, user or folder also resets the cursor, and an earlier `since` re-reads the folder to backfill (mail already ingested is recognised, nothing doubled). With `"test": true` a change that needs a new connection is tested first (422 with the failed stage; nothing changed).',
        body: patchBody,
        response: wrappedResponses(mailboxSchema, 'the changed mailbox', { failures: { 422: 'The connection test failed: errors[0].stage names the stage; nothing was changed' } }),
        params: mailboxParams,
      },
    },
    async (req, reply) => {
      const { test, ...patch } = req.body;
      const keys = Object.keys(patch);
      // Exactly what `mailroom mailbox enable|disable` does.
      if (keys.length === 1 && keys[0] === 'enabled' && typeof patch.enabled === 'boolean') {
        return wrap(req, await setMailboxEnabled(db, req.params.id, patch.enabled, tenantOf(req)));
      }
      // The same service and connection test as `mailroom mailbox edit`; a failed test changes nothing.
      const result = await updateMailboxTested(connectionTestDeps(db, config), req.params.id, patch, tenantOf(req), { test: test === true });
      if ('failed' in result) return testFailed(req, reply, result.failed, 'Nothing was changed; fix the settings, or send "test": false to store them untested.');
      return reply.send(wrap(req, result.mailbox));
    },
  );

  app.delete<{ Params: MailboxParams }>(
    '/mailboxes/:id',
    { schema: { tags: TAGS, summary: 'Remove a mailbox and its ingest log (tickets and conversations stay)', params: mailboxParams, response: wrappedResponses(mailboxSchema, 'the removed mailbox') } },
    async (req) => wrap(req, await removeMailbox(db, req.params.id, tenantOf(req))),
  );
}

/** The ingest log of a mailbox and the re-run of one stored message. */
function ingestLogRoutes(app: FastifyInstance, opts: MailboxRoutesOptions): void {
  const { db } = opts;
  app.get<{ Params: MailboxParams; Querystring: MessagesQuery }>(
    '/mailboxes/:id/messages',
    {
      schema: {
        tags: TAGS,
        summary: 'The ingest log: one row per fetched message with its outcome, newest first',
        params: mailboxParams,
        querystring: messagesQuery,
        response: wrappedResponses(ingestRecordList, 'ingest records', paged),
      },
    },
    async (req) => {
      const page = pageOf(req.query);
      const { rows, total } = await listIngestLog(db, { ...tenantOf(req), mailboxId: req.params.id }, { outcome: req.query.outcome, page });
      return wrap(req, rows, pageMeta(page, total));
    },
  );

  app.post<{ Params: MessageParams }>(
    '/mailboxes/:id/messages/:message_id/reprocess',
    {
      schema: {
        tags: TAGS,
        summary: 'Re-run one stored message through the pipeline (after a fix or a raised limit)',
        description: 'A message that already became a conversation is left as it is (`rerun: false`). A message over the size limit was never downloaded and cannot be re-run (422).',
        params: messageParams,
        response: wrappedResponses(reprocessSchema, 'the ingest record after the re-run'),
      },
    },
    async (req) => wrap(req, await reprocessLogRecord(opts, { ...tenantOf(req), mailboxId: req.params.id }, req.params.message_id)),
  );
}

/** 422: the settings were understood, but the server did not accept them; `stage` says which step failed. */
function testFailed(req: FastifyRequest, reply: FastifyReply, result: FailedTest, advice = 'Nothing was stored; fix the settings, or send "test": false to store the mailbox untested.') {
  const error: WrapError & { stage: string } = {
    code: result.code,
    message: `The connection test failed at the ${result.stage} stage: ${result.message} ${advice}`,
    stage: result.stage,
  };
  return sendErrors(req, reply, 422, [error]);
}
