// `mailroom migrate`: applies prisma/migrations/*/migration.sql in order, each in
// its own transaction, recorded in Prisma's own `_prisma_migrations` table with
// Prisma's checksum, so `prisma migrate status/deploy` agree with it. It needs no
// Prisma engine binary, which is why Mailroom runs it itself. A PostgreSQL
// advisory lock (the one Prisma uses) serialises concurrent runs.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { MailroomError } from '../errors.js';
import { createDatabase, isDatabaseMissing } from './create-database.js';

export const DEFAULT_MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../prisma/migrations');
const PRISMA_ADVISORY_LOCK = 72707369;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

export async function readMigrations(dir = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const out: MigrationFile[] = [];
  for (const name of names) {
    const buf = await readFile(path.join(dir, name, 'migration.sql'));
    out.push({ name, sql: buf.toString('utf8'), checksum: createHash('sha256').update(buf).digest('hex') });
  }
  return out;
}

export async function migrate(databaseUrl: string, options: { dir?: string; log?: (msg: string) => void; createDatabase?: boolean } = {}): Promise<MigrateResult> {
  const migrations = await readMigrations(options.dir);
  let client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
  } catch (err) {
    if (!(options.createDatabase && isDatabaseMissing(err))) {
      throw new MailroomError('DATABASE_UNAVAILABLE', `Cannot connect to the database: ${(err as Error).message}.`, { cause: err });
    }
    // A fresh server: create the database, then migrate it like any other.
    options.log?.(`created database ${await createDatabase(databaseUrl)}`);
    client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
    );
    const done = new Map(rows.map((r) => [r.migration_name, r]));
    const result: MigrateResult = { applied: [], alreadyApplied: [] };
    for (const m of migrations) {
      const prior = done.get(m.name);
      if (prior) {
        if (!prior.finished_at) {
          throw new MailroomError('MIGRATION_FAILED', `Migration ${m.name} failed earlier and is not resolved; fix the database, then mark it rolled back.`);
        }
        if (prior.checksum !== m.checksum) options.log?.(`warning: migration ${m.name} was changed after it was applied`);
        result.alreadyApplied.push(m.name);
        continue;
      }
      const id = randomUUID();
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count, started_at)
           VALUES ($1, $2, now(), $3, 1, now())`,
          [id, m.checksum, m.name],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new MailroomError('MIGRATION_FAILED', `Migration ${m.name} failed: ${(err as Error).message}.`, { cause: err });
      }
      options.log?.(`applied ${m.name}`);
      result.applied.push(m.name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/**
 * The migrations of `dir` not (successfully) applied to the database `client` is
 * connected to: `mailroom start` refuses to run on a database behind the code.
 */
export async function pendingMigrations(client: pg.ClientBase, dir = DEFAULT_MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await readMigrations(dir);
  const table = await client.query<{ t: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS t`);
  if (!table.rows[0]?.t) return migrations.map((m) => m.name);
  const { rows } = await client.query<{ migration_name: string }>(
    'SELECT migration_name FROM "_prisma_migrations" WHERE rolled_back_at IS NULL AND finished_at IS NOT NULL',
  );
  const done = new Set(rows.map((r) => r.migration_name));
  return migrations.filter((m) => !done.has(m.name)).map((m) => m.name);
}
