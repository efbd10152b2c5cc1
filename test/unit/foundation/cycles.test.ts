// The cycle check of `npm run lint` (scripts/check-cycles.mjs) on tiny trees:
// it fails on a two-file cycle, even one made of `import type` alone, and
// passes on a tree whose imports only go down.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = resolve('scripts/check-cycles.mjs');
const root = mkdtempSync(join(tmpdir(), 'mailroom-cycles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, 'src', file), text);
  return dir;
}

function check(dir: string) {
  const r = spawnSync(process.execPath, [SCRIPT, join(dir, 'src'), '--ts-config', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('scripts/check-cycles.mjs', () => {
  it('fails on two files importing each other, and names both', () => {
    const dir = tree('cyclic', {
      'a.ts': "import { b } from './b.js';\nexport const a = () => b();\n",
      'b.ts': "import { a } from './a.js';\nexport const b = (): number => (a ? 1 : 0);\n",
    });
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/a\.ts > b\.ts > a\.ts|b\.ts > a\.ts > b\.ts/);
  });

  it('counts type-only imports as edges', () => {
    const dir = tree('type-cycle', {
      'main.ts': "import type { Cmd } from './cmd.js';\nexport type Out = { out: (line: string) => void };\nexport const run = (c: Cmd) => c;\n",
      'cmd.ts': "import type { Out } from './main.js';\nexport type Cmd = (io: Out) => number;\n",
    });
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/cmd\.ts > main\.ts > cmd\.ts|main\.ts > cmd\.ts > main\.ts/);
  });

  it('passes when imports only go down the tree', () => {
    const dir = tree('acyclic', {
      'io.ts': 'export type Out = { out: (line: string) => void };\n',
      'cmd.ts': "import type { Out } from './io.js';\nexport const cmd = (io: Out) => io.out('hi');\n",
      'main.ts': "import { cmd } from './cmd.js';\nimport type { Out } from './io.js';\nexport const main = (io: Out) => cmd(io);\n",
    });
    const r = check(dir);
    expect(r.status).toBe(0);
    expect(r.out).toContain('no circular imports');
    expect(r.out).toContain('(3 files)');
  });
});
