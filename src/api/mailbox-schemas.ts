// JSON schemas of the mailbox admin routes, for Fastify (path and query
// validation, response serialization) and the OpenAPI document. Bodies are
// typed here for the document only; the rules (addresses, ranges, which
// credentials an auth method needs) live in src/mailboxes/service.ts, shared
// with the CLI, so the two cannot drift. No `additionalProperties: false` on
// bodies: Fastify's Ajv would silently drop unknown fields, where the service
// names them as errors. The response schemas list every field a client gets:
// a field not listed (a secret, say) could not be serialized even by mistake.
import { IngestOutcome, MailboxAuth, MailboxState, MailboxTls } from '../generated/prisma/enums.js';
import { ingestRecordSchema } from './ingest-records.js';

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });
const id = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const;

export const tenantParams = {
  tenant: { type: 'string', description: 'tenant slug' },
  version: { type: 'string', description: 'API version: 1' },
} as const;

export const mailboxParams = { type: 'object', required: ['id'], properties: { ...tenantParams, id } } as const;
export const messageParams = { type: 'object', required: ['id', 'message_id'], properties: { ...tenantParams, id, message_id: { ...id, description: 'ingest record id' } } } as const;
export const listParams = { type: 'object', properties: tenantParams } as const;

const paging = {
  page: { type: 'integer', minimum: 1, maximum: 2_147_483_647, default: 1 },
  page_size: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
} as const;
export const pageQuery = { type: 'object', properties: paging } as const;
export const messagesQuery = { type: 'object', properties: { ...paging, outcome: { type: 'string', enum: Object.values(IngestOutcome) } } } as const;

const writable = {
  address: { type: 'string', description: 'the mailbox address (unique per tenant)' },
  aliases: { type: 'array', items: { type: 'string' }, description: 'other addresses that deliver into this mailbox' },
  host: { type: 'string' },
  port: { type: 'integer' },
  tls: { type: 'string', enum: Object.values(MailboxTls), description: 'tls: implicit TLS (default); starttls; none: plain text' },
  username: { type: 'string' },
  auth: { type: 'string', enum: Object.values(MailboxAuth), description: 'password (default) or oauth2' },
  password: { type: 'string', description: 'write-only' },
  refresh_token: { type: 'string', description: 'OAuth2 refresh token; write-only' },
  oauth_token_url: { type: 'string' },
  oauth_client_id: { type: 'string' },
  oauth_client_secret: { type: ['string', 'null'], description: 'write-only' },
  oauth_scope: { type: ['string', 'null'] },
  folder: { type: 'string', description: 'default INBOX' },
  post_action: { type: 'string', description: 'seen, none (default) or move:FOLDER; runs after the database commit' },
  poll_seconds: { type: 'integer', description: 'default 60' },
  since: { type: ['string', 'null'], description: 'backfill mail whose INTERNALDATE is on or after this date; null: only new mail' },
  enabled: { type: 'boolean' },
} as const;

export const createBody = {
  type: 'object',
  required: ['address', 'host', 'port', 'username'],
  properties: { ...writable, test: { type: 'boolean', default: true, description: 'run the connection test before storing (default true)' } },
} as const;
export const patchBody = { type: 'object', properties: writable } as const;

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
    folder: { type: 'string' },
    post_action: { type: 'string' },
    poll_seconds: { type: 'integer' },
    since: nullable('string', { format: 'date-time' }),
    enabled: { type: 'boolean' },
    state: { type: 'string', enum: Object.values(MailboxState) },
    last_success_at: nullable('string', { format: 'date-time' }),
    last_error: nullable('string'),
    consecutive_failures: { type: 'integer' },
    uid_validity: nullable('integer'),
    last_uid: nullable('integer'),
    highest_modseq: nullable('string'),
    created: { type: 'string', format: 'date-time' },
    last_updated: { type: 'string', format: 'date-time' },
  },
} as const;

export const connectionTestSchema = {
  type: 'object',
  description: 'ok, with what was found; or the stage that failed (dns, tcp, tls, oauth, auth, folder) with an error code and one sentence.',
  properties: {
    ok: { type: 'boolean' },
    stage: { type: 'string', enum: ['dns', 'tcp', 'tls', 'oauth', 'auth', 'folder'] },
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

const errorItem = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' }, stage: { type: 'string' } },
} as const;

/** The 200 response in DTO_response_wrap around `data`. */
export function wrapped(data: object, description: string) {
  return {
    200: {
      description,
      type: 'object',
      properties: {
        data,
        errors: { type: 'array', items: errorItem },
        meta: {
          type: 'object',
          properties: { request_id: { type: 'string' }, page: { type: 'integer' }, page_size: { type: 'integer' }, total: { type: 'integer' } },
        },
      },
    },
  };
}
