// The connection policy's decisions, on plain values: which addresses are
// internal in every spelling, what MAILROOM_ALLOW_PRIVATE_HOSTS allows, the
// token URL rule, and the lookup adapter's filtering (with a fake resolver).
import { describe, expect, it } from 'vitest';
import { MailroomError } from '../../../src/errors.js';
import { checkAddress, checkHostLiteral, classifyAddress, ipLiteral, parseAllowList, parseIpv4Loose, refusalMessage, STRICT_POLICY, tokenUrlProblem, type ConnectionPolicy } from '../../../src/net/policy.js';
import { allowedAddresses, resolveAllowed } from '../../../src/net/resolve.js';
import { escapeControls, escapeControlsInLayout, hasControlChars, replaceControls } from '../../../src/util/controls.js';

function policy(list: string): ConnectionPolicy {
  const parsed = parseAllowList(list);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.policy;
}

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.5', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::127.0.0.1', 'reserved'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a00:5', 'private'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::', 'private'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['1.1.1.1', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::808:808', 'public'],
    ['not-an-address', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it.each([
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0X7F.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['0xa.0.0.5', '10.0.0.5'],
    ['167772165', '10.0.0.5'],
    ['0', '0.0.0.0'],
    ['0xffffffff', '255.255.255.255'],
  ])('reads the IPv4 spelling %s as %s', (text, address) => {
    expect(parseIpv4Loose(text)).toBe(address);
    expect(ipLiteral(text)).toBe(address);
    expect(classifyAddress(text)).not.toBe('public');
  });

  it.each(['mail.example.com', '1.2.3.4.5', '08', '0x', '4294967296', '256.0.0.1', '1..2', '127.0.0.1.', 'localhost'])('does not read %s as an IPv4 address', (text) => {
    expect(parseIpv4Loose(text)).toBeNull();
  });
});

describe('the decision', () => {
  it('refuses internal literals by default and names the policy and the variable, not a port', () => {
    const r = checkHostLiteral(STRICT_POLICY, '10.0.0.5');
    expect(r).toEqual({ host: '10.0.0.5', address: '10.0.0.5', kind: 'private' });
    expect(refusalMessage(r!)).toBe('10.0.0.5 is a private address; Mailroom refuses private, loopback and link-local addresses unless MAILROOM_ALLOW_PRIVATE_HOSTS allows them.');
    const named = checkAddress(STRICT_POLICY, 'mail.corp.example', '10.0.0.5');
    expect(refusalMessage(named!)).toBe(
      'mail.corp.example resolves to 10.0.0.5, a private address; Mailroom refuses private, loopback and link-local addresses unless MAILROOM_ALLOW_PRIVATE_HOSTS allows them.',
    );
    expect(refusalMessage(checkHostLiteral(STRICT_POLICY, '127.1')!)).toBe(
      '127.1 resolves to 127.0.0.1, a loopback address; Mailroom refuses private, loopback and link-local addresses unless MAILROOM_ALLOW_PRIVATE_HOSTS allows them.',
    );
    expect(checkHostLiteral(STRICT_POLICY, 'mail.example.com')).toBeNull();
    expect(checkHostLiteral(STRICT_POLICY, '8.8.8.8')).toBeNull();
  });

  it('allows what MAILROOM_ALLOW_PRIVATE_HOSTS names: CIDRs (IPv4-mapped forms included), addresses, host names and *.suffixes', () => {
    const p = policy('10.0.0.0/8, 127.0.0.1 fd00::/8,imap.internal,*.corp.example');
    expect(checkAddress(p, 'x.example', '10.200.0.1')).toBeNull();
    expect(checkAddress(p, 'x.example', '::ffff:10.200.0.1')).toBeNull();
    expect(checkAddress(p, 'x.example', '127.0.0.1')).toBeNull();
    expect(checkAddress(p, 'x.example', '127.0.0.2')).toMatchObject({ kind: 'loopback' });
    expect(checkAddress(p, 'x.example', 'fd12::1')).toBeNull();
    expect(checkAddress(p, 'x.example', 'fe80::1')).toMatchObject({ kind: 'link-local' });
    expect(checkAddress(p, 'IMAP.internal.', '192.168.1.1')).toBeNull();
    expect(checkAddress(p, 'mail.corp.example', '192.168.1.1')).toBeNull();
    expect(checkAddress(p, 'corp.example', '192.168.1.1')).toMatchObject({ kind: 'private' });
    expect(checkAddress(p, 'other.internal', '192.168.1.1')).toMatchObject({ kind: 'private' });
    expect(checkHostLiteral(p, '0x0a000005')).toBeNull();
  });

  it('parses the variable strictly, naming the bad entry by position (never echoing it)', () => {
    expect(parseAllowList(undefined)).toEqual({ policy: STRICT_POLICY });
    expect(parseAllowList('')).toEqual({ policy: STRICT_POLICY });
    for (const bad of ['10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/1', 'http://x', 'mail.example/8', 'host_name!', '*']) {
      expect(parseAllowList(`127.0.0.1,${bad}`), bad).toEqual({ error: expect.stringMatching(/^entry 2 is not a host name, an IP address or a CIDR/) });
    }
  });

  it('takes token URLs that are https:// without credentials, http:// only to an allowed host', () => {
    expect(tokenUrlProblem(STRICT_POLICY, 'https://login.microsoftonline.com/common/oauth2/v2.0/token')).toBeNull();
    expect(tokenUrlProblem(STRICT_POLICY, 'http://login.example/token')).toBe('must be an https:// URL (http:// only to a host MAILROOM_ALLOW_PRIVATE_HOSTS allows)');
    expect(tokenUrlProblem(STRICT_POLICY, 'https://client:secret@login.example/token')).toBe('must not contain a user name or password');
    expect(tokenUrlProblem(STRICT_POLICY, 'javascript:alert(1)')).toBe('must be an https:// URL');
    expect(tokenUrlProblem(STRICT_POLICY, 'https://127.1/token')).toMatch(/^127\.0\.0\.1 is a loopback address; Mailroom refuses/);
    expect(tokenUrlProblem(STRICT_POLICY, 'https://0x7f000001/token')).toMatch(/^127\.0\.0\.1 is a loopback address/);
    expect(tokenUrlProblem(STRICT_POLICY, 'https://[::ffff:169.254.169.254]/token')).toMatch(/link-local address/);
    expect(tokenUrlProblem(policy('127.0.0.1'), 'http://127.0.0.1:8080/token')).toBeNull();
    expect(tokenUrlProblem(policy('tokens.internal'), 'http://tokens.internal/token')).toBeNull();
    expect(tokenUrlProblem(policy('127.0.0.1'), 'http://localhost:8080/token')).toMatch(/^must be an https/);
  });
});

describe('the resolver adapter', () => {
  const answers = (list: string[]) => async () => list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it('keeps only allowed addresses, and refuses naming the first refused one when none is left', async () => {
    expect(await resolveAllowed(STRICT_POLICY, 'mixed.example', answers(['10.0.0.5', '93.184.215.14']))).toEqual([{ address: '93.184.215.14', family: 4 }]);
    const err = await resolveAllowed(STRICT_POLICY, 'rebind.example', answers(['10.0.0.5', '::1'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MailroomError);
    expect(err).toMatchObject({ code: 'CONNECTION_NOT_ALLOWED', message: expect.stringMatching(/^rebind\.example resolves to 10\.0\.0\.5, a private address; /) });
    expect(allowedAddresses(policy('rebind.example'), 'rebind.example', [{ address: '10.0.0.5', family: 4 }])).toHaveLength(1);
  });

  it('checks IP literals without asking DNS', async () => {
    const never = async () => {
      throw new Error('DNS asked');
    };
    await expect(resolveAllowed(STRICT_POLICY, '127.0.0.1', never)).rejects.toMatchObject({ code: 'CONNECTION_NOT_ALLOWED' });
    expect(await resolveAllowed(STRICT_POLICY, '8.8.8.8', never)).toEqual([{ address: '8.8.8.8', family: 4 }]);
  });
});

describe('control characters', () => {
  it('finds C0, DEL and C1, replaces them for storage and escapes them for a terminal', () => {
    expect(['a\u001bb', 'a\u007fb', 'a\u009bb', 'a\nb', 'a\u0000b'].every(hasControlChars)).toBe(true);
    expect(hasControlChars('Ünïcode – fine ✓')).toBe(false);
    expect(replaceControls('NO [ALERT] \u001b[2Jgone\r\n\tnow\u009b')).toBe('NO [ALERT] \uFFFD[2Jgone   now\uFFFD');
    expect(escapeControls('x\u001b[2J\ny\u202e')).toBe('x\\u001b[2J\\u000ay\\u202e');
    expect(escapeControlsInLayout('a\tb\nc\u001b\u0085')).toBe('a\tb\nc\\u001b\\u0085');
    // JSON stays JSON: the escapes are JSON's own.
    expect(JSON.parse(escapeControlsInLayout(JSON.stringify({ v: 'a\u0085\u007f' })))).toEqual({ v: 'a\u0085\u007f' });
  });
});
