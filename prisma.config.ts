// Prisma CLI configuration (generate, migrate diff/status). The runtime does not
// read this file: it connects through @prisma/adapter-pg (src/db/prisma.ts) and
// applies migrations with `mailroom migrate` (src/db/migrate.ts).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:5432/mailroom',
  },
});
