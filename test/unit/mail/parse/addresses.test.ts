// mapEmailAddresses: directions, order, lower-casing, de-duplication, the BCC
// rule of PRODUCT.md, and unusable addresses dropped with a warning.

import { describe, expect, it } from 'vitest';
import { EmailAddressDirection as D } from '../../../../src/wire/enums.js';
import { isValidAddress, mapEmailAddresses, parseAddressValues } from '../../../../src/mail/addresses.js';
import type { AddressHeaders, InboundMail, MailAddress } from '../../../../src/mail/types.js';

const none: MailAddress[] = [];
function mail(partial: Partial<AddressHeaders>, bad: InboundMail['badAddresses'] = []): Pick<InboundMail, 'addresses' | 'badAddresses'> {
  return {
    addresses: {
      from: none, sender: none, to: none, cc: none, bcc: none, replyTo: none,
      resentFrom: none, resentTo: none, xForwardedTo: none, deliveredTo: none, xOriginalTo: none,
      ...partial,
    },
    badAddresses: bad,
  };
}
const a = (address: string, name = ''): MailAddress => ({ address, name });

describe('mapEmailAddresses', () => {
  it('maps every header to its direction, in the documented order, lower-cased and de-duplicated', () => {
    const out = mapEmailAddresses(
      mail({
        xForwardedTo: [a('fwd@example.com')],
        resentTo: [a('Fwd@Example.com'), a('other@example.com')],
        resentFrom: [a('resender@example.com', 'Re Sender')],
        replyTo: [a('Reply@Example.com', ' Replies ')],
        bcc: [a('hidden@example.com')],
        cc: [a('Carol@Example.com', 'Carol'), a('carol@example.com', 'Carol again')],
        to: [a('Support@Acme.example', 'Support')],
        from: [a('Alice@Example.COM', 'Alice')],
      }),
    );
    expect(out.email_addresses).toEqual([
      { email: 'alice@example.com', name: 'Alice', direction: D.FROM },
      { email: 'support@acme.example', name: 'Support', direction: D.TO },
      { email: 'carol@example.com', name: 'Carol', direction: D.CC },
      { email: 'hidden@example.com', name: '', direction: D.BCC },
      { email: 'reply@example.com', name: 'Replies', direction: D.REPLY_TO },
      { email: 'resender@example.com', name: 'Re Sender', direction: D.RESENT_FROM },
      { email: 'fwd@example.com', name: '', direction: D.FORWARDED_TO },
      { email: 'other@example.com', name: '', direction: D.FORWARDED_TO },
    ]);
    expect(out.warnings).toEqual([]);
  });

  it('keeps one address in several directions', () => {
    const out = mapEmailAddresses(mail({ from: [a('x@example.com')], replyTo: [a('X@example.com')] }));
    expect(out.email_addresses.map((e) => e.direction)).toEqual([D.FROM, D.REPLY_TO]);
  });

  it('adds the mailbox as BCC when it is not in To/Cc and the mail is not from it', () => {
    const out = mapEmailAddresses(mail({ from: [a('c@example.com')], to: [a('list@example.com')] }), { address: 'Support@Acme.example' });
    expect(out.email_addresses.at(-1)).toEqual({ email: 'support@acme.example', name: '', direction: D.BCC });
  });

  it('puts the inferred BCC before REPLY_TO', () => {
    const out = mapEmailAddresses(mail({ from: [a('c@example.com')], replyTo: [a('r@example.com')] }), { address: 'support@acme.example' });
    expect(out.email_addresses.map((e) => e.direction)).toEqual([D.FROM, D.BCC, D.REPLY_TO]);
  });

  it('adds no BCC when the mailbox is in To or Cc, or the mail is from it', () => {
    const box = { address: 'support@acme.example' };
    for (const m of [
      mail({ from: [a('c@example.com')], to: [a('SUPPORT@acme.example')] }),
      mail({ from: [a('c@example.com')], cc: [a('support@acme.example')] }),
      mail({ from: [a('support@acme.example')], to: [a('c@example.com')] }),
    ]) {
      expect(mapEmailAddresses(m, box).email_addresses.filter((e) => e.direction === D.BCC)).toEqual([]);
    }
  });

  it('treats an alias in To/Cc as the mailbox', () => {
    const box = { address: 'support@acme.example', aliases: ['help@acme.example', 'Billing@Acme.example'] };
    const viaAlias = mapEmailAddresses(mail({ from: [a('c@example.com')], cc: [a('billing@acme.example')] }), box);
    expect(viaAlias.email_addresses.some((e) => e.direction === D.BCC)).toBe(false);
    const fromAlias = mapEmailAddresses(mail({ from: [a('help@acme.example')], to: [a('c@example.com')] }), box);
    expect(fromAlias.email_addresses.some((e) => e.direction === D.BCC)).toBe(false);
    const elsewhere = mapEmailAddresses(mail({ from: [a('c@example.com')], to: [a('sales@acme.example')] }), box);
    expect(elsewhere.email_addresses.filter((e) => e.direction === D.BCC)).toEqual([
      { email: 'support@acme.example', name: '', direction: D.BCC },
    ]);
  });

  it('does not add the mailbox twice when Bcc already names it', () => {
    const out = mapEmailAddresses(mail({ from: [a('c@example.com')], bcc: [a('Support@acme.example')] }), { address: 'support@acme.example' });
    expect(out.email_addresses.filter((e) => e.direction === D.BCC)).toHaveLength(1);
  });

  it('drops unusable addresses with one warning each', () => {
    const out = mapEmailAddresses(
      mail({ from: [a('not-an-address', 'Broken')], to: [a('ok@example.com')] }, [{ header: 'cc', value: 'Someone' }]),
    );
    expect(out.email_addresses).toEqual([{ email: 'ok@example.com', name: '', direction: D.TO }]);
    expect(out.warnings).toHaveLength(2);
    expect(out.warnings.join('\n')).toMatch(/cc: "Someone"/);
    expect(out.warnings.join('\n')).toMatch(/From: "not-an-address"/);
  });
});

describe('parseAddressValues', () => {
  it('flattens groups, decodes names and sets aside what is not local@domain', () => {
    const r = parseAddressValues([
      'Team: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.de>, b@example.com;, undisclosed-recipients:;',
      'Moderator <moderator>, "=?utf-8?B?QQ==?=" <=?utf-8?Q?evil?=@example.com>',
    ]);
    expect(r.addresses).toEqual([a('joerg@example.de', 'Jörg'), a('b@example.com')]);
    expect(r.bad).toEqual(['Moderator <moderator>', 'A <=?utf-8?Q?evil?=@example.com>']);
  });

  it('caps the number of addresses', () => {
    const value = Array.from({ length: 50 }, (_, i) => `u${i}@example.com`).join(', ');
    const r = parseAddressValues([value], { maxAddresses: 10 });
    expect(r.addresses).toHaveLength(10);
    expect(r.capped).toBe(true);
  });

  it('validates addresses', () => {
    for (const ok of ['a@b.c', 'first.last+tag@sub.example.co.uk', 'jörg@bücher.de', 'info@ตัวอย่าง.ไทย', 'sales@डाटामेल.भारत', 'x@[192.0.2.1]', '"john doe"@example.com', 'a@localhost']) {
      expect(isValidAddress(ok), ok).toBe(true);
    }
    for (const bad of ['', 'a', '@b.c', 'a@', 'a b@c.d', 'a@b..c', 'a@-b.c', 'a@b-.c', 'a@\u0301b.c', 'a@b c', `${'x'.repeat(65)}@b.c`, 'a@b@', '<a@b.c>']) {
      expect(isValidAddress(bad), bad).toBe(false);
    }
  });
});
