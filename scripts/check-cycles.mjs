#!/usr/bin/env node
// The cycle check of `npm run lint`: imports only go down the tree (STYLE.md,
// "Types live in leaf files"), so any circular import under DIR fails it.
// Type-only imports count as edges: a cycle through `import type` still ties
// two modules together (one cannot be read, moved or tested without the
// other). src/generated (Prisma's client, cyclic by design) is left out.
//
//   node scripts/check-cycles.mjs [DIR] [--ts-config FILE]
//
// Exit codes: 0 no cycle, 1 cycles (each printed), 2 the check could not run.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import madge from 'madge';

function parseArgs(argv) {
  const args = { dir: 'src', tsConfig: 'tsconfig.json' };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--ts-config') args.tsConfig = argv[++i];
    else args.dir = argv[i];
  }
  return args;
}

async function main() {
  const { dir, tsConfig } = parseArgs(process.argv.slice(2));
  if (!existsSync(dir)) {
    process.stderr.write(`check-cycles: ${dir} does not exist\n`);
    return 2;
  }
  const res = await madge(resolve(dir), {
    fileExtensions: ['ts'],
    tsConfig: existsSync(tsConfig) ? resolve(tsConfig) : undefined,
    excludeRegExp: [/(^|\/)generated\//],
    detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
  });
  const skipped = res.warnings().skipped;
  // An import madge cannot resolve is an edge it cannot see: say so, it could hide a cycle.
  for (const file of skipped) process.stderr.write(`check-cycles: could not resolve ${file}\n`);
  const cycles = res.circular();
  if (cycles.length === 0) {
    process.stdout.write(`check-cycles: no circular imports in ${dir} (${Object.keys(res.obj()).length} files)\n`);
    return 0;
  }
  process.stderr.write(`check-cycles: ${cycles.length} circular import(s) in ${dir}:\n`);
  cycles.forEach((cycle, i) => process.stderr.write(`  ${i + 1}) ${[...cycle, cycle[0]].join(' > ')}\n`));
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`check-cycles: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
