// The connection policy (policy.ts) at the moment of connecting. Checking a
// host name once and connecting later would let DNS answer differently the
// second time (rebinding), so the check sits where the address is chosen: a
// `lookup` function for node:net / node:tls / node:https that resolves, drops
// every address the policy refuses and hands the socket only what is left.
// Node skips `lookup` for an IP literal, so those are checked up front
// (assertHostAllowed). Refusals are CONNECTION_NOT_ALLOWED, raised before any
// packet reaches the address: nothing about its ports can leak.
import dns, { type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { MailroomError } from '../errors.js';
import { checkAddress, checkHostLiteral, refusalMessage, type ConnectionPolicy, type Refusal } from './policy.js';

export function policyError(r: Refusal): MailroomError {
  return new MailroomError('CONNECTION_NOT_ALLOWED', refusalMessage(r));
}

/** Throws when `host` is an IP literal (in any spelling) the policy refuses; names are checked at lookup. */
export function assertHostAllowed(policy: ConnectionPolicy, host: string): void {
  const refused = checkHostLiteral(policy, host);
  if (refused) throw policyError(refused);
}

/** The addresses the policy allows; none left: the error names the first refused one. */
export function allowedAddresses(policy: ConnectionPolicy, host: string, addresses: readonly LookupAddress[]): LookupAddress[] {
  let first: Refusal | null = null;
  const allowed = addresses.filter((a) => {
    const refused = checkAddress(policy, host, a.address);
    first ??= refused;
    return refused === null;
  });
  if (allowed.length === 0 && first) throw policyError(first);
  return allowed;
}

type LookupAll = (host: string, options: dns.LookupAllOptions) => Promise<LookupAddress[]>;

/** Resolves `host` and keeps what the policy allows (the connection test connects to these itself). */
export async function resolveAllowed(policy: ConnectionPolicy, host: string, lookup: LookupAll = dns.promises.lookup): Promise<LookupAddress[]> {
  const family = isIP(host);
  if (family) {
    assertHostAllowed(policy, host);
    return [{ address: host, family }];
  }
  return allowedAddresses(policy, host, await lookup(host, { all: true }));
}

/** A `lookup` option for net/tls/http(s) connections that only ever yields allowed addresses. */
export function policyLookup(policy: ConnectionPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { family: options.family, hints: options.hints, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      let allowed: LookupAddress[];
      try {
        allowed = allowedAddresses(policy, hostname, addresses);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return callback(null, allowed);
      const first = allowed[0];
      return first ? callback(null, first.address, first.family) : callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    });
  };
}
