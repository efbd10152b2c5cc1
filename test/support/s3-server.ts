// A real S3 API for tests: s3rver (an S3 server in JavaScript) on a free
// loopback port with a throw-away directory, plus a log of the requests it
// receives so tests can see what the store sent (and what it did not).
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The part of s3rver's API these tests use (the package ships no types). */
interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: { address: string; port: number; directory: string; silent: boolean; configureBuckets?: { name: string }[] }) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

/** s3rver checks signatures against these fixed credentials. */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } as const;

export interface LoggedRequest {
  readonly method: string;
  /** Path and query as sent (path style: `/<bucket>/<key>`). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface TestS3Server {
  readonly endpoint: string;
  readonly requests: LoggedRequest[];
  stop(): Promise<void>;
}

export async function startS3Server(buckets: string[]): Promise<TestS3Server> {
  const directory = await mkdtemp(path.join(tmpdir(), 'mailroom-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: buckets.map((name) => ({ name })) });
  let stopped = false;
  try {
    const { port } = await server.run();
    const requests: LoggedRequest[] = [];
    server.httpServer?.on('request', (req: { method?: string; url?: string; headers: LoggedRequest['headers'] }) => {
      requests.push({ method: req.method ?? '', url: decodeURI(req.url ?? ''), headers: req.headers });
    });
    return {
      endpoint: `http://127.0.0.1:${port}`,
      requests,
      async stop() {
        if (stopped) return;
        stopped = true;
        server.httpServer?.closeAllConnections();
        await server.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
}
