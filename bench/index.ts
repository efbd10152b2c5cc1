// `npm run bench`: the bench suites. `core` is the mail-core bench (bench/run.ts:
// in-process, no services, seconds); `e2e` the end-to-end throughput bench
// (bench/e2e/: its own Dovecot, database and Redis prefix, minutes); `api` the
// cost of the heaviest API request (bench/heavy-request.ts: /healthz latency
// while it is processed, next to the idle figure); `all` (the default) runs
// core, api, then e2e. Each suite gets only its own flags.
//
//   npm run bench [-- --suite core|api|e2e|all] [core flags] [api flags] [e2e flags]
import { E2E_USAGE } from './e2e/options.js';

const SUITES = ['core', 'api', 'e2e', 'all'] as const;
const CORE_FLAGS = new Set(['--rounds', '--corpus']);
const API_FLAGS = new Set(['--items', '--chars', '--env']);
const USAGE = `npm run bench [-- --suite core|api|e2e|all] [flags]   (default: all)
core suite (mail core in-process, against simpleParser):
  --rounds N             rounds per measurement (default 3)
  --corpus DIR           mail files (default ../shared/corpus or MAILROOM_CORPUS_DIR)
api suite (a real mailroom api; PostgreSQL and Redis on 127.0.0.1):
  --items N              conversations in the heavy POST (default: 4, the most the default limits allow)
  --chars N              characters of HTML each (default: just under the limits)
  --env NAME=VALUE       a configuration variable for the api process (repeatable)
${E2E_USAGE}`;

function split(argv: string[]): { suite: string; core: string[]; api: string[]; e2e: string[]; help: boolean } {
  const out = { suite: 'all', core: [] as string[], api: [] as string[], e2e: [] as string[], help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    if (arg === '--help' || arg === '-h') out.help = true;
    else if (name === '--suite') out.suite = inline ?? argv[++i] ?? '';
    else if (CORE_FLAGS.has(name)) out.core.push(arg, ...(inline === undefined && i + 1 < argv.length ? [argv[++i]!] : []));
    else if (API_FLAGS.has(name)) out.api.push(name, ...(inline !== undefined ? [inline] : i + 1 < argv.length ? [argv[++i]!] : []));
    else out.e2e.push(arg);
  }
  return out;
}

const args = split(process.argv.slice(2));
if (args.help) {
  console.log(USAGE);
} else if (!(SUITES as readonly string[]).includes(args.suite)) {
  console.error(`--suite must be one of ${SUITES.join(', ')} (got "${args.suite}")\n\n${USAGE}`);
  process.exitCode = 2;
} else if (args.suite === 'core' && args.e2e.length + args.api.length > 0) {
  console.error(`${[...args.api, ...args.e2e].join(' ')}: not a flag of the core suite\n\n${USAGE}`);
  process.exitCode = 2;
} else if (args.suite === 'e2e' && args.core.length + args.api.length > 0) {
  console.error(`${[...args.core, ...args.api].join(' ')}: not a flag of the e2e suite\n\n${USAGE}`);
  process.exitCode = 2;
} else if (args.suite === 'api' && args.core.length + args.e2e.length > 0) {
  console.error(`${[...args.core, ...args.e2e].join(' ')}: not a flag of the api suite\n\n${USAGE}`);
  process.exitCode = 2;
} else {
  if (args.suite === 'core' || args.suite === 'all') {
    // bench/run.ts reads its flags from process.argv when it is loaded.
    process.argv = [process.argv[0]!, process.argv[1]!, ...args.core];
    console.log('== suite core: the mail core ==');
    await import('./run.js');
  }
  if (args.suite === 'api' || args.suite === 'all') {
    console.log('\n== suite api: the heaviest allowed API request ==');
    const { runHeavyRequest } = await import('./heavy-request.js');
    try {
      await runHeavyRequest([...args.api, '--built']);
    } catch (err) {
      console.error(`\nbench api failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
  }
  if (args.suite === 'e2e' || args.suite === 'all') {
    console.log('\n== suite e2e: Mailroom end to end ==');
    const { runE2e } = await import('./e2e/main.js');
    try {
      await runE2e(args.e2e);
    } catch (err) {
      // The message says what is missing or what timed out (with the worker's last output); a stack adds nothing.
      console.error(`\nbench e2e failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
  }
}
