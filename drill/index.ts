// `npm run drill [-- flags]`: see drill/main.ts and the "Fault drills" section of bench/README.md.
import { DRILL_USAGE, formatDrillTable, parseDrillOptions, runDrill } from './main.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(DRILL_USAGE);
} else {
  let opts;
  try {
    opts = parseDrillOptions(argv);
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n\n${DRILL_USAGE}`);
    process.exit(2);
  }
  try {
    const results = await runDrill(opts);
    console.log(`\n${formatDrillTable(results)}`);
    const failed = results.filter((r) => !r.ok);
    console.log(failed.length === 0 ? '\nevery fault: 0 lost, 0 duplicated, 0 stuck' : `\n${failed.length} fault(s) broke a guarantee: ${failed.map((r) => r.fault).join(', ')}`);
    process.exitCode = failed.length === 0 ? 0 : 1;
  } catch (err) {
    console.error(`\ndrill failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
