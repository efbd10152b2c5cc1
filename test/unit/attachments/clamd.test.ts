// The clamd INSTREAM client against a stand-in clamd on a loopback port: it
// speaks the protocol's framing and answers like clamd does.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { clamdScanner, parseClamdUrl } from '../../../src/attachments/clamd.js';
import { isMailroomError } from '../../../src/errors.js';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Reads zINSTREAM and the length-prefixed chunks, then answers with `answer(stream)`. */
async function fakeClamd(answer: (stream: Buffer) => string): Promise<string> {
  const server = net.createServer((socket) => {
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const command = 'zINSTREAM\0';
      if (buf.length < command.length) return;
      let pos = command.length;
      const chunks: Buffer[] = [];
      while (pos + 4 <= buf.length) {
        const len = buf.readUInt32BE(pos);
        if (len === 0) {
          socket.end(`${answer(Buffer.concat(chunks))}\0`);
          return;
        }
        if (pos + 4 + len > buf.length) return;
        chunks.push(buf.subarray(pos + 4, pos + 4 + len));
        pos += 4 + len;
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as net.AddressInfo;
  return `tcp://127.0.0.1:${addr.port}`;
}

const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');

describe('clamd scanner', () => {
  it('streams the bytes in chunks and reads a clean or infected answer', async () => {
    let seen: Buffer = Buffer.alloc(0);
    const url = await fakeClamd((stream) => {
      seen = stream;
      return stream.includes(Buffer.from('EICAR')) ? 'stream: Eicar-Test-Signature FOUND' : 'stream: OK';
    });
    const scanner = clamdScanner(url);
    const big = Buffer.alloc(200 * 1024, 7);
    expect(await scanner.scan(big)).toEqual({ infected: false });
    expect(seen.equals(big)).toBe(true);
    expect(await scanner.scan(EICAR)).toEqual({ infected: true, signature: 'Eicar-Test-Signature' });
  });

  it('is a transient failure when clamd cannot be reached, a permanent one when it refuses the size', async () => {
    const closed = await fakeClamd(() => 'stream: OK');
    const port = Number(new URL(closed).port);
    await new Promise((r) => servers.pop()!.close(r));
    const err = await clamdScanner(`tcp://127.0.0.1:${port}`).scan(EICAR).catch((e: unknown) => e);
    expect(isMailroomError(err) && err.retryable).toBe(true);

    const tooBig = await fakeClamd(() => 'INSTREAM size limit exceeded. ERROR');
    const refusal = await clamdScanner(tooBig).scan(EICAR).catch((e: unknown) => e);
    expect(isMailroomError(refusal) && !refusal.retryable).toBe(true);
  });

  it('accepts only tcp://host:port', () => {
    expect(parseClamdUrl('tcp://clamav:3310')).toEqual({ host: 'clamav', port: 3310 });
    expect(parseClamdUrl('tcp://[::1]:3310')).toEqual({ host: '::1', port: 3310 });
    expect(() => parseClamdUrl('http://clamav:3310')).toThrow(/tcp:\/\/host:port/);
    expect(() => parseClamdUrl('tcp://clamav')).toThrow(/tcp:\/\/host:port/);
  });
});
