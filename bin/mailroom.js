#!/usr/bin/env node
// The `mailroom` command: runs the compiled CLI (npm run build makes dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('mailroom: not built yet; run "npm ci && npm run build" in the Mailroom folder first.\n');
  process.exit(1);
}
await import(entry.href);
