// The optional virus scan (MAILROOM_CLAMD_URL=tcp://host:port): the bytes go to
// clamd over its INSTREAM command (a chunk = 4-byte big-endian length + data,
// a zero length ends the stream) and clamd answers "stream: OK" or
// "stream: <signature> FOUND". A scanner that cannot be reached is a transient
// failure (the job is retried); a refusal that retrying cannot change (the
// stream is larger than clamd's StreamMaxLength) is permanent.
import net from 'node:net';
import { MailroomError } from '../errors.js';

export type ScanResult = { readonly infected: false } | { readonly infected: true; readonly signature: string };

export interface Scanner {
  scan(bytes: Buffer): Promise<ScanResult>;
}

const CHUNK_BYTES = 64 * 1024;
const MAX_REPLY_BYTES = 4096;

export function parseClamdUrl(url: string): { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MailroomError('CONFIG_INVALID', 'MAILROOM_CLAMD_URL must look like tcp://host:port');
  }
  const port = Number(parsed.port);
  if (parsed.protocol !== 'tcp:' || !parsed.hostname || !Number.isInteger(port) || port < 1) {
    throw new MailroomError('CONFIG_INVALID', 'MAILROOM_CLAMD_URL must look like tcp://host:port');
  }
  // IPv6 literals come back bracketed from URL; net.connect wants them bare.
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

export function clamdScanner(url: string, options: { timeoutMs?: number } = {}): Scanner {
  const target = parseClamdUrl(url);
  const timeoutMs = options.timeoutMs ?? 60_000;
  return { scan: (bytes) => instream(target, bytes, timeoutMs) };
}

function instream(target: { host: string; port: number }, bytes: Buffer, timeoutMs: number): Promise<ScanResult> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(target);
    const reply: Buffer[] = [];
    let replyBytes = 0;
    let settled = false;
    const finish = (err: Error | null, result?: ScanResult) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else if (result) resolve(result);
    };
    const unreachable = (why: string, cause?: unknown) =>
      finish(new MailroomError('INTERNAL', `The virus scanner at ${target.host}:${target.port} cannot be used: ${why}.`, { retryable: true, cause }));

    socket.setTimeout(timeoutMs, () => unreachable('it did not answer in time'));
    socket.on('error', (err) => unreachable(err.message, err));
    socket.on('connect', () => {
      socket.write('zINSTREAM\0');
      for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
        const chunk = bytes.subarray(at, at + CHUNK_BYTES);
        const length = Buffer.alloc(4);
        length.writeUInt32BE(chunk.length);
        socket.write(length);
        socket.write(chunk);
      }
      socket.write(Buffer.alloc(4));
    });
    socket.on('data', (d: Buffer) => {
      reply.push(d);
      replyBytes += d.length;
      if (d.includes(0) || replyBytes > MAX_REPLY_BYTES) settle();
    });
    socket.on('end', settle);
    socket.on('close', () => unreachable('it closed the connection without an answer'));

    function settle() {
      const text = Buffer.concat(reply).toString('utf8').split('\0')[0]?.trim() ?? '';
      const found = /^stream: (.+) FOUND$/.exec(text);
      if (found?.[1]) return finish(null, { infected: true, signature: found[1] });
      if (text === 'stream: OK') return finish(null, { infected: false });
      if (/size limit exceeded/i.test(text)) {
        return finish(new MailroomError('INTERNAL', `The virus scanner refused the file: ${text}.`, { retryable: false }));
      }
      unreachable(text === '' ? 'it gave no answer' : `it answered "${text.slice(0, 200)}"`);
    }
  });
}
