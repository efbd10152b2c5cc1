// Tenants never mix, and roles hold, on EVERY tenant route: the routes are
// read from the built app itself (printRoutes), so a route added later is
// walked without touching this test. Another tenant's token gets 403 whether
// or not the path's tenant exists; a USER token gets 403 on the ADMIN routes
// (PRODUCT.md: mailbox admin) and is let through auth everywhere else.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, createApiTenant, type ApiTenant, type TestApp } from '../support/api.js';

interface Route {
  method: string;
  path: string;
}

/**
 * The routes of `app.printRoutes({ commonPrefix: false })`: a tree drawn with
 * `├── ` / `└── ` after 4 characters per level, each node a path segment
 * followed by its methods in parentheses when it is a route.
 */
export function parseRouteTree(tree: string): Route[] {
  const stack: string[] = [];
  const routes: Route[] = [];
  for (const line of tree.split('\n')) {
    const m = /^(.*?)(?:├── |└── )(.*)$/u.exec(line);
    if (!m) continue;
    const depth = Math.floor([...(m[1] ?? '')].length / 4);
    const node = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(m[2] ?? '');
    const segment = node?.[1] ?? '';
    stack.length = depth;
    const path = (stack.join('') + segment).replace(/\/{2,}/g, '/');
    stack.push(segment);
    for (const method of (node?.[2] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) routes.push({ method, path });
  }
  return routes;
}

const TENANT_PREFIX = '/api/:tenant/v:version';
/** ADMIN routes per PRODUCT.md's route table. */
const ADMIN_ROUTE = /^\/api\/:tenant\/v:version\/(?:mailboxes|tokens)(?:\/|$)/;
/** Authorised by a signed URL, not a token: any token is irrelevant there and a bogus signature is a 403 for everyone. */
const SIGNED_URL_ROUTE = /\/attachments\/:[^/]+\/download$/;
const QUERY = `?expires=4102444800&sig=${'0'.repeat(64)}`;

function concrete(path: string, tenant: string): string {
  return path
    .replace(':tenant', tenant)
    .replace(':version', '1')
    .replace(/:[A-Za-z_]+/g, '1')
    .replace(/\*/g, 'x');
}

let t: TestApp;
let mine: ApiTenant;
let theirs: ApiTenant;
let routes: Route[];

beforeAll(async () => {
  t = await buildTestApp();
  mine = await createApiTenant(t.db, 'walk-a');
  theirs = await createApiTenant(t.db, 'walk-b');
  routes = parseRouteTree(t.app.printRoutes({ commonPrefix: false })).filter((r) => r.method !== 'HEAD' && r.path.startsWith(TENANT_PREFIX));
});
afterAll(async () => {
  await t?.close();
});

async function call(route: Route, tenant: string, token: string) {
  const payload = ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined;
  const res = await t.app.inject({ method: route.method as 'GET', url: concrete(route.path, tenant) + QUERY, headers: bearer(token), ...(payload ? { payload } : {}) });
  return res.statusCode;
}

describe('every tenant route', () => {
  it('is found by walking the app (the known routes are among them)', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        `POST ${TENANT_PREFIX}/ticket_conversations/:ticket_id`,
        `GET ${TENANT_PREFIX}/ticket_conversations/:ticket_id`,
        `GET ${TENANT_PREFIX}/tickets`,
        `GET ${TENANT_PREFIX}/tickets/:id`,
      ]),
    );
  });

  it("answers 403 to another tenant's USER and ADMIN token, whether or not the path's tenant exists", async () => {
    const ghost = `ghost-${randomBytes(4).toString('hex')}`;
    for (const route of routes) {
      const name = `${route.method} ${route.path}`;
      expect(await call(route, mine.slug, theirs.userToken), `${name} (USER of another tenant)`).toBe(403);
      expect(await call(route, mine.slug, theirs.adminToken), `${name} (ADMIN of another tenant)`).toBe(403);
      expect(await call(route, ghost, theirs.adminToken), `${name} (tenant that does not exist)`).toBe(403);
    }
  });

  it('answers 403 to a USER token on ADMIN routes, and lets it past auth on the others', async () => {
    const admin = routes.filter((r) => ADMIN_ROUTE.test(r.path));
    expect(admin.length).toBeGreaterThan(0);
    for (const route of routes) {
      const name = `${route.method} ${route.path}`;
      const status = await call(route, mine.slug, mine.userToken);
      if (ADMIN_ROUTE.test(route.path)) expect(status, name).toBe(403);
      else if (!SIGNED_URL_ROUTE.test(route.path)) expect([401, 403], `${name} answered ${status}`).not.toContain(status);
    }
  });
});
