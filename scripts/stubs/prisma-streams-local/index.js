// Stands in for @prisma/streams-local (package.json "overrides"): the real one
// needs Node 22 (node:sqlite) and is only loaded by `prisma dev`, a local
// Prisma Postgres that Mailroom does not use. Without this stub `npm ci` on
// Node 20 warns about an unsupported engine for a package nothing here runs.
export async function startLocalDurableStreamsServer() {
  throw new Error('`prisma dev` is not available in this project: its local streams server needs Node 22 (Mailroom uses PostgreSQL directly).');
}
