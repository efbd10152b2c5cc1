// Parse + map in a worker thread gives what the same step gives in this
// thread: the mapped conversation, attachment bytes as Buffers, `cid:` images
// on placeholders that withAttachmentIds turns into the rows' ids; an
// unreadable mail comes back as an error, not a crash.
import { afterAll, describe, expect, it } from 'vitest';
import { MapPool } from '../../../src/ingest/map-pool.js';
import { prepareContent, type ContentJob } from '../../../src/conversations/content.js';
import { placeholderToken, withAttachmentIds, type MapRequest } from '../../../src/ingest/mapping.js';
import { parseAndMap } from '../../../src/ingest/parse-and-map.js';
import { DEFAULT_POLICY_LIMITS, judge, type JudgeRequest } from '../../../src/attachments/policy.js';
import { PDF, bomb42, buildZip, peExecutable } from '../../fixtures/attachments/samples.js';

const pool = new MapPool(1);
afterAll(() => pool.close());

const raw = Buffer.from(
  [
    'From: Anna <anna@example.com>',
    'To: support@acme.test',
    'Subject: Screenshot',
    'Message-ID: <shot@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/related; boundary="b"',
    '',
    '--b',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>See <img src="cid:shot1@example.com"></p>',
    '--b',
    'Content-Type: image/png; name="shot.png"',
    'Content-ID: <shot1@example.com>',
    'Content-Transfer-Encoding: base64',
    '',
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==',
    '--b--',
    '',
  ].join('\r\n'),
);

const request = (bytes: Buffer, token: string): MapRequest => ({
  raw: bytes,
  mailbox: { address: 'support@acme.test', aliases: [] },
  ownAddresses: ['support@acme.test'],
  receivedAt: new Date('2026-12-01T10:00:00Z'),
  now: new Date('2026-12-01T10:00:05Z'),
  attachmentUrl: 'http://mailroom.test/api/acme/v1/attachments/{id}/download',
  token,
});

describe('MapPool', () => {
  it('maps in a worker thread exactly as in this thread', async () => {
    const token = placeholderToken();
    const there = await pool.map(request(raw, token));
    const here = await parseAndMap(request(raw, token));
    expect(there.ok && here.ok).toBe(true);
    if (!there.ok || !here.ok) return;
    expect(Buffer.isBuffer(there.mapped.attachments[0]?.content)).toBe(true);
    expect(there.mapped.attachments[0]?.content?.equals(here.mapped.attachments[0]!.content!)).toBe(true);
    expect(there.mapped.created).toEqual(here.mapped.created);
    expect({ ...there.mapped, attachments: [] }).toEqual({ ...here.mapped, attachments: [] });

    const html = withAttachmentIds(there.mapped, token, [4711]).sys_content_rich.html;
    expect(html).toContain('http://mailroom.test/api/acme/v1/attachments/4711/download');
    expect(html).not.toContain('mrcid-');
    // Another process's token (or a forged one in the mail) is left alone.
    expect(withAttachmentIds(there.mapped, placeholderToken(), [1]).sys_content_rich.html).toContain(`mrcid-${token}-0`);
  });

  it('answers an unreadable mail with its error', async () => {
    const res = await pool.map(request(Buffer.from([0, 1, 2, 3, 0xff, 0xfe]), placeholderToken()));
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.code).toMatch(/^MAIL_/);
  });

  it("prepares an API conversation's content in a worker thread exactly as in this thread, and several at once", async () => {
    const job = (i: number): ContentJob => ({
      item: {
        sys_content_rich: { html: `<p>Hi ${i} <a href="javascript:alert(1)">x</a> <img src="cid:logo@x"></p><blockquote>old</blockquote>` },
        last_message_extracted: null,
      },
      cidUrls: [['logo@x', 'http://mailroom.test/api/acme/v1/attachments/7/download']],
      time: 1_700_000_000_000,
    });
    // More jobs than the one content slot of a one-thread pool: they queue and all finish.
    const there = await Promise.all([0, 1, 2].map((i) => pool.prepare(job(i))));
    expect(there).toEqual([0, 1, 2].map((i) => prepareContent(job(i))));
    expect(there[0]!.rich.html).toContain('attachments/7/download');
    expect(there[0]!.rich.html).not.toContain('javascript:');
  });

  it("judges attachments in a worker thread exactly as in this thread, handing the bytes over only when they are not kept", async () => {
    const cases: [string, string, Buffer][] = [
      ['report.pdf', 'application/pdf', PDF],
      ['invoice.pdf', 'application/pdf', peExecutable()],
      ['notes.zip', 'application/zip', buildZip([{ name: 'a.txt', data: Buffer.from('hello') }])],
      ['bomb.zip', 'application/zip', bomb42(4, 1024)],
    ];
    const req = (name: string, type: string, bytes: Buffer): JudgeRequest => ({ filename: name, declaredType: type, sizeBytes: bytes.length, bytes, limits: DEFAULT_POLICY_LIMITS });
    for (const [name, type, bytes] of cases) {
      const here = await judge(req(name, type, bytes));
      // A copy that owns its memory, as a blob read gives it: handed over, so it is gone here afterwards.
      const own = Buffer.from(new Uint8Array(bytes).buffer);
      expect(await pool.judge(req(name, type, own), { keep: false }), name).toEqual(here);
      expect(own.byteLength, name).toBe(0);
      const kept = Buffer.from(new Uint8Array(bytes).buffer);
      expect(await pool.judge(req(name, type, kept), { keep: true }), name).toEqual(here);
      expect(kept.equals(bytes), name).toBe(true);
    }
    // A Buffer on a shared ArrayBuffer (as Node's pool gives small ones) is copied, never handed over: the others on it stay.
    const shared = new ArrayBuffer(64);
    const pooled = Buffer.from(shared, 0, 13);
    pooled.write('%PDF-1.4 tiny');
    const neighbour = Buffer.from(shared, 32, 10);
    neighbour.write('still here');
    await pool.judge(req('tiny.pdf', 'application/pdf', pooled), { keep: false });
    expect(neighbour.toString()).toBe('still here');
    expect(pooled.toString()).toBe('%PDF-1.4 tiny');
  });
});

