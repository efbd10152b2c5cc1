// Shared ground of the admin console tests: an app with its own queue prefix
// (the login sessions live under it), a logged-in session as a cookie, and the
// session's CSRF token read from a page the way a browser's form carries it.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { closeQueues, createQueues, createRedisConnection, type Queues } from '../../src/queues/queues.js';
import { buildTestApp, type TestApp } from './api.js';
import { testEnv } from './env.js';

/** What the console's tests (and the connection policy coming with MAILROOM_ALLOW_PRIVATE_HOSTS) need: the test Dovecot is on loopback. */
export const CONSOLE_TEST_ENV = { MAILROOM_ALLOW_PRIVATE_HOSTS: '127.0.0.1,::1,localhost' };

export interface ConsoleTestApp extends TestApp {
  queues: Queues;
  prefix: string;
}

export async function buildConsoleTestApp(env: Record<string, string> = {}): Promise<ConsoleTestApp> {
  const prefix = `${testEnv().queuePrefix}-console-${randomBytes(4).toString('hex')}`;
  const connection: Redis = createRedisConnection(testEnv().redisUrl);
  const queues = createQueues({ connection, prefix });
  const t = await buildTestApp({ queues, env: { MAILROOM_QUEUE_PREFIX: prefix, ...CONSOLE_TEST_ENV, ...env } });
  return {
    ...t,
    queues,
    prefix,
    close: async () => {
      await t.close();
      await closeQueues(queues);
      await connection.quit();
    },
  };
}

/** Logs in with a token through the login form; the session cookie (`name=value`). */
export async function loginCookie(app: FastifyInstance, token: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/admin/login', payload: new URLSearchParams({ token }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  if (res.statusCode !== 303) throw new Error(`login answered ${res.statusCode}`);
  return String(res.headers['set-cookie']).split(';')[0] ?? '';
}

/** The CSRF token in a page's forms. */
export function csrfOf(body: string): string {
  const m = /name="_csrf" value="([A-Za-z0-9_-]{43})"/.exec(body);
  if (!m?.[1]) throw new Error('no CSRF token on the page');
  return m[1];
}

export const form = (fields: Record<string, string>) => ({ payload: new URLSearchParams(fields).toString(), 'content-type': 'application/x-www-form-urlencoded' });
