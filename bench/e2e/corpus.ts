// The generated corpus of the end-to-end bench: support mail as a helpdesk
// sees it, deterministic from (seed, index) alone so any mail can be built on
// its own, in any order, for any mailbox address. Mostly small text and HTML
// questions; about a third are replies to an earlier mail (In-Reply-To and
// References, the parent quoted); about 30 % carry 1–3 attachments of
// 10 KB–2 MB (PDF-like and PNG-like bytes, ZIP archives).
import { buildZip } from '../../test/fixtures/attachments/samples.js';
import { createRng, seedOf, type Rng } from './random.js';

const WORDS = (
  'account invoice order delivery refund password login error screen update payment shipping address ' +
  'subscription cancel renew export report dashboard customer support ticket issue please help thanks ' +
  'yesterday today tomorrow attached receipt missing broken working again still since version browser ' +
  'mobile desktop app email notification settings team access permission billing plan upgrade trial'
).split(' ');
const TOPICS = ['Invoice question', 'Cannot log in', 'Order not delivered', 'Refund request', 'Export fails', 'Billing plan change', 'App crashes on start', 'Password reset', 'Wrong address on parcel', 'Access for a new colleague'];
const FIRST = ['Anna', 'Ben', 'Chloé', 'Dmitri', 'Eva', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemal', 'Lena'];
const LAST = ['Meyer', 'Okafor', 'Rossi', 'Nguyen', 'Silva', 'Kowalski', 'Larsen', 'Dubois', 'Tanaka', 'Schmidt'];
const BASE_DATE = Date.UTC(2026, 0, 5, 8, 0, 0);
const KB = 1024;

export interface MailMeta {
  index: number;
  messageId: string;
  from: string;
  subject: string;
  /** Index of the mail this one replies to, or null. */
  parent: number | null;
}

export interface CorpusAttachment {
  filename: string;
  type: string;
  data: Buffer;
}

const metaRng = (seed: number, i: number) => createRng(seedOf('meta', seed, i));

/** Who wrote mail `i`, its Message-ID, and which earlier mail (mostly a recent one) it answers. */
export function mailMeta(seed: number, i: number): MailMeta {
  const rng = metaRng(seed, i);
  const reply = i > 0 && rng.next() < 0.35;
  const parent = reply ? i - 1 - Math.floor(rng.next() ** 2 * Math.min(i, 200)) : null;
  const first = rng.pick(FIRST);
  const last = rng.pick(LAST);
  const from = `${first} ${last} <${first.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}.${last.toLowerCase()}@customer.example>`;
  const subject = parent === null ? `${rng.pick(TOPICS)} (${rng.int(1000, 9999)})` : `Re: ${rootSubject(seed, parent)}`;
  return { index: i, messageId: `bench-${seed}-${i}@customer.example`, from, subject, parent };
}

function rootSubject(seed: number, i: number): string {
  // A reply's subject is already its root's with "Re: ": no need to walk further.
  return mailMeta(seed, i).subject.replace(/^Re: /, '');
}

/** Up to 10 ancestors, oldest first, as a References header lists them. */
function ancestors(seed: number, meta: MailMeta): string[] {
  const ids: string[] = [];
  let parent = meta.parent;
  while (parent !== null && ids.length < 10) {
    const p = mailMeta(seed, parent);
    ids.unshift(p.messageId);
    parent = p.parent;
  }
  return ids;
}

function paragraphs(rng: Rng, count: number): string[] {
  return Array.from({ length: count }, () => {
    const words = Array.from({ length: rng.int(12, 60) }, () => rng.pick(WORDS));
    words[0] = words[0]!.charAt(0).toUpperCase() + words[0]!.slice(1);
    return words.join(' ') + '.';
  });
}

/** The new text of mail `i` (what a reply to it quotes). */
function ownText(seed: number, i: number): string[] {
  const rng = createRng(seedOf('text', seed, i));
  return paragraphs(rng, rng.int(1, 4));
}

function attachmentsOf(seed: number, i: number): CorpusAttachment[] {
  const rng = createRng(seedOf('files', seed, i));
  if (rng.next() >= 0.3) return [];
  return Array.from({ length: rng.int(1, 3) }, (_, k) => {
    // Log-uniform between 10 KB and 2 MB: many small files, a few large ones.
    const size = Math.round(10 * KB * Math.exp(rng.next() * Math.log((2048 * KB) / (10 * KB))));
    const kind = rng.next();
    if (kind < 0.4) return { filename: `invoice-${i}-${k}.pdf`, type: 'application/pdf', data: pdfLike(rng, size) };
    if (kind < 0.75) return { filename: `screenshot-${i}-${k}.png`, type: 'image/png', data: pngLike(rng, size) };
    return { filename: `logs-${i}-${k}.zip`, type: 'application/zip', data: zipLike(rng, size) };
  });
}

export function pdfLike(rng: Rng, size: number): Buffer {
  const head = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\nstream\n', 'latin1');
  const tail = Buffer.from('\nendstream\ntrailer << /Root 1 0 R >>\n%%EOF\n');
  return Buffer.concat([head, rng.bytes(Math.max(0, size - head.length - tail.length)), tail]);
}

function pngLike(rng: Rng, size: number): Buffer {
  // Signature and IHDR, then the payload as one IDAT chunk and IEND: file-type walks the chunks.
  const head = Buffer.from('89504e470d0a1a0a0000000d494844520000040000000300080200000000000000', 'hex');
  const end = Buffer.from('0000000049454e44ae426082', 'hex');
  const payload = rng.bytes(Math.max(16, size - head.length - end.length - 12));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(payload.length);
  return Buffer.concat([head, len, Buffer.from('IDAT'), payload, Buffer.alloc(4), end]);
}

function zipLike(rng: Rng, size: number): Buffer {
  const log = Buffer.from(paragraphs(rng, 40).join('\n'));
  return buildZip([
    { name: 'app.log', data: log, deflate: true },
    { name: 'dump.bin', data: rng.bytes(Math.max(0, size - log.length / 3)) },
  ]);
}

function base64Lines(data: Buffer): string {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let p = 0; p < b64.length; p += 76) lines.push(b64.slice(p, p + 76));
  return lines.join('\r\n');
}

function headers(meta: MailMeta, to: string, seed: number): string[] {
  const refs = ancestors(seed, meta);
  return [
    `From: ${meta.from}`,
    `To: ${to}`,
    `Subject: ${meta.subject}`,
    `Date: ${new Date(BASE_DATE + meta.index * 60_000).toUTCString()}`,
    `Message-ID: <${meta.messageId}>`,
    ...(meta.parent === null ? [] : [`In-Reply-To: <${refs[refs.length - 1]}>`, `References: ${refs.map((r) => `<${r}>`).join(' ')}`]),
    'MIME-Version: 1.0',
  ];
}

/** The body part(s): plain, HTML, or both as multipart/alternative. */
function bodyPart(seed: number, meta: MailMeta, style: number): string {
  const text = ownText(seed, meta.index);
  const quoted = meta.parent === null ? [] : [`On ${new Date(BASE_DATE + meta.parent * 60_000).toUTCString()}, ${mailMeta(seed, meta.parent).from} wrote:`, ...ownText(seed, meta.parent).map((p) => `> ${p}`)];
  const plain = [...text, '', 'Best regards', meta.from.replace(/ <.*$/, ''), '', ...quoted].join('\r\n');
  const html = `<html><body>${text.map((p) => `<p>${p}</p>`).join('')}<p>Best regards<br>${meta.from.replace(/ <.*$/, '')}</p>${quoted.length ? `<blockquote>${quoted.slice(1).map((q) => `<p>${q.slice(2)}</p>`).join('')}</blockquote>` : ''}</body></html>`;
  if (style < 0.4) return `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${plain}\r\n`;
  if (style < 0.65) return `Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${html}\r\n`;
  const b = `alt-${meta.index}`;
  return `Content-Type: multipart/alternative; boundary="${b}"\r\n\r\n--${b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${plain}\r\n--${b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n--${b}--\r\n`;
}

/** Mail `i` of the corpus of `seed`, addressed to `to`. */
export function corpusMail(seed: number, i: number, to: string, extra: CorpusAttachment[] = []): Buffer {
  const meta = mailMeta(seed, i);
  const files = [...attachmentsOf(seed, i), ...extra];
  const style = createRng(seedOf('style', seed, i)).next();
  const head = headers(meta, to, seed).join('\r\n');
  if (files.length === 0) return Buffer.from(`${head}\r\n${bodyPart(seed, meta, style)}`);
  const b = `mixed-${meta.index}`;
  const parts = files.map((f) => `--${b}\r\nContent-Type: ${f.type}; name="${f.filename}"\r\nContent-Disposition: attachment; filename="${f.filename}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(f.data)}\r\n`);
  return Buffer.from(`${head}\r\nContent-Type: multipart/mixed; boundary="${b}"\r\n\r\n--${b}\r\n${bodyPart(seed, meta, style)}${parts.join('')}--${b}--\r\n`);
}

/** How many attachments mails [from, from + count) carry (what the bench waits for). */
export function attachmentCount(seed: number, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) n += attachmentsOf(seed, i).length;
  return n;
}

/** A small mail with a Message-ID unique to this run (the latency probe). */
export function probeMail(to: string, tag: string, n: number): { raw: Buffer; messageId: string } {
  const messageId = `probe-${tag}-${n}@customer.example`;
  const raw = `From: Probe Customer <probe@customer.example>\r\nTo: ${to}\r\nSubject: Probe ${n} (${tag})\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <${messageId}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, this is probe ${n}.\r\n`;
  return { raw: Buffer.from(raw), messageId };
}
