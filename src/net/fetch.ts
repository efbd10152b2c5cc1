// A `fetch` for requests made on a tenant's behalf (the OAuth2 token
// endpoint), on node:http(s) because global fetch offers no `lookup`: every
// connection goes through the connection policy (resolve.ts), a fresh socket
// each time (a pooled one might have been opened without the policy),
// redirects are not followed (a 30x to http://127.0.0.1 would step around the
// policy) and the body is read up to a bound.
import http from 'node:http';
import https from 'node:https';
import { MailroomError } from '../errors.js';
import type { ConnectionPolicy } from './policy.js';
import { assertHostAllowed, policyLookup } from './resolve.js';

export type FetchFn = typeof globalThis.fetch;

/** A token response is a few KB; more is not read. */
const MAX_BODY_BYTES = 64 * 1024;
const NULL_BODY = new Set([101, 204, 205, 304]);

export function policyFetch(policy: ConnectionPolicy): FetchFn {
  const lookup = policyLookup(policy);
  const fetchFn = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    assertHostAllowed(policy, url.hostname);
    if (url.username || url.password) throw new MailroomError('CONNECTION_NOT_ALLOWED', 'A URL with a user name or password is not used.');
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null;
    if (!client) throw new MailroomError('CONNECTION_NOT_ALLOWED', `Only http(s) URLs are fetched, not ${url.protocol}.`);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = typeof init.body === 'string' ? init.body : init.body == null ? undefined : String(init.body as unknown);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      const req = client.request(url, { method: init.method ?? 'GET', headers, lookup, agent: false, signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY_BYTES) chunks.push(chunk);
          else res.destroy();
        });
        const done = () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 599) return reject(new Error(`unexpected HTTP status ${status}`));
          const responseHeaders = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') responseHeaders.set(k, v);
          resolve(new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), { status, headers: responseHeaders }));
        };
        res.on('end', done);
        res.on('close', done); // cut at MAX_BODY_BYTES: what was read is the body (a second settle is ignored)
        res.on('error', reject);
      });
      // An aborted signal rejects with its own reason (a TimeoutError for AbortSignal.timeout), as fetch does.
      req.on('error', (err) => reject(signal?.aborted ? (signal.reason as Error) : err));
      req.end(body);
    });
  };
  return fetchFn as FetchFn;
}
