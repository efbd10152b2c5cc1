// API tokens over HTTP (ADMIN only): a tenant's admins list, create and revoke
// the tenant's tokens without an operator's shell — the same service as
// `mailroom token ...`. A new token is in the answer of its POST and nowhere
// else; lists show its prefix, role, user, times and state. Another tenant's
// token id is not found (404), after the usual 401/403/400 of requireRole and
// the validator.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {} from '@fastify/swagger';
import { z } from 'zod';
import { INT32_MAX, intParam } from '../../conversations/input.js';
import type { PageRequest } from '../../db/page.js';
import type { PrismaClient } from '../../db/prisma.js';
import { DURATION_HINT, parseDuration } from '../../tokens/lifecycle.js';
import { createToken, getToken, listTokens, revokeToken } from '../../tokens/service.js';
import { principal, requireRole } from '../auth.js';
import { pageMeta, pageOf, pageQuery } from '../kit/paging.js';
import { tenantParams, wrappedResponses } from '../kit/schemas.js';
import { wrap } from '../kit/wrap.js';

export interface TokenRoutesOptions {
  db: PrismaClient;
}

const TAGS = ['tokens'];

const listParams = z.object(tenantParams);
const tokenParams = z.object({ ...tenantParams, id: intParam(1, INT32_MAX, 'The token id') });
type TokenParams = z.output<typeof tokenParams>;

/** Every field is checked, and an unknown one is named (`scope is not a token field`), all in one answer. */
const createShape = {
  role: z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be USER or ADMIN') })
    .transform((v) => v.toUpperCase())
    .pipe(z.enum(['USER', 'ADMIN'], { error: 'must be USER or ADMIN' }))
    .meta({ description: 'USER or ADMIN' }),
  user: z.string({ error: 'must be an email address' }).optional().meta({ description: "the token's user (created on first use); default: the tenant's system user" }),
  expires_in: z
    .string({ error: `must be ${DURATION_HINT}` })
    .nullable()
    .optional()
    .refine((v) => v === undefined || v === null || parseDuration(v) !== null, `must be ${DURATION_HINT}`)
    .meta({ description: `how long the token lives (${DURATION_HINT}); absent or null: it does not expire` }),
};
const createBody = z
  .looseObject(createShape, { error: 'must be object' })
  .superRefine(
    (body, ctx) => {
      for (const key of Object.keys(body)) if (!(key in createShape)) ctx.addIssue({ code: 'custom', path: [key], message: 'is not a token field' });
    },
    // Also when another field is bad, so one answer names every problem.
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );
type CreateBody = z.output<typeof createBody>;

const nullableTime = { type: ['string', 'null'], format: 'date-time' };
const tokenProperties = {
  id: { type: 'integer' },
  tenant: { type: 'string' },
  role: { type: 'string', enum: ['USER', 'ADMIN'] },
  user: { type: 'string', description: "the email of the token's user" },
  token_prefix: { type: 'string', description: 'the first characters of the token, to recognise it by' },
  created: { type: 'string', format: 'date-time' },
  last_used_at: { ...nullableTime, description: 'to the minute: written at most once a minute' },
  expires_at: nullableTime,
  revoked_at: nullableTime,
  state: { type: 'string', enum: ['active', 'expired', 'revoked'] },
};
const tokenSchema = { type: 'object', description: 'An API token as lists show it: never the token itself.', properties: tokenProperties } as const;
const createdSchema = {
  type: 'object',
  description: 'The new token: `token` is shown in this answer only.',
  properties: { ...tokenProperties, token: { type: 'string', description: 'the bearer token; store it now, it is not shown again' } },
} as const;

const tenantOf = (req: FastifyRequest) => ({ tenantId: principal(req).tenantId });

export async function tokenRoutes(app: FastifyInstance, opts: TokenRoutesOptions): Promise<void> {
  const { db } = opts;
  app.addHook('onRequest', requireRole(db, 'ADMIN'));

  app.get<{ Querystring: PageRequest }>(
    '/tokens',
    { schema: { tags: TAGS, summary: "The tenant's API tokens, oldest first", params: listParams, querystring: pageQuery, response: wrappedResponses({ type: 'array', items: tokenSchema }, 'tokens, oldest first', { paged: true }) } },
    async (req) => {
      const page = pageOf(req.query);
      const { tokens, total } = await listTokens(db, { ...tenantOf(req), page });
      return wrap(req, tokens, pageMeta(page, total));
    },
  );

  app.get<{ Params: TokenParams }>(
    '/tokens/:id',
    { schema: { tags: TAGS, summary: 'One API token', params: tokenParams, response: wrappedResponses(tokenSchema, 'the token') } },
    async (req) => wrap(req, await getToken(db, req.params.id, tenantOf(req))),
  );

  app.post<{ Body: CreateBody }>(
    '/tokens',
    {
      schema: {
        tags: TAGS,
        summary: 'Create an API token of the tenant; the answer is the only time the token is shown',
        params: listParams,
        body: createBody,
        response: wrappedResponses(createdSchema, 'the new token, with `token`'),
      },
    },
    async (req) => {
      const { role, user, expires_in } = req.body;
      const expiresInMs = expires_in === undefined || expires_in === null ? undefined : (parseDuration(expires_in) ?? undefined);
      const created = await createToken(db, { tenantSlug: principal(req).tenantSlug, role, userEmail: user, expiresInMs });
      req.log.info({ tokenId: created.id, role: created.role, by: principal(req).tokenId }, 'api token created');
      return wrap(req, created);
    },
  );

  app.delete<{ Params: TokenParams }>(
    '/tokens/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Revoke an API token: it answers 401 from the next request on',
        description: 'Revoking a revoked token changes nothing and answers the token as it is.',
        params: tokenParams,
        response: wrappedResponses(tokenSchema, 'the revoked token'),
      },
    },
    async (req) => {
      const { token, alreadyRevoked } = await revokeToken(db, req.params.id, tenantOf(req));
      if (!alreadyRevoked) req.log.info({ tokenId: token.id, by: principal(req).tokenId }, 'api token revoked');
      return wrap(req, token);
    },
  );
}
