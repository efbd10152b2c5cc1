// Schemas of the mailbox admin routes. Path, query and body are zod, run by
// the API kit's validator (src/api/kit/validate.ts) and turned into JSON
// Schema for the OpenAPI document. The body schemas check only the shape (the
// types of the fields, which ones a new mailbox needs); the rules (addresses,
// ranges, which credentials an auth method needs) live in
// src/mailboxes/service.ts, shared with the CLI, so the two cannot drift.
// Bodies keep unknown fields, which the service names as errors. The response
// schemas (JSON Schema, serialized by Fastify) list every field a client
// gets: a field not listed (a secret, say) could not be serialized even by
// mistake.
import { z } from 'zod';
import { INT32_MAX, intParam } from '../conversations/input.js';
import { IngestOutcome, MailboxAuth, MailboxState, MailboxTls } from '../generated/prisma/enums.js';
import { ingestRecordSchema } from './ingest-records.js';
import { pageQuery } from './kit/paging.js';
import { tenantParams } from './kit/schemas.js';

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });

export const listParams = z.object(tenantParams);
export const mailboxParams = z.object({ ...tenantParams, id: intParam(1, INT32_MAX, 'The mailbox id') });
export const messageParams = mailboxParams.extend({ message_id: intParam(1, INT32_MAX, 'The ingest record id') });
export type MailboxParams = z.output<typeof mailboxParams>;
export type MessageParams = z.output<typeof messageParams>;

export const messagesQuery = pageQuery.extend({
  outcome: z.enum(Object.values(IngestOutcome) as [IngestOutcome, ...IngestOutcome[]]).optional().meta({ description: 'Only records with this outcome' }),
});
export type MessagesQuery = z.output<typeof messagesQuery>;

/** A field's type, with "is required" when a required field is absent. */
const typed = (what: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`) });
const str = () => z.string(typed('a string'));
const int = () => z.number(typed('an integer')).int('must be an integer');
const bool = () => z.boolean(typed('true or false'));
const oneOf = <T extends string>(values: readonly T[]) => z.enum(values as [T, ...T[]], typed(`one of ${values.join(', ')}`));

const writable = {
  address: str().meta({ description: 'the mailbox address (unique per tenant)' }),
  aliases: z.array(str(), typed('a list of addresses')).meta({ description: 'other addresses that deliver into this mailbox' }),
  host: str(),
  port: int(),
  tls: oneOf(Object.values(MailboxTls)).meta({ description: 'tls: implicit TLS (default); starttls; none: plain text' }),
  username: str(),
  auth: oneOf(Object.values(MailboxAuth)).meta({ description: 'password (default) or oauth2' }),
  password: str().meta({ description: 'write-only' }),
  refresh_token: str().meta({ description: 'OAuth2 refresh token; write-only' }),
  oauth_token_url: str(),
  oauth_client_id: str(),
  oauth_client_secret: str().nullable().meta({ description: 'write-only' }),
  oauth_scope: str().nullable(),
  tls_ca_pem: str().nullable().meta({ description: 'a private certificate authority (PEM certificates) the server certificate must chain to; null: the system CAs. Shown back only as tls_ca (subject, fingerprint)' }),
  folder: str().meta({ description: 'default INBOX' }),
  post_action: str().meta({ description: 'seen, none (default) or move:FOLDER; runs after the database commit' }),
  poll_seconds: int().meta({ description: 'default 60' }),
  since: str().nullable().meta({ description: 'backfill mail whose INTERNALDATE is on or after this date; null: only new mail' }),
  enabled: bool(),
};
const optional = Object.fromEntries(Object.entries(writable).map(([k, v]) => [k, v.optional()])) as { [K in keyof typeof writable]: z.ZodOptional<(typeof writable)[K]> };

/** A body that is not a JSON object is named `body` as a whole. */
const OBJECT = { error: 'must be object' };

export const createBody = z.looseObject(
  {
    ...optional,
    address: writable.address,
    host: writable.host,
    port: writable.port,
    username: writable.username,
    test: bool().optional().default(true).meta({ description: 'run the connection test before storing (default true)' }),
  },
  OBJECT,
);
export const patchBody = z.looseObject(
  {
    ...optional,
    test: bool().optional().default(false).meta({ description: 'when the change needs a new connection (server, account, folder, credentials, CA): run the connection test first and store nothing if it fails (default false; `mailroom mailbox edit` sends true unless --no-test)' }),
  },
  OBJECT,
);
export type CreateBody = z.output<typeof createBody>;
export type PatchBody = z.output<typeof patchBody>;

export const mailboxSchema = {
  type: 'object',
  description: 'A mailbox as admins see it: secrets are write-only and appear only as has_secret flags.',
  properties: {
    id: { type: 'integer' },
    tenant_id: { type: 'integer' },
    tenant: { type: 'string' },
    address: { type: 'string' },
    aliases: { type: 'array', items: { type: 'string' } },
    host: { type: 'string' },
    port: { type: 'integer' },
    tls: { type: 'string', enum: Object.values(MailboxTls) },
    username: { type: 'string' },
    auth: { type: 'string', enum: Object.values(MailboxAuth) },
    has_secret: { type: 'boolean' },
    oauth_token_url: nullable('string'),
    oauth_client_id: nullable('string'),
    oauth_scope: nullable('string'),
    has_oauth_client_secret: { type: 'boolean' },
    tls_ca: {
      type: ['array', 'null'],
      description: 'the private CA set with tls_ca_pem, one entry per certificate; null: the system CAs',
      items: { type: 'object', properties: { subject: { type: 'string' }, fingerprint_sha256: { type: 'string' }, valid_to: { type: 'string', format: 'date-time' } } },
    },
    folder: { type: 'string' },
    post_action: { type: 'string' },
    poll_seconds: { type: 'integer' },
    since: nullable('string', { format: 'date-time' }),
    enabled: { type: 'boolean' },
    state: { type: 'string', enum: Object.values(MailboxState) },
    last_success_at: nullable('string', { format: 'date-time' }),
    last_error: nullable('string'),
    consecutive_failures: { type: 'integer' },
    backlog: {
      type: ['object', 'null'],
      description: 'the sync pass working through a backlog: messages left, done, since when; null when none is',
      properties: { remaining: { type: 'integer' }, done: { type: 'integer' }, started_at: nullable('string', { format: 'date-time' }) },
    },
    uid_validity: nullable('integer'),
    last_uid: nullable('integer'),
    highest_modseq: nullable('string'),
    created: { type: 'string', format: 'date-time' },
    last_updated: { type: 'string', format: 'date-time' },
  },
} as const;

export const connectionTestSchema = {
  type: 'object',
  description: 'ok, with what was found; or the stage that failed (dns, policy, tcp, tls, oauth, auth, folder) with an error code and one sentence.',
  properties: {
    ok: { type: 'boolean' },
    stage: { type: 'string', enum: ['dns', 'policy', 'tcp', 'tls', 'oauth', 'auth', 'folder'] },
    code: { type: 'string' },
    message: { type: 'string' },
    details: {
      type: 'object',
      properties: {
        host: { type: 'string' },
        port: { type: 'integer' },
        address: { type: 'string' },
        tls: { type: 'string' },
        tls_protocol: nullable('string'),
        username: { type: 'string' },
        folder: { type: 'string' },
        messages: { type: 'integer' },
        uid_validity: { type: 'integer' },
        uid_next: { type: 'integer' },
      },
    },
  },
} as const;

export const ingestRecordList = { type: 'array', items: ingestRecordSchema } as const;

export const reprocessSchema = {
  ...ingestRecordSchema,
  description: 'The ingest record after the re-run, with its outcome before it.',
  properties: {
    ...ingestRecordSchema.properties,
    previous_outcome: { type: 'string', enum: Object.values(IngestOutcome) },
    rerun: { type: 'boolean', description: 'false: the record already was a conversation and was left alone' },
  },
} as const;

