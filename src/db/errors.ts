// What a database error means for the caller, in one place: a unique
// violation (someone else wrote the same row first: look again), or a
// transient failure that says nothing about the data being written (the
// server gone, a pool or transaction timeout, a deadlock, a statement
// cancelled) — never a reason to record a good mail as failed.

/** A unique-constraint violation: Prisma's P2002 from a model call, SQLSTATE 23505 from a raw statement. */
export function isUniqueViolation(err: unknown): boolean {
  return someCode(err, (c) => c === 'P2002' || c === '23505');
}

/**
 * Two transactions in each other's way: a deadlock, a serialization failure, a lock wait given up
 * (lock_timeout) — Prisma's P2034 or the SQLSTATE. Running the transaction again usually succeeds.
 */
export function isLockConflict(err: unknown): boolean {
  return someCode(err, (c) => c === 'P2034' || c === '40P01' || c === '40001' || c === '55P03' || c === 'TransactionWriteConflict');
}

/** Prisma's codes for "could not reach / lost / timed out", not for bad data. */
const TRANSIENT_PRISMA = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2034']);
/** PostgreSQL SQLSTATEs of the same kind: connection exceptions, serialization and deadlock, cancelled, too many connections, shutdown. */
const TRANSIENT_SQLSTATE = /^(08\d{3}|40001|40P01|57014|57P0[1-3]|53300|55P03)$/;
const TRANSIENT_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The driver adapter's kinds of the same: a raw statement ($queryRaw) that loses its connection
 * fails as P2010 whose driver error has only a `kind` (no code): ConnectionClosed, not a bad row.
 */
const TRANSIENT_ADAPTER_KIND = new Set(['ConnectionClosed', 'DatabaseNotReachable', 'SocketTimeout', 'TooManyConnections', 'TransactionWriteConflict', 'TlsConnectionError']);

/** Whether `err` (or an error it wraps) is a database failure worth retrying later. */
export function isTransientDbError(err: unknown): boolean {
  return someCode(err, (c) => TRANSIENT_PRISMA.has(c) || TRANSIENT_SQLSTATE.test(c) || TRANSIENT_SOCKET.has(c) || TRANSIENT_ADAPTER_KIND.has(c));
}

/** Whether `err` or an error it wraps (cause, Prisma's meta and driver adapter error) carries a code that `match`es. */
function someCode(err: unknown, match: (code: string) => boolean): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const { code, originalCode, kind, meta, cause } = e as { code?: unknown; originalCode?: unknown; kind?: unknown; meta?: unknown; cause?: unknown };
    for (const c of [code, originalCode, kind]) if (typeof c === 'string' && match(c)) return true;
    queue.push(cause, meta, (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError);
  }
  return false;
}

/** Why the database could not be used at all, in words (Prisma's P10xx codes and the driver adapter's kinds), or null for any other error. */
const CONNECTION_REASONS: [codes: string[], reason: string][] = [
  [['P1001', 'DatabaseNotReachable'], 'the server does not answer (is PostgreSQL running?)'],
  [['P1000', 'AuthenticationFailed', '28P01', '28000'], 'the server refused the user name or password'],
  [['P1003', 'DatabaseDoesNotExist', '3D000'], 'the database does not exist ("mailroom migrate" creates it)'],
  [['P1002', 'P1008', 'SocketTimeout'], 'the server did not answer in time'],
  [['P1011', 'TlsConnectionError'], 'the TLS connection to the server failed'],
  [['P1017', 'ConnectionClosed'], 'the server closed the connection'],
  [['P2024', 'TooManyConnections', '53300'], 'the server has no connection free'],
];

export function databaseConnectionProblem(err: unknown): string | null {
  for (const [codes, reason] of CONNECTION_REASONS) if (someCode(err, (c) => codes.includes(c))) return reason;
  return null;
}
