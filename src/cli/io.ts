// What a command gets from the process that runs it, in a leaf of its own so
// the commands (mailbox, parse, reprocess, status) and the dispatcher in
// main.ts import it from below instead of from each other or from src/main:
// where it writes (stdout, stderr lines), and the entry point's services —
// src/main/cli.ts assembles them (src/main/services.ts) and hands them in.
// And how text is made safe for a terminal: every string a tenant, a mail
// server or a token endpoint supplied is printed through printable() (or
// printableJson()), so an ESC sequence in a folder name or a server's NO text
// shows as `\u001b[2J` instead of clearing the screen.
import type { Redis, RedisOptions } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Db } from '../db/prisma.js';
import type { IngestContext } from '../ingest/types.js';
import type { AttachmentJobData, Queues } from '../queues/queues.js';
import { escapeControls, escapeControlsInLayout } from '../util/controls.js';

/** A tenant- or server-supplied value for the terminal: control characters (line breaks too) and bidi overrides as `\u001b`. */
export function printable(value: unknown): string {
  return escapeControls(String(value));
}

/** JSON for the terminal: still valid JSON (the escapes are JSON's own), with no raw DEL or C1 character. */
export function printableJson(value: unknown): string {
  return escapeControlsInLayout(JSON.stringify(value, null, 2));
}

/** The last guard, where lines reach the process's stdout/stderr: the CLI's own tabs and line breaks stay. */
export function terminalLine(line: string): string {
  return escapeControlsInLayout(line);
}

export type Out = {
  out: (line: string) => void;
  err: (line: string) => void;
  /** stderr as it is (no newline added), for a progress line redrawn in place; absent: line by line through err. */
  errWrite?: (text: string) => void;
  /** Whether stderr is a terminal (progress then redraws one line). */
  errIsTTY?: boolean;
};

/** The connections and contexts a command works with; close() ends them all. */
export interface CommandServices {
  readonly config: Config;
  readonly db: Db;
  readonly redis: Redis;
  readonly queues: Queues;
  readonly ingest: IngestContext;
  enqueueAttachments(rows: AttachmentJobData[]): Promise<void>;
  close(): Promise<void>;
}

export interface CommandServiceOptions {
  /** Extra ioredis options (status gives up on Redis quickly). */
  redis?: RedisOptions;
  /** Whether Redis trouble is logged (status reports it itself). */
  logRedisErrors?: boolean;
}

/** What the process entry point provides: the services of a command, and the long-running server. */
export interface CliEntry {
  services(config: Config, options?: CommandServiceOptions): CommandServices;
  runServer(config: Config, options: { role: 'api' | 'worker' | 'start' }): Promise<void>;
}
