// Test-only bridge from raw mail to the fields classifyMail reads, built on
// mailparser's simpleParser. It exists because src/mail/parse.ts was written in
// parallel; the corpus test uses parseMail when that module is present.

import { simpleParser } from 'mailparser';
import type { AddressObject, EmailAddress } from 'mailparser';
import type { ClassifiableMail } from '../../../../src/mail/classify.js';
import type { AddressHeaders, MailAddress } from '../../../../src/mail/types.js';

function flatten(list: EmailAddress[]): MailAddress[] {
  const out: MailAddress[] = [];
  for (const a of list) {
    if (a.group) out.push(...flatten(a.group));
    else out.push({ address: a.address ?? '', name: a.name });
  }
  return out;
}

function addresses(value: AddressObject | AddressObject[] | undefined): MailAddress[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => flatten(v.value));
}

export async function parseForClassify(raw: Buffer): Promise<ClassifiableMail> {
  const m = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const headers = new Map<string, string[]>();
  for (const { key, line } of m.headerLines) {
    const colon = line.indexOf(':');
    const value = line.slice(colon + 1).replace(/\r?\n[ \t]/g, ' ').trim();
    const list = headers.get(key) ?? [];
    list.push(value);
    headers.set(key, list);
  }
  const ct = m.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const empty: MailAddress[] = [];
  const addr: AddressHeaders = {
    from: addresses(m.from),
    sender: empty,
    to: addresses(m.to),
    cc: addresses(m.cc),
    bcc: empty,
    replyTo: addresses(m.replyTo),
    resentFrom: empty,
    resentTo: empty,
    xForwardedTo: empty,
    deliveredTo: empty,
    xOriginalTo: empty,
  };
  return {
    headers,
    addresses: addr,
    contentType: (ct?.value ?? 'text/plain').toLowerCase(),
    reportType: ct?.params?.['report-type']?.toLowerCase() ?? null,
    subject: m.subject ?? '',
  };
}
