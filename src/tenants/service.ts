// Tenant creation: the tenant, its statuses and its system user, in one transaction.
import type { PrismaClient } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import { DEFAULT_STATUSES, SYSTEM_USER, slugProblem } from './defaults.js';

export interface CreatedTenant {
  id: number;
  slug: string;
  name: string;
  systemUserId: number;
}

export async function createTenant(db: PrismaClient, input: { slug: string; name?: string }): Promise<CreatedTenant> {
  const problem = slugProblem(input.slug);
  if (problem) {
    throw new MailroomError('VALIDATION', `Tenant slug "${input.slug}" ${problem}.`, { fields: [{ field: 'slug', message: problem }] });
  }
  const existing = await db.tenant.findUnique({ where: { slug: input.slug } });
  if (existing) throw new MailroomError('CONFLICT', `Tenant "${input.slug}" already exists.`);
  return db.$transaction(async (tx) => {
    const tenant = await tx.tenant.create({ data: { slug: input.slug, name: input.name?.trim() || input.slug } });
    await tx.status.createMany({
      data: DEFAULT_STATUSES.map((s, position) => ({ ...s, position, tenant_id: tenant.id })),
    });
    const user = await tx.user.create({
      data: { tenant_id: tenant.id, email: SYSTEM_USER.email, name: SYSTEM_USER.name, is_system: true },
    });
    return { id: tenant.id, slug: tenant.slug, name: tenant.name, systemUserId: user.id };
  });
}

export async function requireTenant(db: PrismaClient, slug: string) {
  const tenant = await db.tenant.findUnique({ where: { slug } });
  if (!tenant) throw new MailroomError('NOT_FOUND', `Tenant "${slug}" does not exist.`);
  return tenant;
}
