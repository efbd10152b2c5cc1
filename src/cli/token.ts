// `mailroom token create|list|revoke`: an operator's side of the API token life
// cycle (PRODUCT.md). The token itself is printed once, by `create`, alone on
// the last line of stdout (for scripts); lists show its prefix, never the
// token. Like `mailbox show|remove ID`, `revoke ID` takes the global id the
// list prints; `--tenant SLUG` there is an optional guard (the id must belong
// to that tenant). The API's /tokens routes call the same service.
import { requireTenant } from '../tenants/service.js';
import { DURATION_HINT, parseDuration } from '../tokens/lifecycle.js';
import type { Role } from '../tokens/principal.js';
import { createToken, listTokens, revokeToken, type TokenView } from '../tokens/service.js';
import { printable, printableJson, type CommandServices, type Out } from './io.js';
import { parseCommandArgs, usageError } from './usage.js';

export interface TokenCommandDeps {
  services: () => CommandServices;
}

const SUBCOMMANDS = 'create, list or revoke';

export async function runTokenCommand(args: string[], io: Out, deps: TokenCommandDeps): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create':
      return create(rest, io, deps);
    case 'list': {
      const { values } = parseCommandArgs(rest, { tenant: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
      return withServices(deps, async ({ db }) => {
        const tenantId = values.tenant === undefined ? undefined : (await requireTenant(db, values.tenant)).id;
        const { tokens } = await listTokens(db, { tenantId });
        if (values.json) io.out(printableJson(tokens));
        else if (tokens.length === 0) io.out(values.tenant ? `Tenant ${printable(values.tenant)} has no API tokens.` : 'No API tokens.');
        else io.out(tokenTable(tokens));
        return 0;
      });
    }
    case 'revoke': {
      const { values, positionals } = parseCommandArgs(rest, { tenant: { type: 'string' } }, { min: 1, max: 1, names: 'token ID (token revoke ID)' });
      const id = tokenId(positionals[0] ?? '');
      return withServices(deps, async ({ db }) => {
        const tenantId = values.tenant === undefined ? undefined : (await requireTenant(db, values.tenant)).id;
        const { token, alreadyRevoked } = await revokeToken(db, id, { tenantId });
        io.out(
          alreadyRevoked
            ? `Token ${token.id} (${token.role}, ${printable(token.user)}, tenant ${token.tenant}) was already revoked at ${token.revoked_at}.`
            : `Revoked token ${token.id} (${token.role}, ${printable(token.user)}, tenant ${token.tenant}); it is refused from the next request on.`,
        );
        return 0;
      });
    }
    case undefined:
      throw usageError(`Missing sub-command: token ${SUBCOMMANDS}.`);
    default:
      throw usageError(`Unknown sub-command "token ${sub}"; use ${SUBCOMMANDS}.`);
  }
}

async function create(rest: string[], io: Out, deps: TokenCommandDeps): Promise<number> {
  const { values } = parseCommandArgs(
    rest,
    { tenant: { type: 'string' }, role: { type: 'string' }, user: { type: 'string' }, 'expires-in': { type: 'string' } },
    { min: 0, max: 0, names: '' },
  );
  if (!values.tenant) throw usageError('Missing --tenant SLUG.');
  const role = values.role?.toUpperCase();
  if (role !== 'USER' && role !== 'ADMIN') throw usageError('--role must be USER or ADMIN.');
  let expiresInMs: number | undefined;
  if (values['expires-in'] !== undefined) {
    expiresInMs = parseDuration(values['expires-in']) ?? undefined;
    if (expiresInMs === undefined) throw usageError(`--expires-in must be ${DURATION_HINT}.`);
  }
  return withServices(deps, async ({ db }) => {
    const created = await createToken(db, { tenantSlug: values.tenant ?? '', role: role as Role, userEmail: values.user, expiresInMs });
    const expiry = created.expires_at ? `expires ${created.expires_at}` : 'does not expire';
    io.err(`Created ${created.role} token ${created.id} for ${printable(created.user)} in tenant ${created.tenant} (${expiry}); it is shown only once:`);
    io.out(created.token);
    return 0;
  });
}

function tokenId(text: string): number {
  if (!/^[1-9]\d{0,9}$/.test(text) || Number(text) > 2_147_483_647) throw usageError(`"${printable(text)}" is not a token id (a positive whole number).`);
  return Number(text);
}

async function withServices(deps: TokenCommandDeps, fn: (services: CommandServices) => Promise<number>): Promise<number> {
  const services = deps.services();
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

const minute = (iso: string | null) => (iso === null ? '-' : iso.slice(0, 16).replace('T', ' '));

/** The human list: one line per token, times in UTC to the minute, user names escaped. */
export function tokenTable(tokens: TokenView[]): string {
  const rows = tokens.map((t) => [String(t.id), t.tenant, t.role, printable(t.user), t.token_prefix + '…', minute(t.created), minute(t.last_used_at), minute(t.expires_at), t.state]);
  const header = ['ID', 'TENANT', 'ROLE', 'USER', 'TOKEN', 'CREATED', 'LAST USED', 'EXPIRES', 'STATE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
