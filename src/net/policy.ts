// The connection policy: where a tenant may make Mailroom connect. A tenant
// admin chooses a mailbox's host and an OAuth2 token URL, so without a rule
// they could aim the server at its own loopback, the database, Redis or any
// machine of the private network and read open/closed/which-service from the
// answers (SSRF). So every outbound connection made for a tenant goes through
// this decision, on the address actually connected to (after DNS, on every
// connect: see resolve.ts), and refuses loopback, private, link-local, CGNAT,
// multicast, unspecified, broadcast and reserved addresses, including their
// IPv4-mapped IPv6 forms, unless the operator's MAILROOM_ALLOW_PRIVATE_HOSTS
// names the host or a CIDR holding the address. Pure: values in, values out.
import { isIPv4, isIPv6 } from 'node:net';

export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'cgnat' | 'multicast' | 'unspecified' | 'broadcast' | 'reserved';

interface Net {
  /** 128 bits; IPv4 as its IPv4-mapped IPv6 form (::ffff:a.b.c.d). */
  readonly base: bigint;
  readonly prefix: number;
}

export interface ConnectionPolicy {
  /** Host names allowed whatever they resolve to (lower case, no trailing dot); `*.example` allows its subdomains. */
  readonly hosts: readonly string[];
  readonly nets: readonly Net[];
}

/** MAILROOM_ALLOW_PRIVATE_HOSTS unset: nothing internal is allowed. */
export const STRICT_POLICY: ConnectionPolicy = Object.freeze({ hosts: Object.freeze([]), nets: Object.freeze([]) });

export const ALLOW_VARIABLE = 'MAILROOM_ALLOW_PRIVATE_HOSTS';

const MAPPED = 0xffff00000000n;
const ALL = (1n << 128n) - 1n;

function parseV4Strict(text: string): bigint | null {
  if (!isIPv4(text)) return null;
  return MAPPED | BigInt(text.split('.').reduce((acc, p) => acc * 256 + Number(p), 0));
}

function parseV6(text: string): bigint | null {
  if (!isIPv6(text)) return null;
  let t = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4?.[1]) {
    const n = Number((parseV4Strict(v4[1]) ?? 0n) & 0xffffffffn);
    t = t.slice(0, -v4[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = t.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/**
 * An IPv4 address in any spelling inet_aton (and so getaddrinfo) accepts:
 * 1 to 4 parts, each decimal, octal (leading 0) or hex (0x), the last part
 * filling the remaining bytes: `127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`.
 */
export function parseIpv4Loose(text: string): string | null {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return null;
  const values: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0x[0-9a-f]+$/i.test(p)) v = parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = parseInt(p, 8);
    else if (/^[1-9]\d*$/.test(p)) v = Number(p);
    else return null;
    if (!Number.isSafeInteger(v)) return null;
    values.push(v);
  }
  const last = values.pop() ?? 0;
  if (values.some((v) => v > 255) || last >= 2 ** (8 * (4 - values.length))) return null;
  const n = values.reduce((acc, v, i) => acc + v * 2 ** (8 * (3 - i)), 0) + last;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The address a host denotes when it is an IP literal in any spelling (brackets allowed), else null. */
export function ipLiteral(host: string): string | null {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (isIPv6(h)) return h.toLowerCase();
  return parseIpv4Loose(h);
}

function toBigInt(address: string): bigint | null {
  return parseV4Strict(address) ?? parseV6(address.replace(/^\[(.*)\]$/, '$1'));
}

const inNet = (a: bigint, n: Net) => n.prefix === 0 || a >> BigInt(128 - n.prefix) === n.base >> BigInt(128 - n.prefix);
const v4 = (cidr: string): Net => {
  const [ip = '', bits = '32'] = cidr.split('/');
  return { base: parseV4Strict(ip) ?? 0n, prefix: 96 + Number(bits) };
};
const v6 = (cidr: string): Net => {
  const [ip = '', bits = '128'] = cidr.split('/');
  return { base: parseV6(ip) ?? 0n, prefix: Number(bits) };
};

// Most specific first: 255.255.255.255 before 240/4.
const V4_RANGES: readonly [Net, AddressKind][] = [
  [v4('0.0.0.0/8'), 'unspecified'],
  [v4('10.0.0.0/8'), 'private'],
  [v4('100.64.0.0/10'), 'cgnat'],
  [v4('127.0.0.0/8'), 'loopback'],
  [v4('169.254.0.0/16'), 'link-local'],
  [v4('172.16.0.0/12'), 'private'],
  [v4('192.0.0.0/24'), 'reserved'],
  [v4('192.0.2.0/24'), 'reserved'],
  [v4('192.168.0.0/16'), 'private'],
  [v4('198.18.0.0/15'), 'reserved'],
  [v4('198.51.100.0/24'), 'reserved'],
  [v4('203.0.113.0/24'), 'reserved'],
  [v4('224.0.0.0/4'), 'multicast'],
  [v4('255.255.255.255/32'), 'broadcast'],
  [v4('240.0.0.0/4'), 'reserved'],
];

const V6_RANGES: readonly [Net, AddressKind][] = [
  [v6('::/128'), 'unspecified'],
  [v6('::1/128'), 'loopback'],
  [v6('::/96'), 'reserved'], // IPv4-compatible (deprecated)
  [v6('64:ff9b:1::/48'), 'private'], // local-use NAT64
  [v6('100::/64'), 'reserved'], // discard
  [v6('2001::/32'), 'reserved'], // Teredo
  [v6('2001:db8::/32'), 'reserved'], // documentation
  [v6('fc00::/7'), 'private'], // unique local
  [v6('fe80::/10'), 'link-local'],
  [v6('fec0::/10'), 'private'], // site-local (deprecated)
  [v6('ff00::/8'), 'multicast'],
];

const MAPPED_NET = v6('::ffff:0:0/96');
const NAT64 = v6('64:ff9b::/96');
const SIX_TO_FOUR = v6('2002::/16');
const GLOBAL_UNICAST = v6('2000::/3');

function classifyBits(a: bigint): AddressKind {
  if (inNet(a, MAPPED_NET)) return V4_RANGES.find(([n]) => inNet(a, n))?.[1] ?? 'public';
  // Forms that carry an IPv4 address: judged by the address they reach.
  if (inNet(a, NAT64)) return classifyBits(MAPPED | (a & 0xffffffffn));
  if (inNet(a, SIX_TO_FOUR)) return classifyBits(MAPPED | ((a >> 80n) & 0xffffffffn));
  const special = V6_RANGES.find(([n]) => inNet(a, n))?.[1];
  if (special) return special;
  return inNet(a, GLOBAL_UNICAST) ? 'public' : 'reserved';
}

/** What kind of address this is; anything that is not an IP address is `reserved` (never connected to). */
export function classifyAddress(address: string): AddressKind {
  const a = toBigInt(address) ?? toBigInt(parseIpv4Loose(address) ?? '');
  return a === null ? 'reserved' : classifyBits(a);
}

const normalHost = (host: string) => host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');

/** Whether the operator allowed this host by name (not by address). */
export function hostAllowedByName(policy: ConnectionPolicy, host: string): boolean {
  const h = normalHost(host);
  if (policy.hosts.some((entry) => (entry.startsWith('*.') ? h.endsWith(entry.slice(1)) : h === entry))) return true;
  const literal = ipLiteral(h);
  const a = literal === null ? null : toBigInt(literal);
  return a !== null && policy.nets.some((n) => inNet(a, n));
}

export interface Refusal {
  readonly host: string;
  readonly address: string;
  readonly kind: Exclude<AddressKind, 'public'>;
}

/** null: Mailroom may connect to `address` for `host`; else why not. */
export function checkAddress(policy: ConnectionPolicy, host: string, address: string): Refusal | null {
  const kind = classifyAddress(address);
  if (kind === 'public') return null;
  if (hostAllowedByName(policy, host)) return null;
  const a = toBigInt(address);
  if (a !== null && policy.nets.some((n) => inNet(a, n))) return null;
  return { host, address, kind };
}

/** For a host that is an IP literal (any spelling): whether it is refused. Host names are decided after DNS. */
export function checkHostLiteral(policy: ConnectionPolicy, host: string): Refusal | null {
  const literal = ipLiteral(host);
  return literal === null ? null : checkAddress(policy, host, literal);
}

const KIND_TEXT: Record<Refusal['kind'], string> = {
  loopback: 'a loopback',
  private: 'a private',
  'link-local': 'a link-local',
  cgnat: 'a carrier-grade NAT (shared)',
  multicast: 'a multicast',
  unspecified: 'an unspecified',
  broadcast: 'a broadcast',
  reserved: 'a reserved',
};

/** One sentence naming the policy and the variable; nothing about ports. */
export function refusalMessage(r: Refusal): string {
  const literal = ipLiteral(r.host);
  const what = literal !== null && normalHost(r.host) === r.address.toLowerCase() ? `${r.address} is` : `${r.host} resolves to ${r.address},`;
  return `${what} ${KIND_TEXT[r.kind]} address; Mailroom refuses private, loopback and link-local addresses unless ${ALLOW_VARIABLE} allows them.`;
}

/**
 * What is wrong with an OAuth2 token URL, or null: it must parse, carry no
 * user:password, be https:// (http:// only to a host the operator allowed),
 * and not be an IP literal the policy refuses. Names the problem, never the URL.
 */
export function tokenUrlProblem(policy: ConnectionPolicy, url: string): string | null {
  const shape = tokenUrlShapeProblem(url);
  if (shape) return shape;
  const u = new URL(url);
  if (u.protocol === 'http:' && !hostAllowedByName(policy, u.hostname)) return `must be an https:// URL (http:// only to a host ${ALLOW_VARIABLE} allows)`;
  // The URL parser already turned 127.1, 0x7f000001 and 2130706433 into 127.0.0.1.
  const refused = checkHostLiteral(policy, u.hostname);
  return refused ? refusalMessage(refused) : null;
}

/** The part of tokenUrlProblem that needs no policy: an http(s) URL without user:password. */
export function tokenUrlShapeProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'must be an https:// URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an https:// URL';
  if (u.username || u.password) return 'must not contain a user name or password';
  return null;
}

const HOST_NAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/** Parses MAILROOM_ALLOW_PRIVATE_HOSTS: host names, `*.suffix`, IP addresses and CIDRs, separated by commas. */
export function parseAllowList(text: string | undefined): { policy: ConnectionPolicy } | { error: string } {
  const hosts: string[] = [];
  const nets: Net[] = [];
  const entries = (text ?? '').split(/[,\s]+/).filter(Boolean);
  for (const [i, raw] of entries.entries()) {
    const entry = normalHost(raw);
    const [ip = '', bits, extra] = entry.split('/');
    const v4Base = parseV4Strict(ip);
    const base = v4Base ?? parseV6(ip);
    const max = v4Base !== null ? 32 : 128;
    if (base !== null && extra === undefined && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
      const prefix = (v4Base !== null ? 96 : 0) + Number(bits ?? max);
      const mask = prefix === 0 ? 0n : (ALL >> BigInt(128 - prefix)) << BigInt(128 - prefix);
      nets.push({ base: base & mask, prefix });
    } else if (bits === undefined && HOST_NAME.test(entry) && entry.length <= 253) {
      hosts.push(entry);
    } else {
      return { error: `entry ${i + 1} is not a host name, an IP address or a CIDR (such as 10.0.0.0/8)` };
    }
  }
  return { policy: Object.freeze({ hosts: Object.freeze(hosts), nets: Object.freeze(nets) }) };
}
