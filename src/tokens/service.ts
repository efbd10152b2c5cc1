// Creating API tokens for a tenant: a token belongs to a user (the one named, created
// on first use, or the tenant's system user) and has a role, USER or ADMIN.
import type { PrismaClient } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import { requireTenant } from '../tenants/service.js';
import type { Role } from './principal.js';
import { generateToken, hashToken, tokenDisplayPrefix } from './tokens.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface CreatedToken {
  id: number;
  token: string;
  role: Role;
  tenantSlug: string;
  userEmail: string;
}

export async function createToken(db: PrismaClient, input: { tenantSlug: string; role: Role; userEmail?: string }): Promise<CreatedToken> {
  const tenant = await requireTenant(db, input.tenantSlug);
  let user;
  if (input.userEmail !== undefined) {
    const email = input.userEmail.trim().toLowerCase();
    if (!EMAIL.test(email)) {
      throw new MailroomError('VALIDATION', `"${input.userEmail}" is not an email address.`, { fields: [{ field: 'user', message: 'must be an email address' }] });
    }
    user = await db.user.upsert({
      where: { tenant_id_email: { tenant_id: tenant.id, email } },
      create: { tenant_id: tenant.id, email, name: email.split('@')[0] ?? email },
      update: {},
    });
  } else {
    user = await db.user.findFirst({ where: { tenant_id: tenant.id, is_system: true } });
    if (!user) throw new MailroomError('NOT_FOUND', `Tenant "${tenant.slug}" has no system user.`);
  }
  const token = generateToken();
  const row = await db.apiToken.create({
    data: { tenant_id: tenant.id, user_id: user.id, role: input.role, token_hash: hashToken(token), token_prefix: tokenDisplayPrefix(token) },
  });
  return { id: row.id, token, role: input.role, tenantSlug: tenant.slug, userEmail: user.email };
}
