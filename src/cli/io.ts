// Where a command writes: its lines for stdout and stderr. A leaf of its own so
// the commands (mailbox, parse, reprocess, status) and the dispatcher in
// main.ts import it from below instead of from each other.
export type Out = { out: (line: string) => void; err: (line: string) => void };
