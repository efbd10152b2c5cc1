// The console's shapes, in a leaf file so its route modules and the plugin
// that registers them can share them without importing each other.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../../config/config.js';
import type { PrismaClient } from '../../db/prisma.js';
import type { IngestContext } from '../../ingest/types.js';
import type { Queues } from '../../queues/queues.js';
import type { Principal } from '../../tokens/principal.js';
import type { Html } from './html.js';
import type { Notice, PageContext } from './layout.js';

/** A logged-in console request: who, and the CSRF token of its session. */
export interface ConsoleAuth {
  principal: Principal;
  csrf: string;
}

/** What the console needs of the app's dependencies (AppDeps). */
export interface ConsoleOptions {
  db: PrismaClient;
  redis: Redis;
  config: Config;
  ingest: IngestContext;
  queues?: Queues;
}

export interface ConsoleDeps extends ConsoleOptions {
  /** The session of a request (set by the guard); throws when there is none. */
  auth(req: FastifyRequest): ConsoleAuth;
  /** The page context of a request: its auth and the notice left by the last redirect. */
  context(req: FastifyRequest, reply: FastifyReply, notice?: Notice | null): PageContext;
  /** POST → redirect → GET, carrying a short notice in a cookie of its own. */
  redirectWith(reply: FastifyReply, location: string, notice: Notice): FastifyReply;
  send(reply: FastifyReply, status: number, body: Html | string): FastifyReply;
}

