// The seed endpoint and the ticket routes through app.inject() against the
// run's real PostgreSQL: the seed request round-trips, every kind of bad input
// is a 400 naming its field, 401/403/404 come in PRODUCT.md's order, html is
// inert, and tickets list, filter, page and sort; /docs describes the routes.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DTO_ticket, DTO_ticket_conversation } from '../../src/conversations/dto.js';
import { verifyDownload } from '../../src/attachments/signing.js';
import { parseSignedMessageId } from '../../src/threading/message-id.js';
import { bearer, buildTestApp, createApiTenant, type ApiTenant, type TestApp, type Wrapped } from '../support/api.js';

let t: TestApp;
let acme: ApiTenant;
let other: ApiTenant;

/** A ticket of the tenant, made directly (as ingestion would), with its requester. */
async function makeTicket(tenant: ApiTenant, options: { subject?: string; status?: string; mailboxId?: number | null; lastActivity?: Date } = {}) {
  const db = t.db;
  const status = await db.status.findUniqueOrThrow({ where: { tenant_id_key: { tenant_id: tenant.id, key: options.status ?? 'new' } } });
  const contact = await db.contact.upsert({
    where: { tenant_id_email: { tenant_id: tenant.id, email: 'anna@example.com' } },
    create: { tenant_id: tenant.id, email: 'anna@example.com', name: 'Anna Example' },
    update: {},
  });
  const { ticket_counter } = await db.tenant.update({ where: { id: tenant.id }, data: { ticket_counter: { increment: 1 } } });
  const at = options.lastActivity ?? new Date('2026-11-01T10:00:00Z');
  return db.ticket.create({
    data: { tenant_id: tenant.id, number: ticket_counter, subject: options.subject ?? 'Printer on fire', status_id: status.id, requester_id: contact.id, mailbox_id: options.mailboxId ?? null, created: at, last_activity: at },
  });
}

async function makeAttachment(tenant: ApiTenant, filename = 'photo.pdf', status: 'OK' | 'UNAVAILABLE' = 'OK') {
  return t.db.attachment.create({
    data: { tenant_id: tenant.id, filename, content_type: 'application/pdf', size_bytes: 2049n, sha256: randomBytes(32).toString('hex'), storage_key: `test/${randomBytes(8).toString('hex')}`, status },
  });
}

const url = (tenant: string, ticketId: number | string, query = '') => `/api/${tenant}/v1/ticket_conversations/${ticketId}${query}`;

async function post(tenant: ApiTenant, ticketId: number | string, body: unknown, token = tenant.userToken) {
  const res = await t.app.inject({ method: 'POST', url: url(tenant.slug, ticketId), headers: bearer(token), payload: body as object });
  return { status: res.statusCode, body: res.json<Wrapped<DTO_ticket_conversation[]>>() };
}

async function get<T>(path: string, token: string) {
  const res = await t.app.inject({ method: 'GET', url: path, headers: bearer(token) });
  return { status: res.statusCode, body: res.json<Wrapped<T>>() };
}

const fields = (body: Wrapped) => body.errors.map((e) => e.field);

beforeAll(async () => {
  t = await buildTestApp();
  acme = await createApiTenant(t.db, 'conv');
  other = await createApiTenant(t.db, 'conv-other');
});
afterAll(async () => {
  await t?.close();
});

describe('POST/GET ticket_conversations/{ticket_id}', () => {
  it('round-trips the seed request: two conversations created, read-only fields filled, GET returns them oldest first with enums as numbers', async () => {
    const ticket = await makeTicket(acme);
    const pending = await t.db.status.findUniqueOrThrow({ where: { tenant_id_key: { tenant_id: acme.id, key: 'pending' } } });
    const attachment = await makeAttachment(acme);
    const processing = await makeAttachment(acme, 'scan.pdf', 'UNAVAILABLE');
    const body = [
      {
        ticket_id: ticket.id,
        type: 1,
        requester: { email: 'Bob@Example.com', name: 'Bob Example' },
        last_message_extracted: 'The printer is on fire.',
        sys_attachments: [{ id: attachment.id }, { id: processing.id }],
        email_addresses: [
          { email: 'bob@example.com', name: 'Bob Example', direction: 1 },
          { email: 'support@acme.test', name: '', direction: 2 },
        ],
        sys_content_rich: { html: '<p>The printer is on fire.</p><blockquote>old</blockquote>' },
      },
      {
        type: 'REPLY_OUTBOUND',
        sys_status: { id: pending.id },
        email_addresses: [{ email: 'bob@example.com', name: 'Bob', direction: 'TO' }],
        sys_content_rich: { html: '<p>We are on our way.</p>' },
      },
    ];
    const { status, body: res } = await post(acme, ticket.id, body);
    expect(status).toBe(200);
    expect(res.errors).toEqual([]);
    const [inbound, outbound] = res.data;
    expect(inbound).toMatchObject({
      ticket_id: ticket.id,
      type: 1,
      requester: { email: 'bob@example.com', name: 'Bob Example', profile_pic: null },
      last_message_extracted: 'The printer is on fire.',
      sys_attachments: [
        { id: attachment.id, label: 'photo.pdf', size_kb: 3, status: 2, status_message: null },
        { id: processing.id, label: 'scan.pdf', size_kb: 3, status: 1, status_message: null, download_url: null },
      ],
      email_addresses: [
        { email: 'bob@example.com', name: 'Bob Example', direction: 1 },
        { email: 'support@acme.test', name: '', direction: 2 },
      ],
      sys_status: { label: 'New' },
      created_by: { label: expect.any(String), email: expect.stringMatching(/^agent-/), profile_pic: null },
    });
    expect(inbound!.id).toBeGreaterThan(0);
    const download = new URL(inbound!.sys_attachments[0]!.download_url!);
    expect(`${download.origin}${download.pathname}`).toBe(`http://mailroom.test/api/${acme.slug}/v1/attachments/${attachment.id}/download`);
    expect(verifyDownload(t.config.secretKey, acme.slug, attachment.id, download.searchParams.get('expires'), download.searchParams.get('sig'))).toBe('ok');
    expect(inbound!.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(inbound!.last_updated_by).toEqual(inbound!.created_by);
    expect(inbound!.sys_content_rich).toMatchObject({ plain_preview: 'The printer is on fire.', read_minutes: 1 });
    expect(inbound!.sys_content_rich.editorjs.blocks.length).toBeGreaterThan(0);
    expect(inbound!).not.toHaveProperty('message_id');

    expect(outbound).toMatchObject({ type: 5, sys_status: { id: pending.id, label: 'Pending' }, requester: { email: 'anna@example.com' } });
    // No last_message_extracted given: the new text comes from the html.
    expect(outbound!.last_message_extracted).toBe('We are on our way.');
    const signed = parseSignedMessageId(outbound!.message_id!, t.config.secretKey);
    expect(signed).toEqual({ tenantId: acme.id, ticketId: ticket.id, conversationId: outbound!.id });
    expect(outbound!.message_id).toMatch(/@mailroom\.test$/);
    const stored = await t.db.conversation.findUniqueOrThrow({ where: { id: outbound!.id } });
    expect(stored.message_id).toBe(outbound!.message_id!.toLowerCase());

    const after = await t.db.ticket.findUniqueOrThrow({ where: { id: ticket.id } });
    expect(after.status_id).toBe(pending.id);
    expect(after.last_activity.getTime()).toBeGreaterThan(ticket.last_activity.getTime());
    expect((await t.db.attachment.findUniqueOrThrow({ where: { id: attachment.id } })).conversation_id).toBe(inbound!.id);

    const listed = await get<DTO_ticket_conversation[]>(url(acme.slug, ticket.id), acme.userToken);
    expect(listed.status).toBe(200);
    expect(listed.body.meta).toMatchObject({ page: 1, page_size: 50, total: 2 });
    // download_url is signed per response (its expiry moves with the clock): compare without its query.
    const unsigned = (list: DTO_ticket_conversation[]) =>
      list.map((c) => ({ ...c, sys_attachments: c.sys_attachments.map((a) => ({ ...a, download_url: a.download_url?.split('?')[0] ?? null })) }));
    expect(unsigned(listed.body.data)).toEqual(unsigned(res.data));
  });

  it('ignores ReadOnly fields and accepts enum names', async () => {
    const ticket = await makeTicket(acme);
    const { status, body } = await post(acme, ticket.id, [
      {
        id: 999_999,
        type: 'NOTE_PRIVATE',
        created: '2001-01-01T00:00:00Z',
        last_updated: '2001-01-01T00:00:00Z',
        created_by: { id: 1, label: 'Mallory', email: 'mallory@evil.test' },
        message_id: 'forged@evil.test',
        sys_status: null,
        email_addresses: [{ email: 'carol@example.com', direction: 'CC' }],
        sys_content_rich: { plain_preview: 'forged preview', html: '<p>Internal note</p>', read_minutes: 7 },
      },
    ]);
    expect(status).toBe(200);
    const [note] = body.data;
    expect(note!.id).not.toBe(999_999);
    expect(note!.type).toBe(2);
    expect(new Date(note!.created).getUTCFullYear()).toBeGreaterThan(2001);
    expect(note!.created_by.email).not.toBe('mallory@evil.test');
    expect(note).not.toHaveProperty('message_id');
    expect(note!.email_addresses).toEqual([{ email: 'carol@example.com', name: '', direction: 3 }]);
    expect(note!.sys_content_rich).toMatchObject({ plain_preview: 'Internal note', read_minutes: 7 });
    // A note does not move the ticket's activity.
    expect((await t.db.ticket.findUniqueOrThrow({ where: { id: ticket.id } })).last_activity).toEqual(ticket.last_activity);
    // Names in any case.
    const lower = await post(acme, ticket.id, [{ type: 'note_public', email_addresses: [{ email: 'dan@example.com', direction: 'reply_to' }] }]);
    expect(lower.status).toBe(200);
    expect(lower.body.data[0]).toMatchObject({ type: 3, email_addresses: [{ email: 'dan@example.com', direction: 7 }] });
  });

  it('points cid: images at the attachments the conversation names, signed once they are OK', async () => {
    const ticket = await makeTicket(acme);
    const logo = await makeAttachment(acme, 'logo.png');
    await t.db.attachment.update({ where: { id: logo.id }, data: { content_id: 'logo@acme.test' } });
    const { status, body } = await post(acme, ticket.id, [{ type: 'NOTE_PUBLIC', sys_attachments: [{ id: logo.id }], sys_content_rich: { html: '<p>Our logo</p><img src="cid:logo@acme.test">' } }]);
    expect(status).toBe(200);
    const html = body.data[0]!.sys_content_rich.html;
    expect(html).toMatch(new RegExp(`src="http://mailroom\\.test/api/${acme.slug}/v1/attachments/${logo.id}/download\\?expires=\\d+&amp;sig=[0-9a-f]{64}"`));
  });

  it('returns html inert: no script, event handler or javascript: URL, in html or in given Editor.js blocks', async () => {
    const ticket = await makeTicket(acme);
    const html = '<p onclick="alert(1)">Hi<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a><iframe src="https://evil.test"></iframe></p>';
    const editorjs = { blocks: [{ type: 'paragraph', data: { text: '<b onmouseover="alert(4)">bold</b><script>alert(5)</script><a href="java&#x09;script:alert(6)">x</a>' } }, { type: 'image', data: { file: { url: 'https://example.com/a.png' } } }] };
    const { status, body } = await post(acme, ticket.id, [{ type: 3, sys_content_rich: { html, editorjs } }]);
    expect(status).toBe(200);
    const rich = body.data[0]!.sys_content_rich;
    const all = JSON.stringify(rich);
    expect(all).not.toMatch(/<script|onerror|onclick|onmouseover|javascript:|<iframe/i);
    expect(rich.html).toContain('Hi');
    expect(rich.editorjs.blocks[0]!.data.text).toContain('<b>bold</b>');
  });

  it('refuses a hostile Editor.js document with 400 naming each bad value, and stores nothing', async () => {
    const ticket = await makeTicket(acme);
    const editorjs = {
      version: '2.31"><script>',
      blocks: [
        { id: '"><script>alert(1)</script>', type: 'paragraph', data: { text: 'hi' } },
        { type: 'raw', data: { html: '<b>x</b>' } },
        { type: 'image', data: { file: { url: ' JaVaScRiPt:alert(1)' } } },
        { type: 'linkTool', data: { link: 'https://ok.test', meta: { image: { url: 'data:text/html,<script>alert(1)</script>' } } } },
        { type: 'paragraph', data: { text: 'ok', onClick: 'java\tscript:alert(2)', 'a"b': 1 } },
      ],
    };
    const before = await t.db.conversation.count({ where: { ticket_id: ticket.id } });
    const { status, body } = await post(acme, ticket.id, [{ type: 3, sys_content_rich: { editorjs } }]);
    expect(status).toBe(400);
    const at = 'conversations[0].sys_content_rich.editorjs';
    expect(fields(body)).toEqual([
      `${at}.version`,
      `${at}.blocks[0].id`,
      `${at}.blocks[1].type`,
      `${at}.blocks[2].data.file.url`,
      `${at}.blocks[3].data.meta.image.url`,
      `${at}.blocks[4].data.onClick`,
      `${at}.blocks[4].data.a"b`,
    ]);
    expect(body.errors[3]!.message).toBe(`${at}.blocks[2].data.file.url uses the javascript: scheme; only http, https, mailto, cid and relative URLs are allowed`);
    expect(await t.db.conversation.count({ where: { ticket_id: ticket.id } })).toBe(before);
    // A __proto__ key never reaches the schema: the JSON parser refuses it.
    const res = await t.app.inject({ method: 'POST', url: url(acme.slug, ticket.id), headers: { ...bearer(acme.userToken), 'content-type': 'application/json' }, payload: '[{"type":3,"sys_content_rich":{"editorjs":{"blocks":[{"type":"paragraph","data":{"__proto__":{"x":1}}}]}}}]' });
    expect(res.statusCode).toBe(400);
  });

  it('answers 400 naming each bad field', async () => {
    const ticket = await makeTicket(acme);
    const cases: [unknown, string[]][] = [
      [[{ type: 9 }], ['conversations[0].type']],
      [[{ type: 'UNKNOWN' }], ['conversations[0].type']],
      [[{ type: 0 }], ['conversations[0].type']],
      [{ type: 1 }, ['conversations']],
      [[{ type: 1, email_addresses: [{ email: 'ok@example.com', direction: 1 }, { email: 'not an address', direction: 2 }] }], ['conversations[0].email_addresses[1].email']],
      [[{ type: 1, email_addresses: [{ email: 'ok@example.com', direction: 'SIDEWAYS' }] }], ['conversations[0].email_addresses[0].direction']],
      [[{ type: 1 }, { type: 1, requester: { name: 'No Email' } }], ['conversations[1].requester']],
      [[{ type: 1, ticket_id: ticket.id + 1000 }], ['conversations[0].ticket_id']],
    ];
    const notJson = await t.app.inject({ method: 'POST', url: url(acme.slug, ticket.id), headers: { ...bearer(acme.userToken), 'content-type': 'application/json' }, payload: '[{"type":' });
    expect(notJson.statusCode).toBe(400);
    expect(fields(notJson.json())).toEqual(['conversations']);
    for (const [body, expected] of cases) {
      const res = await post(acme, ticket.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fields(res.body), JSON.stringify(body)).toEqual(expected);
      expect(res.body.data).toBeNull();
    }
  });

  it('answers 400 for references that are unknown, foreign or taken', async () => {
    const ticket = await makeTicket(acme);
    const foreignStatus = await t.db.status.findUniqueOrThrow({ where: { tenant_id_key: { tenant_id: other.id, key: 'open' } } });
    const foreignAttachment = await makeAttachment(other);
    const mine = await makeAttachment(acme);
    const foreignContact = await t.db.contact.create({ data: { tenant_id: other.id, email: `x-${randomBytes(3).toString('hex')}@example.com` } });
    const res = await post(acme, ticket.id, [
      { type: 1, sys_status: { id: foreignStatus.id }, sys_attachments: [{ id: foreignAttachment.id }, { id: mine.id }], requester: { user_id: foreignContact.id } },
      { type: 1, sys_attachments: [{ id: mine.id }] },
    ]);
    expect(res.status).toBe(400);
    expect(fields(res.body)).toEqual(['conversations[0].sys_status.id', 'conversations[0].sys_attachments[0].id', 'conversations[0].requester.user_id', 'conversations[1].sys_attachments[0].id']);
    // Nothing was written: one transaction.
    expect(await t.db.conversation.count({ where: { ticket_id: ticket.id } })).toBe(0);
    expect((await t.db.attachment.findUniqueOrThrow({ where: { id: mine.id } })).conversation_id).toBeNull();
  });

  it('answers 400 for a bad path or query: ticket_id, tenant of one character, page_size', async () => {
    const bad = await post(acme, 'abc', [{ type: 1 }]);
    expect(bad.status).toBe(400);
    expect(fields(bad.body)).toEqual(['ticket_id']);
    for (const path of ['ticket_conversations', 'ticket_conversations/']) {
      const missing = await t.app.inject({ method: 'POST', url: `/api/${acme.slug}/v1/${path}`, headers: bearer(acme.userToken), payload: [{ type: 1 }] });
      expect(missing.statusCode, path).toBe(400);
      expect(fields(missing.json()), path).toEqual(['ticket_id']);
      const anonymous = await t.app.inject({ method: 'POST', url: `/api/${acme.slug}/v1/${path}`, payload: [{ type: 1 }] });
      expect(anonymous.statusCode, path).toBe(401);
    }
    for (const id of ['0', '-1', '2147483648', '1.5', '0x10']) {
      expect((await post(acme, id, [{ type: 1 }])).status, id).toBe(400);
    }
    const oneChar = await t.app.inject({ method: 'POST', url: url('a', 1), headers: bearer(acme.userToken), payload: [{ type: 1 }] });
    expect(oneChar.statusCode).toBe(400);
    expect(fields(oneChar.json())).toEqual(['tenant']);
    const ticket = await makeTicket(acme);
    for (const q of ['?page_size=0', '?page_size=201', '?page_size=abc']) {
      const res = await get(url(acme.slug, ticket.id, q), acme.userToken);
      expect(res.status, q).toBe(400);
      expect(fields(res.body)).toEqual(['page_size']);
    }
    expect(fields((await get(url(acme.slug, ticket.id, '?page=0'), acme.userToken)).body)).toEqual(['page']);
  });

  it('answers 401 without, with an invalid and with a revoked token; 403 for another tenant; 404 for an unknown ticket, after validation', async () => {
    const ticket = await makeTicket(acme);
    const none = await t.app.inject({ method: 'POST', url: url(acme.slug, ticket.id), payload: [{ type: 1 }] });
    expect(none.statusCode).toBe(401);
    expect((await post(acme, ticket.id, [{ type: 1 }], 'not-a-token')).status).toBe(401);
    const revoked = await createApiTenant(t.db, 'conv-revoked');
    await t.db.apiToken.updateMany({ where: { tenant_id: revoked.id }, data: { revoked_at: new Date() } });
    expect((await post(revoked, 1, [{ type: 1 }])).status).toBe(401);

    // Another tenant's token: 403 whether or not the path's tenant exists, even with a bad body.
    expect((await post(acme, ticket.id, { not: 'an array' }, other.userToken)).status).toBe(403);
    const ghost = await t.app.inject({ method: 'GET', url: url(`ghost-${randomBytes(3).toString('hex')}`, ticket.id), headers: bearer(other.userToken) });
    expect(ghost.statusCode).toBe(403);

    const unknown = await post(acme, 2_000_000_000, [{ type: 1 }]);
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0]!.code).toBe('NOT_FOUND');
    expect((await post(acme, 2_000_000_000, [{ type: 42 }])).status).toBe(400);
    // Another tenant's ticket is unknown here.
    const theirs = await makeTicket(other);
    expect((await post(acme, theirs.id, [{ type: 1 }])).status).toBe(404);
    expect((await get(url(acme.slug, theirs.id), acme.userToken)).status).toBe(404);
  });

  it('pages conversations oldest first', async () => {
    const ticket = await makeTicket(acme);
    const made = await post(acme, ticket.id, [1, 2, 3].map((n) => ({ type: 2, last_message_extracted: `note ${n}` })));
    expect(made.status).toBe(200);
    const page2 = await get<DTO_ticket_conversation[]>(url(acme.slug, ticket.id, '?page=2&page_size=2'), acme.userToken);
    expect(page2.body.meta).toMatchObject({ page: 2, page_size: 2, total: 3 });
    expect(page2.body.data.map((c) => c.last_message_extracted)).toEqual(['note 3']);
  });
});

describe('GET tickets, tickets/{id}', () => {
  let tenant: ApiTenant;
  let tickets: Awaited<ReturnType<typeof makeTicket>>[];
  let mailboxId: number;

  beforeAll(async () => {
    tenant = await createApiTenant(t.db, 'tickets');
    const mailbox = await t.db.mailbox.create({ data: { tenant_id: tenant.id, address: 'support@acme.test', host: '127.0.0.1', port: 143, username: 'u', secret_encrypted: 'x' } });
    mailboxId = mailbox.id;
    tickets = [
      await makeTicket(tenant, { subject: 'oldest', lastActivity: new Date('2026-11-01T00:00:00Z'), mailboxId }),
      await makeTicket(tenant, { subject: 'newest', lastActivity: new Date('2026-11-03T00:00:00Z'), status: 'open' }),
      await makeTicket(tenant, { subject: 'middle', lastActivity: new Date('2026-11-02T00:00:00Z'), mailboxId, status: 'open' }),
    ];
  });

  const list = (q = '') => get<DTO_ticket[]>(`/api/${tenant.slug}/v1/tickets${q}`, tenant.userToken);

  it('lists newest activity first, in the ticket shape', async () => {
    const res = await list();
    expect(res.status).toBe(200);
    expect(res.body.data.map((x) => x.subject)).toEqual(['newest', 'middle', 'oldest']);
    expect(res.body.meta).toMatchObject({ page: 1, page_size: 50, total: 3 });
    expect(res.body.data[2]).toEqual({
      id: tickets[0]!.id,
      subject: 'oldest',
      tag: `[#${tickets[0]!.number}]`,
      sys_status: { id: tickets[0]!.status_id, label: 'New', bg_color: expect.any(String), text_color: expect.any(String) },
      requester: { user_id: tickets[0]!.requester_id, email: 'anna@example.com', name: 'Anna Example', profile_pic: null },
      mailbox_id: mailboxId,
      conversation_count: 0,
      created: '2026-11-01T00:00:00.000Z',
      last_updated: expect.any(String),
      last_activity: '2026-11-01T00:00:00.000Z',
    });
  });

  it('filters by mailbox_id and by status key or id, and pages', async () => {
    expect((await list(`?mailbox_id=${mailboxId}`)).body.data.map((x) => x.subject)).toEqual(['middle', 'oldest']);
    expect((await list('?status=open')).body.data.map((x) => x.subject)).toEqual(['newest', 'middle']);
    expect((await list(`?status=${tickets[0]!.status_id}`)).body.data.map((x) => x.subject)).toEqual(['oldest']);
    expect((await list(`?status=open&mailbox_id=${mailboxId}`)).body.data.map((x) => x.subject)).toEqual(['middle']);
    const page2 = await list('?page=2&page_size=2');
    expect(page2.body.data.map((x) => x.subject)).toEqual(['oldest']);
    expect(page2.body.meta).toMatchObject({ page: 2, page_size: 2, total: 3 });
    const badStatus = await list('?status=bogus');
    expect(badStatus.status).toBe(400);
    expect(fields(badStatus.body)).toEqual(['status']);
    expect(fields((await list('?mailbox_id=x')).body)).toEqual(['mailbox_id']);
  });

  it('shows one ticket with its conversation count; another tenant’s ticket is a 404', async () => {
    await post(tenant, tickets[1]!.id, [{ type: 1, last_message_extracted: 'hello' }]);
    const one = await get<DTO_ticket>(`/api/${tenant.slug}/v1/tickets/${tickets[1]!.id}`, tenant.userToken);
    expect(one.status).toBe(200);
    expect(one.body.data).toMatchObject({ id: tickets[1]!.id, subject: 'newest', conversation_count: 1, sys_status: { label: 'Open' } });
    expect((await get(`/api/${acme.slug}/v1/tickets/${tickets[1]!.id}`, acme.userToken)).status).toBe(404);
    expect(fields((await get(`/api/${tenant.slug}/v1/tickets/abc`, tenant.userToken)).body)).toEqual(['id']);
  });
});

describe('/docs', () => {
  it('serves the OpenAPI document describing the routes, and a UI', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { parameters?: { name: string }[]; requestBody?: unknown; responses: Record<string, unknown> }>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    const conv = doc.paths['/api/{tenant}/v{version}/ticket_conversations/{ticket_id}'];
    expect(Object.keys(conv ?? {}).sort()).toEqual(['get', 'post']);
    expect(conv!.post!.requestBody).toBeDefined();
    expect(Object.keys(conv!.post!.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404']));
    expect(conv!.get!.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['ticket_id', 'page', 'page_size']));
    expect(doc.paths['/api/{tenant}/v{version}/tickets']?.get).toBeDefined();
    expect(doc.paths['/api/{tenant}/v{version}/tickets/{id}']?.get).toBeDefined();
    const ui = await t.app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(ui.statusCode);
  });
});
