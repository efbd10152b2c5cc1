// ingestMessage against the run's real PostgreSQL (no IMAP here; sync.test.ts
// covers fetching): the one-transaction write, threading, loop rules and
// exactly-once recognition.
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imapCursor, ingestMessage } from '../support/ingest.js';
import { ingestBatch, ingestItem, prepareItem, type BatchItem } from '../../src/ingest/ingest.js';
import { reprocessRecord } from '../../src/ingest/reprocess.js';
import { MailroomError } from '../../src/errors.js';
import type { FetchedMessage, IngestContext, IngestMailbox } from '../support/ingest.js';
import { createTenant } from '../../src/tenants/service.js';
import { blobKeyFor, createBlobStore, sha256Hex } from '../../src/storage/blob-store.js';
import { createLogger } from '../../src/logging/logger.js';
import { decodeSecretKey } from '../../src/config/config.js';
import { formatSignedMessageId } from '../../src/threading/message-id.js';
import { testEnv, testPrisma } from '../support/env.js';
import { createPrisma } from '../../src/db/prisma.js';
import { isTransientDbError } from '../../src/db/errors.js';

const db = testPrisma();
let ctx: IngestContext;
let mailbox: IngestMailbox;
let tenantId: number;
let uid = 0n;
const UIDV = 7n;

const mail = (headers: string, body = 'Hello,\r\n\r\nthe printer is on fire.\r\n') => Buffer.from(`${headers.trim().replace(/\n/g, '\r\n')}\r\n\r\n${body}`);
const fetched = (raw: Buffer, at = new Date('2026-11-20T10:00:00Z')): FetchedMessage => ({ uidValidity: UIDV, uid: ++uid, raw, internalDate: at });
/** A mail with one `bytes` attachment, base64 as senders write it; `headers`: more header lines (`\nName: value`). */
const withAttachment = (subject: string, bytes: Buffer, headers = '') =>
  mail(
    `From: anna@example.com\nTo: support@acme.test\nSubject: ${subject}\nMessage-ID: <${subject.replace(/ /g, '-')}@example.com>${headers}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"`,
    `--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream; name="big.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${bytes.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--b--\r\n`,
  );

beforeAll(async () => {
  const slug = `ingest-${randomBytes(4).toString('hex')}`;
  const tenant = await createTenant(db, { slug });
  tenantId = tenant.id;
  const row = await db.mailbox.create({
    data: { tenant_id: tenant.id, address: 'support@acme.test', aliases: ['help@acme.test'], host: '127.0.0.1', port: 143, tls: 'none', username: 'u', secret_encrypted: 'x', cursor: imapCursor(UIDV, 0n) },
  });
  mailbox = { id: row.id, tenant_id: tenant.id, address: row.address, aliases: row.aliases };
  ctx = {
    db,
    blobs: createBlobStore(`file://${mkdtempSync(path.join(tmpdir(), 'mailroom-blobs-'))}`),
    secretKey: decodeSecretKey(testEnv().secretKey)!,
    publicUrl: 'http://mailroom.test',
    logger: createLogger({ level: 'silent' }),
  };
});
afterAll(async () => {
  await db.$disconnect();
});

describe('ingestMessage', () => {
  let first: Awaited<ReturnType<typeof ingestMessage>>;
  const FIRST = mail(
    `From: "Anna Example" <anna@example.com>
To: help@acme.test
Cc: bob@example.com
Subject: Printer on fire
Message-ID: <first@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"`,
    '--b\r\nContent-Type: text/plain\r\n\r\nThe printer is on fire.\r\n--b\r\nContent-Type: application/pdf; name="photo.pdf"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n',
  );

  it('turns a new mail into a ticket, a conversation, addresses, an UNAVAILABLE attachment, a record and a cursor, together', async () => {
    first = await ingestMessage(ctx, mailbox, fetched(FIRST));
    expect(first).toMatchObject({ outcome: 'conversation', classification: 'human', alreadyRecorded: false });
    const conv = await db.conversation.findUniqueOrThrow({ where: { id: first.conversationId! }, include: { email_addresses: { orderBy: { position: 'asc' } }, attachments: true, requester: true, ticket: { include: { status: true } } } });
    expect(conv.type).toBe('REPLY_INBOUND');
    expect(conv.last_message_extracted).toBe('The printer is on fire.');
    expect(conv.created.toISOString()).toBe('2026-11-20T10:00:00.000Z');
    expect(conv.email_addresses.map((e) => [e.direction, e.email])).toEqual([
      ['FROM', 'anna@example.com'],
      ['TO', 'help@acme.test'],
      ['CC', 'bob@example.com'],
    ]);
    expect(conv.requester).toMatchObject({ email: 'anna@example.com', name: 'Anna Example' });
    expect(conv.ticket).toMatchObject({ subject: 'Printer on fire', mailbox_id: mailbox.id });
    expect(conv.ticket.status.key).toBe('new');
    expect(conv.attachments).toHaveLength(1);
    expect(conv.attachments[0]).toMatchObject({ status: 'UNAVAILABLE', content_type: 'application/pdf', size_bytes: 9n });
    expect(first.attachments).toEqual([{ id: conv.attachments[0]!.id, tenantId, storageKey: conv.attachments[0]!.storage_key }]);
    expect(await ctx.blobs.exists(conv.attachments[0]!.storage_key)).toBe(true);

    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: first.recordId } });
    expect(record).toMatchObject({ outcome: 'conversation', classification: 'human', thread_reason: 'new_ticket', message_id: 'first@example.com', from: 'anna@example.com' });
    expect(await ctx.blobs.get(record.raw_storage_key)).toEqual(FIRST);
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).cursor).toBe(imapCursor(UIDV, uid));
  });

  it('records the same UID once, and the same mail under another UID as a duplicate', async () => {
    for (const prepared of [false, true]) {
      const again = await ingestMessage(ctx, mailbox, { uidValidity: UIDV, uid: 1n, raw: FIRST, internalDate: null }, { prepared });
      expect(again).toMatchObject({ alreadyRecorded: true, recordId: first.recordId });
    }

    const dup = await ingestMessage(ctx, mailbox, fetched(FIRST));
    expect(dup).toMatchObject({ outcome: 'duplicate', conversationId: first.conversationId, ticketId: first.ticketId, attachments: [] });
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: dup.recordId } });
    expect(record.duplicate_of_id).toBe(first.recordId);
    expect(await db.conversation.count({ where: { tenant_id: tenantId } })).toBe(1);
  });

  it('threads a reply by In-Reply-To onto the ticket and moves its last activity', async () => {
    const reply = await ingestMessage(
      ctx,
      mailbox,
      fetched(mail('From: bob@example.com\nTo: support@acme.test\nSubject: Re: Printer on fire\nMessage-ID: <reply@example.com>\nIn-Reply-To: <FIRST@example.com>'), new Date('2026-11-21T09:00:00Z')),
    );
    expect(reply).toMatchObject({ outcome: 'conversation', ticketId: first.ticketId });
    expect((await db.ingestRecord.findUniqueOrThrow({ where: { id: reply.recordId } })).thread_reason).toBe('references');
    expect((await db.ticket.findUniqueOrThrow({ where: { id: first.ticketId! } })).last_activity.toISOString()).toBe('2026-11-21T09:00:00.000Z');
  });

  it('joins by a verified signed Message-ID of Mailroom, and by subject tag only for participants', async () => {
    const ticket = await db.ticket.findUniqueOrThrow({ where: { id: first.ticketId! } });
    const signed = formatSignedMessageId({ tenantId, ticketId: ticket.id, conversationId: 1, domain: 'acme.test' }, ctx.secretKey);
    const viaSigned = await ingestMessage(ctx, mailbox, fetched(mail(`From: carol@example.com\nTo: support@acme.test\nSubject: Re: something\nMessage-ID: <s1@example.com>\nReferences: <${signed}>`)));
    expect(viaSigned).toMatchObject({ outcome: 'conversation', ticketId: ticket.id });

    const stranger = await ingestMessage(ctx, mailbox, fetched(mail(`From: mallory@evil.test\nTo: support@acme.test\nSubject: [#${ticket.number}] let me in\nMessage-ID: <m1@evil.test>`)));
    expect(stranger.ticketId).not.toBe(ticket.id);
    expect((await db.ingestRecord.findUniqueOrThrow({ where: { id: stranger.recordId } })).thread_reason).toBe('subject_tag_not_participant');

    const participant = await ingestMessage(ctx, mailbox, fetched(mail(`From: Bob <BOB@example.com>\nTo: support@acme.test\nSubject: Re: [#${ticket.number}] Printer\nMessage-ID: <b2@example.com>`)));
    expect(participant).toMatchObject({ outcome: 'conversation', ticketId: ticket.id });
  });

  it('skips an auto-reply that threads nowhere, files one that threads without reopening, and reopens on a human reply', async () => {
    const lost = await ingestMessage(ctx, mailbox, fetched(mail('From: ooo@example.com\nTo: support@acme.test\nSubject: Out of office\nAuto-Submitted: auto-replied\nMessage-ID: <ooo1@example.com>')));
    expect(lost).toMatchObject({ outcome: 'skipped', classification: 'auto_reply', conversationId: null, ticketId: null });

    const closed = (await db.status.findFirstOrThrow({ where: { tenant_id: tenantId, key: 'solved' } })).id;
    await db.ticket.update({ where: { id: first.ticketId! }, data: { status_id: closed } });
    const before = await db.ticket.findUniqueOrThrow({ where: { id: first.ticketId! } });
    const auto = await ingestMessage(ctx, mailbox, fetched(mail('From: anna@example.com\nTo: support@acme.test\nSubject: Auto: Re: Printer\nAuto-Submitted: auto-replied\nMessage-ID: <ooo2@example.com>\nIn-Reply-To: <first@example.com>'), new Date('2026-11-24T00:00:00Z')));
    expect(auto).toMatchObject({ outcome: 'conversation', classification: 'auto_reply', ticketId: first.ticketId });
    const afterAuto = await db.ticket.findUniqueOrThrow({ where: { id: first.ticketId! } });
    expect(afterAuto.status_id).toBe(closed);
    expect(afterAuto.last_activity).toEqual(before.last_activity);

    await ingestMessage(ctx, mailbox, fetched(mail('From: anna@example.com\nTo: support@acme.test\nSubject: Re: Printer\nMessage-ID: <human3@example.com>\nIn-Reply-To: <first@example.com>')));
    const reopened = await db.ticket.findUniqueOrThrow({ where: { id: first.ticketId! }, include: { status: true } });
    expect(reopened.status.key).toBe('open');
  });

  it('skips mail from the tenant\'s own addresses, with the raw kept', async () => {
    const own = await ingestMessage(ctx, mailbox, fetched(mail('From: help@acme.test\nTo: anna@example.com\nSubject: we answered\nMessage-ID: <own@acme.test>')));
    expect(own).toMatchObject({ outcome: 'skipped', classification: 'own_address' });
  });

  it('records a malformed mail as failed with its raw kept, and moves the cursor past it', async () => {
    const raw = Buffer.from('\u0000\u0001this is not mail');
    const bad = await ingestMessage(ctx, mailbox, fetched(raw));
    expect(bad.outcome).toBe('failed');
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: bad.recordId } });
    expect(record.error_code).toBe('MAIL_UNREADABLE');
    expect(await ctx.blobs.get(record.raw_storage_key)).toEqual(raw);
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).cursor).toBe(imapCursor(UIDV, uid));
    // Read again under the same UID (the cursor was moved back): its record, nothing new, whether looked up
    // before anything else (an item not read ahead) or once it is parsed (a sync's read-ahead).
    for (const prepared of [false, true]) {
      const again = await ingestMessage(ctx, mailbox, { uidValidity: UIDV, uid, raw, internalDate: null }, { prepared });
      expect(again).toMatchObject({ alreadyRecorded: true, recordId: bad.recordId, outcome: 'failed' });
    }
  });

  it('takes a web form\'s requester from Reply-To, with the fallback on the ingest record', async () => {
    const res = await ingestMessage(ctx, mailbox, fetched(mail('From: Contact Form <>\nReply-To: Jane Roe <jane.roe@example.org>\nTo: support@acme.test\nSubject: Website enquiry\nMessage-ID: <form-1@www.acme.test>')));
    expect(res.outcome).toBe('conversation');
    const conv = await db.conversation.findUniqueOrThrow({ where: { id: res.conversationId! }, include: { requester: true, email_addresses: { orderBy: { position: 'asc' } } } });
    expect(conv.requester).toMatchObject({ email: 'jane.roe@example.org', name: 'Jane Roe' });
    expect(conv.email_addresses.map((e) => [e.direction, e.email])).toEqual([
      ['TO', 'support@acme.test'],
      ['REPLY_TO', 'jane.roe@example.org'],
    ]);
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: res.recordId } });
    expect(record.from).toBe('jane.roe@example.org');
    expect(record.warnings.some((w) => w.startsWith('requester_from_reply_to:') && w.includes('"Contact Form"'))).toBe(true);
  });

  it('keeps a request whose bytes have no header block as a conversation from an unknown sender, raw kept', async () => {
    const raw = Buffer.from('---- Original email message ----\r\nName: Jane Roe\r\n\r\nMy order 4711 arrived broken, please help.\r\n');
    const res = await ingestMessage(ctx, mailbox, fetched(raw));
    expect(res.outcome).toBe('conversation');
    const conv = await db.conversation.findUniqueOrThrow({ where: { id: res.conversationId! }, include: { ticket: true } });
    expect(conv.requester_id).toBeNull();
    expect(conv.ticket.requester_id).toBeNull();
    expect(conv.last_message_extracted).toContain('order 4711 arrived broken');
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: res.recordId } });
    expect(record.warnings).toContain('no header block found: read as text from an unknown sender');
    expect(record.warnings.some((w) => w.startsWith('requester_unknown:'))).toBe(true);
    expect(await ctx.blobs.get(record.raw_storage_key)).toEqual(raw);
  });

  it('ingests a reused Message-ID with a different subject as a new mail, with a warning', async () => {
    const reused = await ingestMessage(ctx, mailbox, fetched(mail('From: anna@example.com\nTo: support@acme.test\nSubject: A different question\nMessage-ID: <first@example.com>')));
    expect(reused.outcome).toBe('conversation');
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: reused.recordId } });
    expect(record.warnings.join('\n')).toMatch(/already used by a different mail/);
  });

  it('stores text with NUL characters and a huge subject without failing', async () => {
    const r = await ingestMessage(ctx, mailbox, fetched(mail(`From: anna@example.com\nTo: support@acme.test\nSubject: nul\u0000here ${'x'.repeat(5000)}\nMessage-ID: <nul@example.com>`, 'body with \u0000 nul\r\n')));
    expect(r.outcome).toBe('conversation');
    const ticket = await db.ticket.findUniqueOrThrow({ where: { id: r.ticketId! } });
    expect(ticket.subject).not.toContain('\u0000');
    expect(ticket.subject.length).toBeLessThanOrEqual(2000);
  });

  it('recognises the same mail delivered to a second mailbox of the tenant', async () => {
    const row = await db.mailbox.create({
      data: { tenant_id: tenantId, address: 'sales@acme.test', host: '127.0.0.1', port: 143, tls: 'none', username: 'u2', secret_encrypted: 'x', cursor: imapCursor(1n, 0n) },
    });
    const second: IngestMailbox = { id: row.id, tenant_id: tenantId, address: row.address, aliases: [] };
    const r = await ingestMessage(ctx, second, { uidValidity: 1n, uid: 1n, raw: Buffer.concat([Buffer.from('Delivered-To: sales@acme.test\r\n'), FIRST]), internalDate: null });
    expect(r).toMatchObject({ outcome: 'duplicate', conversationId: first.conversationId });
  });

  it('records a message whose processing throws as failed, so it cannot block the mailbox', async () => {
    const poison = Buffer.from('%PDF-POISON');
    const blobs = ctx.blobs;
    const failing: IngestContext = {
      ...ctx,
      blobs: { put: (b) => (b.equals(poison) ? Promise.reject(new Error('disk on fire')) : blobs.put(b)), putStream: (s) => blobs.putStream(s), get: (k) => blobs.get(k), open: (k) => blobs.open(k), exists: (k) => blobs.exists(k) },
    };
    const raw = mail(
      'From: anna@example.com\nTo: support@acme.test\nSubject: poison\nMessage-ID: <poison@example.com>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"',
      `--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/pdf; name="p.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${poison.toString('base64')}\r\n--b--\r\n`,
    );
    const r = await ingestMessage(failing, mailbox, fetched(raw));
    expect(r.outcome).toBe('failed');
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: r.recordId } });
    expect(record.error_code).toBe('INTERNAL');
    expect(record.error_message).toMatch(/disk on fire/);
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).cursor).toBe(imapCursor(UIDV, uid));
    // Read again under the same UID, throwing again: its failed record, not a second one or a stuck mailbox.
    for (const prepared of [false, true]) {
      const again = await ingestMessage(failing, mailbox, { uidValidity: UIDV, uid, raw, internalDate: null }, { prepared });
      expect(again).toMatchObject({ alreadyRecorded: true, recordId: r.recordId, outcome: 'failed' });
    }
    expect(await db.ingestRecord.count({ where: { mailbox_id: mailbox.id, source_key: record.source_key } })).toBe(1);
  });

  it('writes nothing when the cursor was moved by someone else (the item is read again later)', async () => {
    const before = (await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).cursor;
    const raw = mail('From: anna@example.com\nTo: support@acme.test\nSubject: cursor race\nMessage-ID: <cursor-race@example.com>');
    await expect(ingestItem(ctx, mailbox, { sourceKey: `${UIDV}:9001`, raw, receivedAt: null }, { cursor: { from: 'not-the-cursor', to: `${UIDV}:9001` } })).rejects.toMatchObject({ code: 'CURSOR_MOVED' });
    expect(await db.ingestRecord.count({ where: { mailbox_id: mailbox.id, source_key: `${UIDV}:9001` } })).toBe(0);
    expect(await db.conversation.count({ where: { tenant_id: tenantId, message_id: 'cursor-race@example.com' } })).toBe(0);
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).cursor).toBe(before);
  });

  it('never records a good mail as failed because the blob store failed: the error goes back to the sync, the cursor stays', async () => {
    const before = (await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).cursor;
    const broken: IngestContext = { ...ctx, blobs: { ...ctx.blobs, put: () => Promise.reject(new MailroomError('STORAGE_FAILED', 'Cannot write blob (disk full).')) } };
    const raw = mail('From: anna@example.com\nTo: support@acme.test\nSubject: disk full\nMessage-ID: <disk-full@example.com>');
    await expect(ingestMessage(broken, mailbox, fetched(raw))).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(await db.ingestRecord.count({ where: { mailbox_id: mailbox.id, source_key: `${UIDV}:${uid}` } })).toBe(0);
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).cursor).toBe(before);
    // The same mail, fetched again once the store works, is ingested normally.
    expect((await ingestMessage(ctx, mailbox, { uidValidity: UIDV, uid, raw, internalDate: null })).outcome).toBe('conversation');
  });

  it("writes a human's attachment once more when writing it ahead failed, instead of failing the sync for a passing blip", async () => {
    let attempts = 0;
    const put = (bytes: Buffer, sha256?: string) =>
      sha256 !== undefined && attempts++ === 0 ? Promise.reject(new MailroomError('STORAGE_FAILED', 'Cannot write blob (a blip).')) : ctx.blobs.put(bytes, sha256);
    const flaky: IngestContext = { ...ctx, blobs: { ...ctx.blobs, put } };
    const result = await ingestMessage(flaky, mailbox, fetched(withAttachment('write ahead blip', randomBytes(100))), { prepared: true });
    expect(result.outcome).toBe('conversation');
    expect(attempts).toBe(2);
    expect(result.attachments).toHaveLength(1);
  });

  it('stores a large attachment while the mail is parsed, under the key, size and sha256 its row names', async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const streamed: number[] = [];
    const watching: IngestContext = { ...ctx, blobs: { ...ctx.blobs, put: (b) => ctx.blobs.put(b), get: (k) => ctx.blobs.get(k), open: (k) => ctx.blobs.open(k), exists: (k) => ctx.blobs.exists(k), putStream: async (source) => {
      const stored = await ctx.blobs.putStream(source);
      streamed.push(stored.size);
      return stored;
    } } };
    const r = await ingestMessage(watching, mailbox, fetched(withAttachment('large attachment', bytes)));
    expect(r.outcome).toBe('conversation');
    expect(streamed).toEqual([bytes.length]);
    const row = await db.attachment.findFirstOrThrow({ where: { conversation_id: r.conversationId! } });
    expect({ size: Number(row.size_bytes), sha256: row.sha256, filename: row.filename }).toEqual({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), filename: 'big.bin' });
    expect((await ctx.blobs.get(row.storage_key)).equals(bytes)).toBe(true);
  });

  it('never records a good mail as failed because storing its large attachment while parsing failed', async () => {
    const before = (await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).cursor;
    const broken: IngestContext = { ...ctx, blobs: { ...ctx.blobs, put: (b) => ctx.blobs.put(b), putStream: (source) => (source.destroy(), Promise.reject(new MailroomError('STORAGE_FAILED', 'Cannot write blob (disk full).'))) } };
    const raw = withAttachment('large attachment disk full', randomBytes(2 * 1024 * 1024));
    await expect(ingestMessage(broken, mailbox, fetched(raw))).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(await db.ingestRecord.count({ where: { mailbox_id: mailbox.id, source_key: `${UIDV}:${uid}` } })).toBe(0);
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).cursor).toBe(before);
    expect((await ingestMessage(ctx, mailbox, { uidValidity: UIDV, uid, raw, internalDate: null })).outcome).toBe('conversation');
  });

  it('never records a good mail as failed because its database connection was reset mid-statement', async () => {
    // A proxy in front of PostgreSQL resets the connection as the conversation insert goes by (a pgbouncer
    // restart, a firewall): the raw statement fails with only a driver error kind, which must read as transient.
    const target = new URL(testEnv().databaseUrl);
    let armed = true;
    const proxy = net.createServer((client) => {
      const server = net.connect({ host: target.hostname, port: Number(target.port || 5432) });
      server.on('error', () => client.destroy());
      client.on('error', () => server.destroy());
      client.on('data', (d: Buffer) => {
        if (armed && d.includes('INSERT INTO conversations')) {
          armed = false;
          client.resetAndDestroy();
          server.destroy();
          return;
        }
        server.write(d);
      });
      server.pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const via = new URL(target);
    via.port = String((proxy.address() as net.AddressInfo).port);
    const flaky = createPrisma(via.toString(), { max: 2 });
    try {
      const msg = fetched(mail(`From: reset@example.com\nTo: support@acme.test\nSubject: Reset mid-statement\nMessage-ID: <reset-mid@example.com>`));
      await expect(ingestMessage({ ...ctx, db: flaky }, mailbox, msg)).rejects.toSatisfy(isTransientDbError);
      expect(armed).toBe(false);
      expect(await db.ingestRecord.count({ where: { mailbox_id: mailbox.id, source_key: `${UIDV}:${msg.uid}` } })).toBe(0);
      // Read again once the database is reachable: a conversation, not a failed record.
      expect(await ingestMessage(ctx, mailbox, msg)).toMatchObject({ outcome: 'conversation' });
    } finally {
      await flaky.$disconnect();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('lets only one of two concurrent reprocesses of a record write it', async () => {
    const raw = mail('From: anna@example.com\nTo: support@acme.test\nSubject: twice\nMessage-ID: <reprocess-twice@example.com>');
    const limited: IngestContext = { ...ctx, parseLimits: { maxRawBytes: 10 } };
    const failed = await ingestMessage(limited, mailbox, fetched(raw));
    expect(failed.outcome).toBe('failed');
    const results = await Promise.allSettled([reprocessRecord(ctx, failed.recordId), reprocessRecord(ctx, failed.recordId)]);
    const done = results.filter((r) => r.status === 'fulfilled');
    expect(done.length).toBeGreaterThanOrEqual(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONFLICT' });
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: failed.recordId } });
    expect(record.outcome).toBe('conversation');
    expect(await db.conversation.count({ where: { tenant_id: tenantId, message_id: 'reprocess-twice@example.com' } })).toBe(1);
  });
});

describe('mail over a limit (conversation with a note, not a lost mail)', () => {
  const header = (id: string, subject: string, extra = '') =>
    `From: "Carla Limit" <Carla@Limits.example>\nTo: support@acme.test\nSubject: ${subject}\nMessage-ID: <${id}>\nMIME-Version: 1.0${extra}`;
  const manyParts = (id: string, n: number, extra = '') => {
    let body = '';
    for (let i = 0; i < n; i++) body += `--x\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`;
    return mail(header(id, 'Many parts', `${extra}\nContent-Type: multipart/mixed; boundary="x"`), `${body}--x--\r\n`);
  };
  let root: Awaited<ReturnType<typeof ingestMessage>>;

  beforeAll(async () => {
    root = await ingestMessage(ctx, mailbox, fetched(mail(header('limit-root@limits.example', 'Quarterly numbers'))));
    expect(root.outcome).toBe('conversation');
  });

  it('makes a mail with 501 MIME parts a conversation of its headers, threaded, with the warning on the record and the raw kept', async () => {
    const raw = manyParts('limit-parts@limits.example', 501, '\nIn-Reply-To: <limit-root@limits.example>\nReferences: <limit-root@limits.example>');
    const r = await ingestMessage(ctx, mailbox, fetched(raw));
    expect(r).toMatchObject({ outcome: 'conversation', ticketId: root.ticketId });
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: r.recordId } });
    expect(record).toMatchObject({ thread_reason: 'references', from: 'carla@limits.example', subject: 'Many parts', message_id: 'limit-parts@limits.example', error_code: null, header_only: false });
    expect(record.warnings).toContain('the body was not read, it is over a limit: it has more than 500 MIME parts (MAILROOM_MAX_MIME_PARTS); only the headers were read, the raw message is kept for reprocess');
    expect(await ctx.blobs.get(record.raw_storage_key)).toEqual(raw);
    const conv = await db.conversation.findUniqueOrThrow({ where: { id: r.conversationId! }, include: { requester: true } });
    expect(conv).toMatchObject({ message_id: 'limit-parts@limits.example', in_reply_to: 'limit-root@limits.example', references: ['limit-root@limits.example'] });
    expect(conv.requester).toMatchObject({ email: 'carla@limits.example', name: 'Carla Limit' });
  });

  it('applies the context\'s limits (the worker\'s MAILROOM_MAX_MIME_PARTS)', async () => {
    const within = await ingestMessage(ctx, mailbox, fetched(manyParts('limit-ten-a@limits.example', 10)));
    const conv = await db.conversation.findUniqueOrThrow({ where: { id: within.conversationId! } });
    expect(conv.last_message_extracted).toContain('part 9');
    const strict = await ingestMessage({ ...ctx, parseLimits: { maxParts: 5 } }, mailbox, fetched(manyParts('limit-ten-b@limits.example', 10)));
    expect(strict.outcome).toBe('conversation');
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: strict.recordId } });
    expect(record.warnings.join('\n')).toContain('it has more than 5 MIME parts (MAILROOM_MAX_MIME_PARTS)');
  });

  it('records from, subject and Message-ID of a mail whose top-level header is over the limit, as failed', async () => {
    let filler = '';
    for (let i = 0; i < 3000; i++) filler += `\nX-Filler-${i}: ${'v'.repeat(90)}`;
    const raw = mail(header('limit-header@limits.example', 'Huge header', filler));
    expect(raw.length).toBeGreaterThan(300 * 1024);
    const r = await ingestMessage(ctx, mailbox, fetched(raw));
    expect(r.outcome).toBe('failed');
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: r.recordId } });
    expect(record).toMatchObject({ error_code: 'MAIL_LIMIT_EXCEEDED', from: 'carla@limits.example', subject: 'Huge header', message_id: 'limit-header@limits.example' });
    expect(record.error_message).toMatch(/header block is larger than 262144 bytes \(MAILROOM_MAX_HEADER_BYTES\)/);
    expect(await ctx.blobs.get(record.raw_storage_key)).toEqual(raw);
    // Raised limit: reprocess makes it a conversation.
    const again = await reprocessRecord({ ...ctx, parseLimits: { maxHeaderBytes: 1024 * 1024 } }, r.recordId);
    expect(again).toMatchObject({ outcome: 'conversation', rerun: true });
  });

  it('makes the header of a message over the size limit a conversation with a warning (header_only)', async () => {
    const head = Buffer.from(`${header('limit-size@limits.example', 'Re: Quarterly numbers', '\nIn-Reply-To: <limit-root@limits.example>').replace(/\n/g, '\r\n')}\r\n\r\n`);
    const r = await ingestItem(ctx, mailbox, { sourceKey: `${UIDV}:${++uid}`, raw: head, receivedAt: new Date('2026-11-22T08:00:00Z'), oversize: { size: 70_000_000, limit: 67_108_864 } }, { cursor: null });
    expect(r).toMatchObject({ outcome: 'conversation', ticketId: root.ticketId });
    const record = await db.ingestRecord.findUniqueOrThrow({ where: { id: r.recordId } });
    expect(record).toMatchObject({ header_only: true, error_code: null, from: 'carla@limits.example', message_id: 'limit-size@limits.example' });
    expect(record.warnings).toContain('the message is 70000000 bytes, over the limit of 67108864 (MAILROOM_MAX_MESSAGE_BYTES); only its header was read');
    expect(await ctx.blobs.get(record.raw_storage_key)).toEqual(head);

    // A header that cannot be read still fails, as before.
    const junk = await ingestItem(ctx, mailbox, { sourceKey: `${UIDV}:${++uid}`, raw: Buffer.alloc(0), receivedAt: null, oversize: { size: 70_000_000, limit: 67_108_864 } }, { cursor: null });
    expect(junk.outcome).toBe('failed');
    expect(await db.ingestRecord.findUniqueOrThrow({ where: { id: junk.recordId } })).toMatchObject({ header_only: true, error_code: 'MAIL_LIMIT_EXCEEDED' });
  });
});

describe('ingestBatch (items a sync prepared ahead, in one transaction)', () => {
  const newMail = (id: string, extra = '', from = 'Dora <dora@batch.example>') =>
    mail(`From: ${from}\nTo: support@acme.test\nSubject: Batch ${id}\nMessage-ID: <${id}@batch.example>${extra}`, `About ${id}.\r\n`);

  /** The items with the cursor moving from one to the next, as a sync hands them over; `moved`: this one's cursor was moved meanwhile. */
  async function batchOf(raws: Buffer[], moved?: number): Promise<{ items: BatchItem[]; cursorBefore: string | null }> {
    const row = await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id }, select: { cursor: true } });
    let from = row.cursor;
    const items = raws.map((raw, i) => {
      const msg = fetched(raw);
      const item = { sourceKey: `${UIDV}:${msg.uid}`, raw, receivedAt: msg.internalDate };
      const cursor = { from: i === moved ? imapCursor(UIDV, 1n) : from, to: imapCursor(UIDV, msg.uid) };
      from = cursor.to;
      return { item, cursor, prepared: prepareItem(ctx, mailbox, item) };
    });
    return { items, cursorBefore: row.cursor };
  }

  it('decides each item on what the earlier ones wrote, and moves the cursor item by item to the last', async () => {
    const root = newMail('root');
    const reply = newMail('reply', '\nIn-Reply-To: <root@batch.example>');
    // The same mail once more (another relay's Received line): same Message-ID, From and subject.
    const copy = Buffer.concat([Buffer.from('Received: from relay2.example\r\n'), root]);
    const { items } = await batchOf([root, reply, copy]);
    const results = await ingestBatch(ctx, mailbox, items);
    expect(results?.map((r) => r.outcome)).toEqual(['conversation', 'conversation', 'duplicate']);
    const [a, b, c] = results!;
    expect(b!.ticketId).toBe(a!.ticketId);
    expect(c).toMatchObject({ conversationId: a!.conversationId, ticketId: a!.ticketId });
    const row = await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id }, select: { cursor: true } });
    expect(row.cursor).toBe(items[2]!.cursor.to);
    const records = await db.ingestRecord.findMany({ where: { mailbox_id: mailbox.id, source_key: { in: items.map((i) => i.item.sourceKey) } }, orderBy: { id: 'asc' } });
    expect(records.map((r) => [r.source_key, r.outcome, r.duplicate_of_id])).toEqual([
      [items[0]!.item.sourceKey, 'conversation', null],
      [items[1]!.item.sourceKey, 'conversation', null],
      [items[2]!.item.sourceKey, 'duplicate', records[0]!.id],
    ]);
  });

  it('stores nothing of a batch whose third item cannot be written, so its items can go one by one', async () => {
    const { items, cursorBefore } = await batchOf([newMail('all-or-none-1'), newMail('all-or-none-2'), newMail('all-or-none-3')], 2);
    expect(await ingestBatch(ctx, mailbox, items)).toBeNull();
    expect(await db.ingestRecord.count({ where: { mailbox_id: mailbox.id, source_key: { in: items.map((i) => i.item.sourceKey) } } })).toBe(0);
    expect(await db.conversation.count({ where: { tenant_id: tenantId, message_id: { startsWith: 'all-or-none-' } } })).toBe(0);
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).cursor).toBe(cursorBefore);
  });

  it('gives up at once, storing nothing, when another writer holds a row it needs (it may be waiting for the batch: a deadlock)', async () => {
    let release: () => void = () => undefined;
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    // Another writer is creating the same new contact and does not let go until the batch has answered.
    const holder = db.$transaction(
      async (tx) => {
        await tx.$executeRaw`INSERT INTO contacts (tenant_id, email, name, created, last_updated) VALUES (${tenantId}::int, 'erin@batch.example', 'Erin', now(), now())`;
        locked();
        await new Promise<void>((resolve) => (release = resolve));
        throw new Error('rolled back on purpose');
      },
      { timeout: 60_000 },
    );
    holder.catch(() => undefined);
    await isLocked;
    const { items, cursorBefore } = await batchOf([newMail('locked-1'), newMail('locked-2', '', 'Erin <erin@batch.example>')]);
    try {
      expect(await ingestBatch(ctx, mailbox, items)).toBeNull();
    } finally {
      release();
      await holder.catch(() => undefined);
    }
    expect(await db.ingestRecord.count({ where: { mailbox_id: mailbox.id, source_key: { in: items.map((i) => i.item.sourceKey) } } })).toBe(0);
    expect((await db.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).cursor).toBe(cursorBefore);
    // Once the row is free, the same batch goes through.
    expect((await ingestBatch(ctx, mailbox, items))?.map((r) => r.outcome)).toEqual(['conversation', 'conversation']);
  });

  it('lets batches of one tenant take turns on the tenant row instead of giving up', async () => {
    const one = await batchOf([newMail('turns-a1'), newMail('turns-a2')]);
    // The second batch's items follow the first's in the same mailbox, so its cursor starts where the first ends.
    const two = await batchOf([newMail('turns-b1'), newMail('turns-b2')]);
    two.items[0] = { ...two.items[0]!, cursor: { from: one.items[1]!.cursor.to, to: two.items[0]!.cursor.to } };
    let release: () => void = () => undefined;
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    // A writer holds the tenant row (as a batch does) for longer than a batch's lock timeout.
    const holder = db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM tenants WHERE id = ${tenantId}::int FOR UPDATE`;
        locked();
        await new Promise<void>((resolve) => (release = resolve));
      },
      { timeout: 60_000 },
    );
    await isLocked;
    const first = ingestBatch(ctx, mailbox, one.items);
    await new Promise((resolve) => setTimeout(resolve, 500));
    release();
    await holder;
    expect((await first)?.map((r) => r.outcome)).toEqual(['conversation', 'conversation']);
    expect((await ingestBatch(ctx, mailbox, two.items))?.map((r) => r.outcome)).toEqual(['conversation', 'conversation']);
  });

  it("stores a human's attachments while it is prepared, for the batch to name; an auto-reply's not before it is a conversation", async () => {
    const human = randomBytes(64);
    const auto = randomBytes(64);
    const keyOf = (bytes: Buffer) => blobKeyFor(sha256Hex(bytes));
    const { items } = await batchOf([withAttachment('batch att human', human), newMail('att-plain')]);
    const [first] = items;
    await first!.prepared.settled;
    // Stored and numbered before anything is decided or written: the transaction does not wait for the blob store.
    expect(await ctx.blobs.exists(keyOf(human))).toBe(true);
    const numbered = await first!.prepared.attachments;
    expect(numbered?.ids).toHaveLength(1);
    const results = await ingestBatch(ctx, mailbox, items);
    expect(results?.map((r) => r.outcome)).toEqual(['conversation', 'conversation']);
    const rows = await db.attachment.findMany({ where: { conversation_id: results![0]!.conversationId! } });
    expect(rows.map((r) => [r.id, r.storage_key, r.status])).toEqual([[numbered!.ids[0], keyOf(human), 'UNAVAILABLE']]);
    expect(results![0]!.attachments).toEqual([{ id: numbered!.ids[0], tenantId, storageKey: keyOf(human) }]);

    // Automatic mail that threads nowhere is skipped, and its attachment is never written.
    const skipped = prepareItem(ctx, mailbox, { sourceKey: `${UIDV}:${++uid}`, raw: withAttachment('batch att auto', auto, '\nAuto-Submitted: auto-replied'), receivedAt: null });
    await skipped.settled;
    expect(skipped.plain).toBe(false);
    expect(await skipped.attachments).toBeNull();
    expect(await ctx.blobs.exists(keyOf(auto))).toBe(false);
  });

  it('leaves a mail that could not be parsed, or one over the size limit, to the one-by-one path', async () => {
    const { items } = await batchOf([newMail('plain'), Buffer.alloc(0)]);
    expect(await ingestBatch(ctx, mailbox, items)).toBeNull();
    expect(await db.ingestRecord.count({ where: { source_key: { in: items.map((i) => i.item.sourceKey) }, mailbox_id: mailbox.id } })).toBe(0);
  });
});
