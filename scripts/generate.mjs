#!/usr/bin/env node
// Runs `prisma generate` when the generated client (src/generated/prisma) is
// missing or older than prisma/schema.prisma, so check/test/build always see a
// current client without paying for a regeneration on every run.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const stampFile = 'src/generated/prisma/.schema-sha256';
const hash = createHash('sha256')
  .update(readFileSync('prisma/schema.prisma'))
  .update(readFileSync('node_modules/prisma/package.json'))
  .digest('hex');
if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash && process.argv[2] !== '--force') process.exit(0);
const r = spawnSync('npx', ['prisma', 'generate'], { stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write(
    'prisma generate failed. On a machine that cannot download Prisma\'s engines, set PRISMA_SCHEMA_ENGINE_BINARY first (see README, "Offline machines").\n',
  );
  process.exit(r.status ?? 1);
}
writeFileSync(stampFile, hash);
