// `mailroom migrate` on a fresh PostgreSQL: the database named in DATABASE_URL
// does not exist yet, so it is created first, from the server's `postgres`
// maintenance database, with the same credentials. The name comes from a URL
// (anything may be in it), so it is quoted as an identifier, never pasted.
import pg from 'pg';
import { MailroomError } from '../errors.js';

/** PostgreSQL's invalid_catalog_name: the database in the URL does not exist. */
export const DATABASE_MISSING = '3D000';

/** The database name a PostgreSQL URL points at (pg's default: the user name; then "postgres"). */
export function databaseNameOf(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  return name || decodeURIComponent(u.username) || 'postgres';
}

/** The same server and credentials, the `postgres` maintenance database. */
export function maintenanceUrl(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.pathname = '/postgres';
  return u.toString();
}

/** A safely quoted SQL identifier (double quotes, inner ones doubled; NUL refused). */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new MailroomError('CONFIG_INVALID', 'DATABASE_URL names a database with a NUL character.');
  return `"${name.replace(/"/g, '""')}"`;
}

export function isDatabaseMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === DATABASE_MISSING;
}

/** Creates the database of `databaseUrl`; one created meanwhile by someone else is fine. */
export async function createDatabase(databaseUrl: string): Promise<string> {
  const name = databaseNameOf(databaseUrl);
  const client = new pg.Client({ connectionString: maintenanceUrl(databaseUrl), connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new MailroomError('DATABASE_UNAVAILABLE', `Database "${name}" does not exist, and the server's "postgres" database to create it from cannot be reached: ${(err as Error).message}.`, { cause: err });
  }
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } catch (err) {
    // 42P04 duplicate_database: a concurrent run created it first.
    if ((err as { code?: unknown }).code !== '42P04') {
      throw new MailroomError('MIGRATION_FAILED', `Database "${name}" does not exist and cannot be created: ${(err as Error).message}.`, { cause: err });
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return name;
}
