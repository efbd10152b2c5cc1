// `npm run bench`: speed and memory of the mail core, reported as ratios
// against a baseline measured in the same process (mailparser's simpleParser
// alone on the same bytes), never as absolute pass/fail thresholds.
//
//   npm run bench [-- --rounds N] [-- --corpus DIR]
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { simpleParser } from 'mailparser';
import { parseMail } from '../src/mail/parse.js';
import { mapMail } from '../src/conversations/from-mail.js';
import { createHash } from 'node:crypto';
import { assess, sniffType } from '../src/attachments/policy.js';
import { buildZip, PDF } from '../test/fixtures/attachments/samples.js';
import { parseDocument } from 'htmlparser2';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, corpus: { type: 'string' } } });
const corpus = path.resolve(values.corpus ?? process.env.MAILROOM_CORPUS_DIR ?? path.join(import.meta.dirname, '../../shared/corpus'));
const rounds = Math.max(1, Number(values.rounds));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return listFiles(full);
    return e.isFile() && !/\.(json|xml)$/.test(e.name) ? [full] : [];
  });
}

function syntheticMails(): Buffer[] {
  // Hostile shapes the corpus has little of: many links, deep nesting, long quotes.
  const links = Array.from({ length: 5000 }, (_, i) => `<a href="https://example.com/${i}">link ${i}</a>`).join(' ');
  const nested = '<div>'.repeat(2000) + 'deep' + '</div>'.repeat(2000);
  const quote = Array.from({ length: 20000 }, (_, i) => `> quoted line ${i}`).join('\r\n');
  const html = (body: string) => Buffer.from(`From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n<html><body>${body}</body></html>\r\n`);
  return [html(links), html(nested), Buffer.from(`From: a@example.com\r\nSubject: x\r\n\r\nnew text\r\n\r\nOn Mon, 1 Jan 2026, b wrote:\r\n${quote}\r\n`)];
}

async function time(label: string, mails: Buffer[], fn: (raw: Buffer) => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (const raw of mails) {
      try {
        await fn(raw);
      } catch {
        // unreadable input is an outcome, not a benchmark failure
      }
    }
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)]!;
  console.log(`${label.padEnd(36)} median ${median.toFixed(0).padStart(6)} ms over ${mails.length} inputs (${rounds} rounds)`);
  return median;
}

const mails = existsSync(corpus) ? listFiles(corpus).map((f) => readFileSync(f)) : [];
const synthetic = syntheticMails();
console.log(`corpus: ${corpus} (${mails.length} files)`);

const baseline = await time('baseline: mailparser simpleParser', mails, (raw) => simpleParser(raw));
const core = await time('mail core: parseMail + mapMail', mails, async (raw) => mapMail(await parseMail(raw)));
const heapBefore = process.memoryUsage().heapUsed;
const synthBase = await time('baseline on hostile synthetic mail', synthetic, (raw) => simpleParser(raw));
const synthCore = await time('mail core on hostile synthetic mail', synthetic, async (raw) => mapMail(await parseMail(raw)));
const heapAfter = process.memoryUsage().heapUsed;

console.log('');
console.log(`ratio corpus  (core / baseline): ${(core / Math.max(1, baseline)).toFixed(2)}x`);
console.log(`ratio hostile (core / baseline): ${(synthCore / Math.max(1, synthBase)).toFixed(2)}x`);
console.log(`heap growth over the hostile runs: ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB`);

// Attachment policy on zip bombs: judged from the central directory alone, so the cost should stay
// near that of hashing the same bytes (which every attachment job does anyway), whatever they unpack to.
const MiB = 1024 * 1024;
const bombs = [
  buildZip(Array.from({ length: 16 }, (_, i) => ({ name: `zeros-${i}.bin`, data: Buffer.alloc(8 * MiB), deflate: true }))),
  buildZip([{ name: 'a.bin', data: Buffer.from('x'), declaredSize: 5 * 1024 ** 3 }]),
  buildZip(Array.from({ length: 20_000 }, (_, i) => ({ name: `${i}` }))),
  Buffer.concat([PDF, Buffer.alloc(4 * MiB, 0x20)]),
];
const judge = async (bytes: Buffer) => assess({ filename: 'a.zip', declaredType: 'application/zip', sizeBytes: bytes.length, bytes, detected: await sniffType(bytes) });
const heapBeforeBombs = process.memoryUsage().heapUsed;
const hashBase = await time('baseline: sha256 of the archives', bombs, async (b) => createHash('sha256').update(b).digest());
const policy = await time('attachment policy on zip bombs', bombs, judge);
const heapAfterBombs = process.memoryUsage().heapUsed;
console.log(`ratio bombs   (policy / sha256): ${(policy / Math.max(1, hashBase)).toFixed(2)}x (archives declare up to ${(5 * 1024 ** 3 / MiB).toFixed(0)} MiB unpacked)`);
console.log(`heap growth over the bomb runs: ${((heapAfterBombs - heapBeforeBombs) / 1024 / 1024).toFixed(1)} MiB`);

// Pathological HTML (each took from 5 s to over a minute when DOM edits were one splice at a time, or when
// mailparser's html-to-text ran on it): the mail core against building the same body's DOM once (htmlparser2),
// which is linear; a ratio that grows with the input is a quadratic path come back.
const MB = 1024 * 1024;
const htmlMail = (body: string) => Buffer.from(`From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n${body}\r\n`);
const pathological = [
  '<br>'.repeat(MB / 4),
  `<table><tr>${'<td>x</td>'.repeat(100_000)}</tr></table>`,
  '<img src="cid:a@b">'.repeat(MB / 19),
  `<div id="divRplyFwdMsg">${'<br>'.repeat(49_000)}</div>`,
  '<p>x</p>'.repeat(MB / 8),
].map(htmlMail);
const domBase = await time('baseline: one DOM of each body', pathological, async (raw) => parseDocument(raw.toString('utf8')));
const domCore = await time('mail core on pathological HTML', pathological, async (raw) => mapMail(await parseMail(raw)));
console.log(`ratio html    (core / one DOM): ${(domCore / Math.max(1, domBase)).toFixed(2)}x`);
