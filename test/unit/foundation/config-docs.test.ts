// The configuration is documented in two places a user reads — the README's
// Configuration table and `mailroom --help` — and read in one, the config
// schema. This test keeps the three in step: it takes the schema's variable
// names from the schema itself (CONFIG_VARIABLES), so a variable added there
// fails here until the README has its row and the help names it, and a row or
// a help entry for a variable the schema does not read fails as well.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { CONFIG_VARIABLES } from '../../../src/config/config.js';

const README = new URL('../../../README.md', import.meta.url);

/** The rows of the first table under the README's `## Configuration` heading: each row's first cell. */
function configurationTableCells(markdown: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^##\s+Configuration\s*$/.test(l));
  if (start < 0) throw new Error('README.md has no "## Configuration" section');
  const cells: string[] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (/^##?\s/.test(line)) break;
    if (line.startsWith('|')) {
      inTable = true;
      cells.push(line.split('|')[1]?.trim() ?? '');
    } else if (inTable) {
      break;
    }
  }
  // The header row and the |---| separator.
  return cells.slice(2);
}

/** `VAR` names written in backticks. */
function variablesIn(text: string): string[] {
  return [...text.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] ?? '');
}

async function helpText(): Promise<string> {
  const out: string[] = [];
  const code = await main(['--help'], { out: (l) => out.push(l), err: (l) => out.push(l) });
  expect(code).toBe(0);
  return out.join('\n');
}

const missing = (want: readonly string[], have: ReadonlySet<string>) => want.filter((v) => !have.has(v)).sort();

describe('the documented configuration', () => {
  const schema = new Set<string>(CONFIG_VARIABLES);
  const cells = configurationTableCells(readFileSync(README, 'utf8'));

  it('reads the schema programmatically (a sanity check of the parse below)', () => {
    expect(schema.has('DATABASE_URL')).toBe(true);
    expect(cells.length).toBeGreaterThan(5);
  });

  it('has one README table row per variable', () => {
    const bad = cells.filter((c) => variablesIn(c).length !== 1);
    expect(bad, 'README Configuration rows whose first cell is not exactly one `VARIABLE`').toEqual([]);
  });

  it('lists in the README table exactly the variables the config schema reads', () => {
    const table = cells.flatMap(variablesIn);
    const duplicates = table.filter((v, i) => table.indexOf(v) !== i);
    expect(duplicates, 'variables with more than one README row').toEqual([]);
    expect(missing([...schema], new Set(table)), 'schema variables missing from the README Configuration table').toEqual([]);
    expect(missing(table, schema), 'README Configuration rows for variables the config schema does not read').toEqual([]);
  });

  it('names every schema variable in `mailroom --help`, and no MAILROOM_ variable the schema does not read', async () => {
    const help = await helpText();
    const words = new Set(help.match(/\b[A-Z][A-Z0-9_]*\b/g) ?? []);
    expect(missing([...schema], words), 'schema variables missing from mailroom --help').toEqual([]);
    const helpVariables = [...words].filter((w) => w.startsWith('MAILROOM_'));
    expect(missing(helpVariables, schema), 'MAILROOM_ variables in mailroom --help that the config schema does not read').toEqual([]);
  });
});

describe('configurationTableCells', () => {
  it('takes the first cell of each body row of the first table, and stops at the next section', () => {
    const md = ['# X', '## Configuration', '', '| variable | default |', '|---|---|', '| `A_B` | 1 |', '| `C` / `D` | 2 |', '', '| `E` | x |', '## Next', '| `F` | y |'].join('\n');
    expect(configurationTableCells(md)).toEqual(['`A_B`', '`C` / `D`']);
  });
});
