// Process entry point of the `mailroom` command (bin/mailroom.js loads the build of
// this file). Maps outcomes to exit codes: 0 ok, 1 runtime failure, 2 usage error.
import { terminalLine, type CliEntry, type Out } from '../cli/io.js';
import { main } from '../cli/main.js';
import { describeError, isMailroomError } from '../errors.js';
import { createLogger } from '../logging/logger.js';
import { runServer } from './server.js';
import { createServices } from './services.js';

// terminalLine: whatever a command forgot to pass through printable(), no control sequence reaches the terminal.
// errWrite is the progress line's own (a carriage return redraws it), written as the reporter built it.
const io: Out = {
  out: (l) => process.stdout.write(terminalLine(l) + '\n'),
  err: (l) => process.stderr.write(terminalLine(l) + '\n'),
  errWrite: (t) => process.stderr.write(t),
  errIsTTY: process.stderr.isTTY === true,
};

const entry: CliEntry = {
  // A command's services: a small pool, and the log quiet unless asked (commands talk on stdout/stderr).
  services: (config, options = {}) => createServices(config, { logger: createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel }), dbPoolMax: 2, ...options }),
  runServer,
};

main(process.argv.slice(2), io, entry).then(
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
    // A part that had started before the failure (a listener retrying, a BullMQ worker) must not keep a failed command alive.
    setTimeout(() => process.exit(), 3_000).unref();
  },
);
