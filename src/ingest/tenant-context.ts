// What ingest needs to know about a tenant for every mail (its slug, system
// user, statuses, reopen rule, and every mailbox address for the own-address
// rule), and a small cache of it: a backlog asks the same thing thousands of
// times a minute. Entries live a few seconds, so a mailbox added or a setting
// changed is seen soon after.
import type { Db } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import type { TenantFacts } from './types.js';

export async function loadTenantContext(db: Db, tenantId: number): Promise<TenantFacts> {
  const tenant = await db.tenant.findUnique({
    where: { id: tenantId },
    select: {
      id: true,
      slug: true,
      reopen_on_reply: true,
      users: { where: { is_system: true }, select: { id: true }, take: 1 },
      statuses: { select: { id: true, key: true, is_closed: true } },
      mailboxes: { select: { address: true, aliases: true } },
    },
  });
  const system = tenant?.users[0];
  if (!tenant || !system) throw new MailroomError('INTERNAL', `Tenant ${tenantId} or its system user is missing`);
  return {
    id: tenant.id,
    slug: tenant.slug,
    reopenOnReply: tenant.reopen_on_reply,
    systemUserId: system.id,
    statusIds: new Map(tenant.statuses.map((s) => [s.key, { id: s.id, isClosed: s.is_closed }])),
    ownAddresses: tenant.mailboxes.flatMap((m) => [m.address, ...m.aliases]),
  };
}

export class TenantContextCache {
  private readonly entries = new Map<number, { at: number; value: Promise<TenantFacts> }>();

  constructor(private readonly ttlMs = 5_000, private readonly now: () => number = Date.now) {}

  get(db: Db, tenantId: number): Promise<TenantFacts> {
    const hit = this.entries.get(tenantId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = loadTenantContext(db, tenantId);
    const entry = { at: this.now(), value };
    this.entries.set(tenantId, entry);
    // A failed load is not kept: the next mail asks again.
    value.catch(() => {
      if (this.entries.get(tenantId) === entry) this.entries.delete(tenantId);
    });
    return value;
  }
}
