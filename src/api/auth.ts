// Bearer-token auth for the tenant routes, in the order PRODUCT.md fixes:
//   401 missing/invalid token → 403 another tenant's token or a role too low
//   → 400 bad path, query or body → 404 unknown id.
// A revoked or expired token is an invalid one (401). Its last use is noted by
// the token service, at most once a minute per token.
// Both checks run as onRequest hooks, so they answer before Fastify validates
// params, query or body. A tenant segment that is not a slug at all (e.g. one
// character) cannot name any tenant: that is a bad path (400), not a 403.
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { PrismaClient } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import { slugProblem } from '../tenants/defaults.js';
import type { Principal, Role } from '../tokens/principal.js';
import { authenticateToken } from '../tokens/service.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const RANK: Record<Role, number> = { USER: 1, ADMIN: 2 };

/**
 * The principal of a bearer token, or null when it is missing, unknown, revoked
 * or expired (src/tokens/service.ts: read from the database on every request,
 * no cache, so a revoke counts from the next request on).
 */
export async function principalFor(db: PrismaClient, header: string | undefined): Promise<Principal | null> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  return authenticateToken(db, match[1]);
}

/** onRequest hook: the request's token must belong to the path's tenant and have at least `role`. */
export function requireRole(db: PrismaClient, role: Role): onRequestHookHandler {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const principal = await principalFor(db, req.headers.authorization);
    if (!principal) throw new MailroomError('UNAUTHORIZED', 'Missing or invalid bearer token.');
    const params = req.params as { tenant?: string; version?: string };
    const tenant = params.tenant ?? '';
    const problem = slugProblem(tenant);
    if (problem) throw new MailroomError('VALIDATION', `tenant ${problem}`, { fields: [{ field: 'tenant', message: `tenant ${problem}` }] });
    if (tenant !== principal.tenantSlug) throw new MailroomError('FORBIDDEN', 'This token belongs to another tenant.');
    if (RANK[principal.role] < RANK[role]) throw new MailroomError('FORBIDDEN', `This route needs the ${role} role.`);
    if (params.version !== undefined && params.version !== '1') {
      throw new MailroomError('VALIDATION', 'version must be 1', { fields: [{ field: 'version', message: 'version must be 1' }] });
    }
    req.principal = principal;
  };
}

/** The principal set by requireRole (routes only run after it). */
export function principal(req: FastifyRequest): Principal {
  if (!req.principal) throw new MailroomError('UNAUTHORIZED', 'Missing or invalid bearer token.');
  return req.principal;
}
