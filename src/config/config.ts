// Configuration is parsed once from the environment (PRODUCT.md "Environment"),
// validated with zod, frozen and typed. A bad value fails start-up with one
// message naming every bad variable; values are never echoed (they may be secrets).
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { MailroomError } from '../errors.js';
import { parseAllowList, STRICT_POLICY, type ConnectionPolicy } from '../net/policy.js';
import { resolveStorageUrl } from '../storage/storage-url.js';
import { DEFAULT_PARSE_LIMITS, type ParseLimits } from '../mail/limits.js';

/**
 * Parse threads when MAILROOM_PARSE_THREADS is not set: one core fewer than the machine has (at least one, at
 * most four). The main thread needs a core of its own for PostgreSQL, IMAP and the blob store, and V8 runs its
 * collector and compiler beside them; on two cores a second parse thread bought no throughput (the e2e bench,
 * alternating runs) and cost ~90 MB at the peak of a backlog.
 */
export function defaultParseThreads(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 1));
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** 32 bytes, given as 64 hex characters or base64 (standard or url-safe). */
export function decodeSecretKey(value: string): Buffer | null {
  const v = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(v)) {
    const buf = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return buf.length === 32 ? buf : null;
  }
  return null;
}

const url = (protocols: readonly string[], what: string) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a ${what} URL (${protocols.map((p) => p + '//').join(' or ')})`);

const schema = z.object({
  DATABASE_URL: url(['postgresql:', 'postgres:'], 'PostgreSQL').default('postgresql://postgres:postgres@127.0.0.1:5432/mailroom'),
  REDIS_URL: url(['redis:', 'rediss:'], 'Redis').default('redis://127.0.0.1:6379'),
  MAILROOM_SECRET_KEY: z
    .string({ error: 'is required (32 bytes, base64 or hex)' })
    .transform((v, ctx) => {
      const key = decodeSecretKey(v);
      if (!key) {
        ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, given as 64 hex characters or base64' });
        return z.NEVER;
      }
      return key;
    }),
  MAILROOM_STORAGE_URL: z
    .string()
    .superRefine((v, ctx) => {
      // The store's own parser, so start-up refuses what createBlobStore would (an empty env: the region default is not checked here).
      try {
        resolveStorageUrl(v, '/', {});
      } catch (err) {
        const why = err instanceof MailroomError ? err.message.replace(/^MAILROOM_STORAGE_URL: /, '') : 'not a storage URL';
        ctx.addIssue({ code: 'custom', message: `is invalid: ${why}` });
      }
    })
    .default('file://./data/blobs'),
  // Unset: http://127.0.0.1:PORT, so `mailroom start --port N` signs download URLs that work.
  MAILROOM_PUBLIC_URL: url(['http:', 'https:'], 'http(s)').optional(),
  MAILROOM_QUEUE_PREFIX: z
    .string()
    .min(1)
    .regex(/^[^\s:]+$/, 'must not contain spaces or colons')
    .default('{mailroom}'),
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(3000),
  MAILROOM_OPS_TENANT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, { error: 'must be a tenant slug ([a-z0-9-], 2+ characters)' })
    .optional(),
  MAILROOM_WORKER_METRICS_PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  MAILROOM_IDLE_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(0).max(3600).default(300),
  MAILROOM_SYNC_CONCURRENCY: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(1000).default(20),
  MAILROOM_IMAP_TIMEOUT_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(5).max(3600).default(60),
  MAILROOM_WATCH_LIMIT: z.coerce.number({ error: 'must be a whole number' }).int().min(0).max(100_000).default(1000),
  MAILROOM_PARSE_THREADS: z.coerce.number({ error: 'must be a whole number' }).int().min(0).max(64).optional(),
  MAILROOM_MAX_MESSAGE_BYTES: z.coerce
    .number({ error: 'must be a number of bytes' })
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  // [mail-limits] The parser's structural limits (docs/ingest-outcomes.md "Limits on mail").
  MAILROOM_MAX_MIME_PARTS: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(100_000).default(DEFAULT_PARSE_LIMITS.maxParts),
  MAILROOM_MAX_HEADER_BYTES: z.coerce
    .number({ error: 'must be a number of bytes' })
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(DEFAULT_PARSE_LIMITS.maxHeaderBytes),
  MAILROOM_MAX_ATTACHMENT_BYTES: z.coerce.number({ error: 'must be a number of bytes' }).int().min(1).max(1024 * 1024 * 1024).default(25 * 1024 * 1024),
  MAILROOM_ATTACHMENT_CONCURRENCY: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(1000).default(4),
  MAILROOM_ATTACHMENT_SWEEP_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(1).max(86400).default(60),
  MAILROOM_ATTACHMENT_STALE_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(0).max(86400).default(120),
  MAILROOM_CLAMD_URL: url(['tcp:'], 'clamd').optional(),
  MAILROOM_ALLOW_PRIVATE_HOSTS: z
    .string()
    .transform((v, ctx) => {
      const parsed = parseAllowList(v);
      if ('error' in parsed) {
        ctx.addIssue({ code: 'custom', message: `is invalid: ${parsed.error}` });
        return z.NEVER;
      }
      return parsed.policy;
    })
    .optional(),
  // Read by src/config/dotenv.ts before this schema runs; listed here so the README and --help name it too.
  MAILROOM_ENV_FILE: z.string().optional(),
  // [api-cost] What one API request may cost (docs/api-limits.md).
  MAILROOM_API_MAX_HTML_BYTES: z.coerce.number({ error: 'must be a number of bytes' }).int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  MAILROOM_API_MAX_REQUEST_HTML_BYTES: z.coerce.number({ error: 'must be a number of bytes' }).int().min(1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
  MAILROOM_API_LIST_MAX_BYTES: z.coerce.number({ error: 'must be a number of bytes' }).int().min(1024).max(256 * 1024 * 1024).default(2 * 1024 * 1024),
  MAILROOM_API_RATE_LIMIT: z.coerce.number({ error: 'must be a whole number' }).int().min(0).max(1_000_000).default(600),
  MAILROOM_API_RATE_WINDOW_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(1).max(86400).default(60),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
});

export interface Config {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly secretKey: Buffer;
  readonly storageUrl: string;
  readonly publicUrl: string;
  readonly queuePrefix: string;
  readonly port: number;
  /** The operators' tenant: only its ADMIN tokens may open /admin/queues; null: ADMIN tokens may only while a single tenant exists. */
  readonly opsTenant: string | null;
  /** `mailroom worker` serves /healthz and /metrics on HOST:this port; null: it serves no HTTP. */
  readonly workerMetricsPort: number | null;
  readonly host: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** How long a sync stays connected in IDLE before handing the mailbox back to the queue. */
  readonly idleSeconds: number;
  /** Mailbox syncs one worker process runs at once. */
  readonly syncConcurrency: number;
  /** A sync's IMAP connection silent this long is dead: the sync fails (connect_error) and retries on its backoff. */
  readonly imapTimeoutSeconds: number;
  /** Mailboxes one worker process watches (one IDLE connection each); the rest are polled or watched by other workers. */
  readonly watchLimit: number;
  /** Worker threads that parse and map mail, and sanitize API-posted conversations, in server processes (0: in the main thread). */
  readonly parseThreads: number;
  /** Largest message downloaded and parsed; larger ones are recorded as failed. */
  readonly maxMessageBytes: number;
  /** The limits the mail parser applies (maxRawBytes is maxMessageBytes): the worker's and `mailroom parse`'s. */
  readonly parseLimits: Readonly<Pick<ParseLimits, 'maxRawBytes' | 'maxParts' | 'maxHeaderBytes'>>;
  /** Largest attachment accepted; larger ones end as ERROR. */
  readonly maxAttachmentBytes: number;
  /** Attachment jobs one worker process runs at once. */
  readonly attachmentConcurrency: number;
  /** How often the sweeper looks for attachments stuck in UNAVAILABLE. */
  readonly attachmentSweepSeconds: number;
  /** How long an attachment may stay UNAVAILABLE without a live job before the sweeper acts. */
  readonly attachmentStaleSeconds: number;
  /** clamd (tcp://host:port) to scan attachments with; null: no scan. */
  readonly clamdUrl: string | null;
  /** Which internal hosts/CIDRs a tenant's mailbox or token URL may reach (MAILROOM_ALLOW_PRIVATE_HOSTS; unset: none). */
  readonly connectionPolicy: ConnectionPolicy;
  /** What one API request may cost (docs/api-limits.md). */
  readonly apiLimits: ApiLimits;
}

export interface ApiLimits {
  /** Rich content (html + editorjs, UTF-8 bytes) of one posted conversation. */
  readonly maxHtmlBytes: number;
  /** Rich content of all conversations of one POST together. */
  readonly maxRequestHtmlBytes: number;
  /** Conversation content a list page carries whole; past it, bodies are truncated (content_truncated). */
  readonly listMaxBytes: number;
  /** Requests per window per token on /api/ (0: no limit). */
  readonly rateLimit: number;
  readonly rateWindowSeconds: number;
}

export const CONFIG_VARIABLES = Object.keys(schema.shape) as (keyof typeof schema.shape)[];

const PARSE_LIMIT_VARIABLES = { MAILROOM_MAX_MESSAGE_BYTES: true, MAILROOM_MAX_MIME_PARTS: true, MAILROOM_MAX_HEADER_BYTES: true } as const;

function parseLimitsOf(c: z.infer<ReturnType<typeof schema.pick<typeof PARSE_LIMIT_VARIABLES>>>): Config['parseLimits'] {
  return Object.freeze({ maxRawBytes: c.MAILROOM_MAX_MESSAGE_BYTES, maxParts: c.MAILROOM_MAX_MIME_PARTS, maxHeaderBytes: c.MAILROOM_MAX_HEADER_BYTES });
}

/**
 * Only the parser's limits from the environment, validated as loadConfig
 * does: `mailroom parse` needs no secret key or database, yet must apply the
 * same limits as the worker. Throws CONFIG_INVALID naming the bad variable.
 */
export function loadParseLimits(env: NodeJS.ProcessEnv = process.env): Config['parseLimits'] {
  return parseLimitsOf(validate(schema.pick(PARSE_LIMIT_VARIABLES), env));
}

function validate<S extends z.ZodObject>(shape: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const input: Record<string, string> = {};
  for (const name of Object.keys(shape.shape)) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  const parsed = shape.safeParse(input);
  if (!parsed.success) {
    const problems = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      if (!problems.has(name)) problems.set(name, issue.message);
    }
    const list = [...problems].map(([name, msg]) => `${name} ${msg}`);
    throw new MailroomError('CONFIG_INVALID', `Invalid configuration: ${list.join('; ')}.`, {
      fields: [...problems].map(([field, message]) => ({ field, message })),
    });
  }
  return parsed.data;
}

/** Parse the environment; throws CONFIG_INVALID naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const c = validate(schema, env);
  return Object.freeze({
    databaseUrl: c.DATABASE_URL,
    redisUrl: c.REDIS_URL,
    secretKey: c.MAILROOM_SECRET_KEY,
    storageUrl: c.MAILROOM_STORAGE_URL,
    publicUrl: (c.MAILROOM_PUBLIC_URL ?? `http://127.0.0.1:${c.PORT}`).replace(/\/+$/, ''),
    queuePrefix: c.MAILROOM_QUEUE_PREFIX,
    port: c.PORT,
    workerMetricsPort: c.MAILROOM_WORKER_METRICS_PORT ?? null,
    opsTenant: c.MAILROOM_OPS_TENANT ?? null,
    host: c.HOST,
    logLevel: c.LOG_LEVEL,
    idleSeconds: c.MAILROOM_IDLE_SECONDS,
    syncConcurrency: c.MAILROOM_SYNC_CONCURRENCY,
    imapTimeoutSeconds: c.MAILROOM_IMAP_TIMEOUT_SECONDS,
    watchLimit: c.MAILROOM_WATCH_LIMIT,
    parseThreads: c.MAILROOM_PARSE_THREADS ?? defaultParseThreads(),
    maxMessageBytes: c.MAILROOM_MAX_MESSAGE_BYTES,
    parseLimits: parseLimitsOf(c),
    maxAttachmentBytes: c.MAILROOM_MAX_ATTACHMENT_BYTES,
    attachmentConcurrency: c.MAILROOM_ATTACHMENT_CONCURRENCY,
    attachmentSweepSeconds: c.MAILROOM_ATTACHMENT_SWEEP_SECONDS,
    attachmentStaleSeconds: c.MAILROOM_ATTACHMENT_STALE_SECONDS,
    clamdUrl: c.MAILROOM_CLAMD_URL ?? null,
    connectionPolicy: c.MAILROOM_ALLOW_PRIVATE_HOSTS ?? STRICT_POLICY,
    apiLimits: Object.freeze({
      maxHtmlBytes: c.MAILROOM_API_MAX_HTML_BYTES,
      maxRequestHtmlBytes: c.MAILROOM_API_MAX_REQUEST_HTML_BYTES,
      listMaxBytes: c.MAILROOM_API_LIST_MAX_BYTES,
      rateLimit: c.MAILROOM_API_RATE_LIMIT,
      rateWindowSeconds: c.MAILROOM_API_RATE_WINDOW_SECONDS,
    }),
  });
}

/** A URL with its password replaced, safe for logs and messages. */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
