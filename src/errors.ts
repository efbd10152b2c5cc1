// One error registry (modelled on Fastify's lib/errors.js): every error Mailroom
// raises on purpose has a string code, an HTTP status where it matters, a
// retryable flag (a BullMQ job turns "not retryable" into UnrecoverableError)
// and keeps its cause.

interface ErrorSpec {
  readonly status: number;
  readonly retryable: boolean;
  readonly message: string;
}

export const ERRORS = {
  CONFIG_INVALID: { status: 500, retryable: false, message: 'Invalid configuration' },
  USAGE: { status: 400, retryable: false, message: 'Invalid command line' },
  VALIDATION: { status: 400, retryable: false, message: 'Invalid input' },
  /** A request HTTP itself refuses (Fastify's own 4xx without a code of its own). */
  BAD_REQUEST: { status: 400, retryable: false, message: 'Bad request' },
  UNAUTHORIZED: { status: 401, retryable: false, message: 'Missing or invalid token' },
  FORBIDDEN: { status: 403, retryable: false, message: 'Not allowed' },
  NOT_FOUND: { status: 404, retryable: false, message: 'Not found' },
  CONFLICT: { status: 409, retryable: false, message: 'Already exists' },
  CURSOR_MOVED: { status: 409, retryable: true, message: 'The mailbox cursor moved meanwhile (another sync, or the mailbox was changed)' },
  DATABASE_UNAVAILABLE: { status: 503, retryable: true, message: 'The database cannot be reached' },
  REDIS_UNAVAILABLE: { status: 503, retryable: true, message: 'Redis cannot be reached' },
  MIGRATION_FAILED: { status: 500, retryable: false, message: 'A database migration failed' },
  SECRET_DECRYPT_FAILED: { status: 500, retryable: false, message: 'A stored secret cannot be decrypted with the configured key' },
  MAIL_UNREADABLE: { status: 422, retryable: false, message: 'The message cannot be read' },
  MAIL_UNPARSEABLE: { status: 422, retryable: false, message: 'The message cannot be parsed' },
  MAIL_LIMIT_EXCEEDED: { status: 422, retryable: false, message: 'The message exceeds a configured limit' },
  /** `mailroom parse`: a file named on the command line cannot be read at all. */
  FILE_UNREADABLE: { status: 422, retryable: false, message: 'The file cannot be read' },
  /** An archive's structure is damaged (its directory cannot be walked): the attachment is judged unreadable, not retried. */
  ATTACHMENT_UNREADABLE: { status: 422, retryable: false, message: 'The attachment cannot be read' },
  /** The stored bytes of an attachment are missing or are not the bytes received: no retry can fix it. */
  ATTACHMENT_CORRUPT: { status: 500, retryable: false, message: 'The stored bytes of the attachment are missing or damaged' },
  MAILBOX_DNS_FAILED: { status: 502, retryable: true, message: 'The mail server host name cannot be resolved' },
  MAILBOX_CONNECT_FAILED: { status: 502, retryable: true, message: 'The mail server cannot be reached' },
  MAILBOX_TLS_FAILED: { status: 502, retryable: true, message: 'The TLS handshake with the mail server failed' },
  MAILBOX_AUTH_FAILED: { status: 502, retryable: false, message: 'The mail server rejected the credentials' },
  MAILBOX_FOLDER_FAILED: { status: 502, retryable: false, message: 'The mailbox folder cannot be opened' },
  OAUTH_FAILED: { status: 502, retryable: false, message: 'The OAuth2 token endpoint did not issue an access token' },
  /** The connection policy (src/net/policy.ts) refused the address a tenant's mailbox or token URL leads to. */
  CONNECTION_NOT_ALLOWED: { status: 502, retryable: false, message: 'The connection policy refuses this address (see MAILROOM_ALLOW_PRIVATE_HOSTS)' },
  STORAGE_FAILED: { status: 500, retryable: true, message: 'The blob store cannot be read or written' },
  INTERNAL: { status: 500, retryable: false, message: 'Internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export interface FieldProblem {
  field: string;
  message: string;
}

export class MailroomError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** Per-field problems (validation) for the API's errors[]. */
  readonly fields: readonly FieldProblem[];

  constructor(code: ErrorCode, message?: string, options: { cause?: unknown; fields?: FieldProblem[]; retryable?: boolean } = {}) {
    const spec = ERRORS[code];
    super(message ?? spec.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MailroomError';
    this.code = code;
    this.status = spec.status;
    this.retryable = options.retryable ?? spec.retryable;
    this.fields = options.fields ?? [];
  }
}

export function isMailroomError(err: unknown, code?: ErrorCode): err is MailroomError {
  return err instanceof MailroomError && (code === undefined || err.code === code);
}

/** A one-sentence description of any thrown value, for stderr and logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
