// Addresses against stalwart mail-parser's expected parse trees
// (corpus/stalwart-mail-parser: NNN.eml + NNN.json). For every mail whose top
// part has From/To/Cc/Reply-To, our addresses must equal stalwart's for at
// least 99% of the mails. Two documented differences in how the expectation
// is read (not per-file exceptions):
// - an entry stalwart lists without a usable `local@domain` (a bare name,
//   `<moderator>`) must be in our badAddresses for that header instead;
// - U+FFFD in a stalwart name stands for a raw byte it could not decode; we
//   decode such bytes as windows-1252, so U+FFFD matches any one character.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isValidAddress } from '../../../../src/mail/addresses.js';
import { parseMail } from '../../../../src/mail/parse.js';
import type { InboundMail, MailAddress } from '../../../../src/mail/types.js';

const CORPUS = process.env.MAILROOM_CORPUS_DIR ?? path.resolve(import.meta.dirname, '../../../../../shared/corpus');
const ROOT = path.join(CORPUS, 'stalwart-mail-parser/resources/eml');

interface Expected {
  name: string | null;
  address: string | null;
}
interface HeaderJson {
  name: string;
  value: { Address?: { List?: Expected[]; Group?: { name: string | null; addresses: Expected[] }[] } };
}

const HEADERS: Record<string, { ours: keyof InboundMail['addresses']; bad: string }> = {
  from: { ours: 'from', bad: 'from' },
  to: { ours: 'to', bad: 'to' },
  cc: { ours: 'cc', bad: 'cc' },
  reply_to: { ours: 'replyTo', bad: 'reply-to' },
};

function nameMatches(expected: string, actual: string): boolean {
  if (!expected.includes('\uFFFD')) return expected === actual;
  const a = Array.from(actual);
  const e = Array.from(expected);
  return a.length === e.length && e.every((ch, i) => ch === '\uFFFD' || ch === a[i]);
}

function compare(header: string, expected: Expected[], mail: InboundMail): string | null {
  const spec = HEADERS[header];
  if (!spec) return null;
  const ours: MailAddress[] = mail.addresses[spec.ours];
  const good = expected.filter((e) => e.address !== null && isValidAddress(e.address));
  const bad = expected.filter((e) => !(e.address !== null && isValidAddress(e.address)));
  const show = (l: { address: string | null; name: string | null }[]): string =>
    l.map((x) => `${x.name ?? ''} <${(x.address ?? '').toLowerCase()}>`).join(', ');
  const same =
    good.length === ours.length &&
    good.every((e, i) => (e.address ?? '').toLowerCase() === ours[i]?.address.toLowerCase() && nameMatches(e.name ?? '', ours[i]?.name ?? ''));
  if (!same) return `${header}: expected [${show(good)}], got [${show(ours)}]`;
  const ourBad = mail.badAddresses.filter((b) => b.header === spec.bad).length;
  if (ourBad !== bad.length) return `${header}: expected ${bad.length} unusable address(es), got ${ourBad}`;
  return null;
}

describe.skipIf(!fs.existsSync(ROOT))('stalwart mail-parser corpus: addresses', () => {
  it('matches the expected addresses for at least 99% of the mails', async () => {
    const failures: string[] = [];
    let compared = 0;
    for (const dir of fs.readdirSync(ROOT).sort()) {
      const folder = path.join(ROOT, dir);
      if (!fs.statSync(folder).isDirectory()) continue;
      for (const file of fs.readdirSync(folder).filter((f) => f.endsWith('.eml')).sort()) {
        const json = JSON.parse(fs.readFileSync(path.join(folder, file.replace(/\.eml$/, '.json')), 'utf8')) as {
          parts: { headers: HeaderJson[] }[];
        };
        // stalwart keeps every occurrence: From and Reply-To count once (ours
        // reads the first), To and Cc occurrences are merged (as ours are).
        const lists = new Map<string, Expected[]>();
        for (const h of json.parts[0]?.headers ?? []) {
          if (!(h.name in HEADERS)) continue;
          const v = h.value.Address;
          const list = v?.List ?? (v?.Group ?? []).flatMap((g) => g.addresses);
          const known = lists.get(h.name);
          if (known === undefined) lists.set(h.name, [...list]);
          else if (h.name === 'to' || h.name === 'cc') known.push(...list);
        }
        if (lists.size === 0) continue;
        compared++;
        const mail = await parseMail(fs.readFileSync(path.join(folder, file)));
        const problems = [...lists]
          .map(([header, list]) => compare(header, list, mail))
          .filter((p): p is string => p !== null);
        if (problems.length > 0) failures.push(`${dir}/${file}: ${problems.join('; ')}`);
      }
    }
    if (failures.length > 0) console.log(`stalwart address mismatches (${failures.length}/${compared}):\n${failures.join('\n')}`);
    expect(compared).toBeGreaterThan(70);
    expect((compared - failures.length) / compared).toBeGreaterThanOrEqual(0.99);
  });
});
