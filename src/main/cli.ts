// Process entry point of the `mailroom` command (bin/mailroom.js loads the build of
// this file). Maps outcomes to exit codes: 0 ok, 1 runtime failure, 2 usage error.
import type { Out } from '../cli/io.js';
import { main } from '../cli/main.js';
import { describeError, isMailroomError } from '../errors.js';

const io: Out = { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') };

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isMailroomError(err, 'USAGE')) {
      io.err(`mailroom: ${err.message}`);
      io.err('Run "mailroom --help" for usage.');
      process.exitCode = 2;
    } else {
      io.err(`mailroom: ${describeError(err)}`);
      process.exitCode = 1;
    }
  },
);
