// Every bad input is a 400, never a 500 (issue 13, item 6), as a property: a
// seeded generator of hostile values (NUL, lone surrogates high and low, C1 and
// C0 controls, huge and odd numbers, `__proto__`, `%ff`, very long strings,
// deep nesting) is fed into each field, key, query parameter and path segment
// of the tenant API routes through app.inject(), and every answer must be
// below 500 and, when an error, in the wrap ({data: null, errors[{code,
// message}], meta.request_id}). The seed is fixed, so a failure replays; the
// failure list names the request. Routes that connect to a mail server
// (mailboxes POST with "test": true, /test) are fed with "test": false only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, createApiTenant, type ApiTenant, type TestApp } from '../support/api.js';

const SEED = 0x13_0006;

/** mulberry32: a small seeded PRNG, so the same values come every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hostile strings a JSON body can carry (JSON.stringify escapes the lone surrogates as \udXXX). */
const HOSTILE_STRINGS = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\udbffy',
  'x\udc00\ud800y',
  '\u0085\u009b2J',
  '\u001b[2J\u001b[31mred',
  '\u202eevil',
  '\ufeff',
  '😀',
  '__proto__',
  'constructor',
  '%ff',
  '%00',
  '1e0',
  '0x10',
  '0001',
  '-1',
  '2147483648',
  '99999999999999999999999',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  'NaN',
  '',
  ' ',
  'javascript:alert(1)',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'a'.repeat(100_000),
  '\ud83d'.repeat(1000),
];

/** Hostile JSON values as raw text (numbers JSON.stringify cannot write, prototype keys, nesting). */
const HOSTILE_RAW = [
  'null',
  'true',
  '0',
  '-0',
  '1e400',
  '-1e400',
  '1e-400',
  '9007199254740993',
  '2147483648',
  '1.5',
  '[]',
  '{}',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  `${'['.repeat(200)}${']'.repeat(200)}`,
  '["\\u0000"]',
  '{"\\u0000":"x"}',
  '{"\\ud800":1}',
];

const HOSTILE_JSON = [...HOSTILE_STRINGS.map((s) => JSON.stringify(s)), ...HOSTILE_RAW];

/** Hostile pieces of a URL (path segment or query value), already %-encoded as a client would send them. */
const HOSTILE_URL = ['%00', '%ff', '%ED%A0%80', '%C0%80', '%C2%85', '%1B%5B2J', '%E2%80%AE', '1e0', '0x10', '0001', '-1', '0', '2147483648', '99999999999999999999', '%25', '%2F', '..', '__proto__', '%20', 'a'.repeat(5000), '%', '%f'];

type Path = (string | number)[];

/** A JSON body as text, with the value at `path` replaced by raw JSON text (or, with `asKey`, a hostile key added there). */
function bodyWith(base: unknown, path: Path, raw: string, asKey = false): string {
  const marker = `@@HOSTILE${Math.random().toString(36).slice(2)}@@`;
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (asKey) {
    const target = last === undefined ? node : (node[last] as Record<string, unknown>);
    target[marker] = 1;
    return JSON.stringify(copy).replace(`"${marker}"`, raw);
  }
  if (last === undefined) return raw;
  node[last] = marker;
  return JSON.stringify(copy).replace(`"${marker}"`, raw);
}

/** The leaf and object paths of a JSON value (where a hostile value or key can go). */
function pathsOf(value: unknown, prefix: Path = []): { leaves: Path[]; objects: Path[] } {
  const leaves: Path[] = [];
  const objects: Path[] = [];
  const walk = (v: unknown, p: Path) => {
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...p, i]));
    else if (v !== null && typeof v === 'object') {
      objects.push(p);
      for (const [k, item] of Object.entries(v)) walk(item, [...p, k]);
    } else leaves.push(p);
  };
  walk(value, prefix);
  return { leaves, objects };
}

interface Sent {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  payload?: string;
}

let t: TestApp;
let tenant: ApiTenant;
let ticketId: number;
let conversationId: number;
let mailboxId: number;
let statusId: number;
const failures: string[] = [];
let sent = 0;

async function send(req: Sent, token = tenant.adminToken): Promise<void> {
  sent++;
  const res = await t.app.inject({
    method: req.method,
    url: req.url,
    headers: { ...bearer(token), ...(req.payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(req.payload !== undefined ? { payload: req.payload } : {}),
  });
  const what = `${req.method} ${req.url.slice(0, 200)}${req.payload !== undefined ? ` ${req.payload.slice(0, 200)}` : ''} → ${res.statusCode}`;
  if (res.statusCode >= 500) {
    failures.push(`${what} ${res.body.slice(0, 200)}`);
    return;
  }
  if (res.statusCode < 400) return;
  let body: { data?: unknown; errors?: { code?: unknown; message?: unknown }[]; meta?: { request_id?: unknown } };
  try {
    body = res.json();
  } catch {
    failures.push(`${what} not JSON: ${res.body.slice(0, 200)}`);
    return;
  }
  const wrapped =
    body.data === null &&
    Array.isArray(body.errors) &&
    body.errors.length > 0 &&
    body.errors.every((e) => typeof e.code === 'string' && typeof e.message === 'string') &&
    typeof body.meta?.request_id === 'string';
  if (!wrapped) failures.push(`${what} not in the wrap: ${res.body.slice(0, 200)}`);
}

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;

/** `count` hostile values per field, drawn with the seeded PRNG; NUL and a lone surrogate always among them. */
function samples(rand: () => number, list: readonly string[], count: number, always: readonly string[]): string[] {
  const out = [...always];
  while (out.length < count) out.push(pick(rand, list));
  return out;
}

/** Feeds every leaf and every object (as a hostile key) of a base body. */
async function fuzzBody(rand: () => number, method: Sent['method'], url: string | (() => string), base: () => unknown, perField: number): Promise<void> {
  const { leaves, objects } = pathsOf(base());
  const urlOf = typeof url === 'string' ? () => url : url;
  for (const path of leaves) {
    for (const raw of samples(rand, HOSTILE_JSON, perField, [JSON.stringify('a\u0000b'), JSON.stringify('x\ud800'), JSON.stringify('\udc00')])) {
      await send({ method, url: urlOf(), payload: bodyWith(base(), path, raw) });
    }
  }
  for (const path of objects) {
    for (const key of samples(rand, HOSTILE_STRINGS, 3, ['\u0000', '\ud800'])) {
      await send({ method, url: urlOf(), payload: bodyWith(base(), path, JSON.stringify(key), true) });
    }
  }
  // The body as a whole.
  for (const raw of samples(rand, HOSTILE_JSON, perField, [])) await send({ method, url: urlOf(), payload: raw });
}

/** Feeds each query parameter, a hostile parameter name and a repeated parameter. */
async function fuzzQuery(rand: () => number, path: string, params: string[]): Promise<void> {
  for (const param of params) {
    for (const value of samples(rand, HOSTILE_URL, 8, ['%00', '%ff', '%ED%A0%80'])) await send({ method: 'GET', url: `${path}?${param}=${value}` });
    await send({ method: 'GET', url: `${path}?${param}=1&${param}=2` });
  }
  for (const name of ['%00', '%ED%A0%80', '__proto__', 'constructor']) await send({ method: 'GET', url: `${path}?${name}=1` });
}

/** Feeds a path template's `{}` with hostile segments. */
async function fuzzPath(rand: () => number, method: Sent['method'], template: string, payload?: string, values = HOSTILE_URL): Promise<void> {
  for (const value of samples(rand, values, 8, ['%00', '%ff', '1e0', '0x10'])) {
    await send({ method, url: template.replace('{}', value), ...(payload !== undefined ? { payload } : {}) });
  }
}

beforeAll(async () => {
  t = await buildTestApp();
  tenant = await createApiTenant(t.db, 'hostile');
  const status = await t.db.status.findUniqueOrThrow({ where: { tenant_id_key: { tenant_id: tenant.id, key: 'open' } } });
  statusId = status.id;
  const { ticket_counter } = await t.db.tenant.update({ where: { id: tenant.id }, data: { ticket_counter: { increment: 1 } } });
  const ticket = await t.db.ticket.create({ data: { tenant_id: tenant.id, number: ticket_counter, subject: 'Hostile', status_id: statusId } });
  ticketId = ticket.id;
  const first = await t.app.inject({ method: 'POST', url: `/api/${tenant.slug}/v1/ticket_conversations/${ticketId}`, headers: bearer(tenant.userToken), payload: [{ type: 1, last_message_extracted: 'first' }] });
  conversationId = first.json<{ data: { id: number }[] }>().data[0]?.id ?? 0;
  const mailbox = await t.app.inject({
    method: 'POST',
    url: `/api/${tenant.slug}/v1/mailboxes`,
    headers: bearer(tenant.adminToken),
    payload: { address: 'fuzz-base@hostile.test', host: 'imap.hostile.test', port: 993, username: 'u', password: 'p', test: false },
  });
  mailboxId = mailbox.json<{ data: { id: number } }>().data.id;
});
afterAll(async () => {
  await t?.close();
});

describe('hostile input', () => {
  it(`never answers 500, and answers errors in the wrap (seed ${SEED})`, async () => {
    const rand = prng(SEED);
    const api = `/api/${tenant.slug}/v1`;

    // The bases are accepted as they are, so a 400 below is about the hostile value, not the base.
    const conversation = () => [
      {
        type: 'NOTE_PRIVATE',
        sys_status: { id: statusId },
        requester: { email: 'anna@hostile.test', name: 'Anna' },
        last_message_extracted: 'Hello',
        email_addresses: [{ email: 'anna@hostile.test', name: 'Anna', direction: 1 }],
        sys_content_rich: {
          html: '<p>Hello</p>',
          read_minutes: 1,
          editorjs: { time: 1, version: '2.31.0', blocks: [{ id: 'b1', type: 'paragraph', data: { text: 'Hello', items: ['x'], url: 'https://example.com' } }] },
        },
      },
    ];
    let n = 0;
    const mailboxBase = () => ({ address: `fuzz-${n++}@hostile.test`, aliases: ['alias@hostile.test'], host: 'imap.hostile.test', port: 993, tls: 'tls', username: 'u', password: 'p', folder: 'INBOX', post_action: 'seen', poll_seconds: 60, since: '2026-01-01T00:00:00Z', test: false });
    const patchBase = () => ({ folder: 'INBOX', poll_seconds: 120, since: '2026-01-01T00:00:00Z', enabled: true, test: false });
    const tokenBase = () => ({ role: 'USER', user: 'agent@hostile.test', expires_in: '1d' });
    const baseChecks: Sent[] = [
      { method: 'POST', url: `${api}/ticket_conversations/${ticketId}`, payload: JSON.stringify(conversation()) },
      { method: 'POST', url: `${api}/mailboxes`, payload: JSON.stringify(mailboxBase()) },
      { method: 'PATCH', url: `${api}/mailboxes/${mailboxId}`, payload: JSON.stringify(patchBase()) },
      { method: 'POST', url: `${api}/tokens`, payload: JSON.stringify(tokenBase()) },
    ];
    for (const req of baseChecks) {
      const res = await t.app.inject({ method: req.method, url: req.url, headers: { ...bearer(tenant.adminToken), 'content-type': 'application/json' }, payload: req.payload });
      expect(res.statusCode, `${req.method} ${req.url}: ${res.body.slice(0, 300)}`).toBe(200);
    }

    // Bodies: every field and key.
    await fuzzBody(rand, 'POST', `${api}/ticket_conversations/${ticketId}`, conversation, 6);
    await fuzzBody(rand, 'POST', `${api}/mailboxes`, mailboxBase, 5);
    await fuzzBody(rand, 'PATCH', `${api}/mailboxes/${mailboxId}`, patchBase, 5);
    await fuzzBody(rand, 'POST', `${api}/tokens`, tokenBase, 5);

    // Query filters and pages.
    await fuzzQuery(rand, `${api}/tickets`, ['status', 'mailbox_id', 'page', 'page_size']);
    await fuzzQuery(rand, `${api}/ticket_conversations/${ticketId}`, ['page', 'page_size']);
    await fuzzQuery(rand, `${api}/mailboxes`, ['page', 'page_size']);
    await fuzzQuery(rand, `${api}/mailboxes/${mailboxId}/messages`, ['outcome', 'page', 'page_size']);
    await fuzzQuery(rand, `${api}/tokens`, ['page', 'page_size']);

    // Path segments: ids, the tenant and the version. DELETE and reprocess only with values that cannot name a real row.
    const notDigits = HOSTILE_URL.filter((v) => !/^\d+$/.test(v));
    await fuzzPath(rand, 'GET', `${api}/tickets/{}`);
    await fuzzPath(rand, 'GET', `${api}/ticket_conversations/{}`);
    await fuzzPath(rand, 'POST', `${api}/ticket_conversations/{}`, JSON.stringify(conversation()));
    await fuzzPath(rand, 'GET', `${api}/ticket_conversations/${ticketId}/{}`);
    await fuzzPath(rand, 'GET', `${api}/mailboxes/{}`);
    await fuzzPath(rand, 'PATCH', `${api}/mailboxes/{}`, JSON.stringify({ poll_seconds: 60 }));
    await fuzzPath(rand, 'DELETE', `${api}/mailboxes/{}`, undefined, notDigits);
    await fuzzPath(rand, 'GET', `${api}/mailboxes/{}/messages`);
    await fuzzPath(rand, 'POST', `${api}/mailboxes/${mailboxId}/messages/{}/reprocess`, undefined, notDigits);
    await fuzzPath(rand, 'GET', `${api}/tokens/{}`);
    await fuzzPath(rand, 'DELETE', `${api}/tokens/{}`, undefined, notDigits);
    await fuzzPath(rand, 'GET', `/api/{}/v1/tickets`);
    await fuzzPath(rand, 'GET', `/api/${tenant.slug}/v{}/tickets`);

    expect(conversationId).toBeGreaterThan(0);
    expect(sent).toBeGreaterThan(400);
    expect(failures, failures.slice(0, 20).join('\n')).toEqual([]);
  });
});

describe('the named cases of the review', () => {
  const api = () => `/api/${tenant.slug}/v1`;
  const call = async (method: Sent['method'], url: string, payload?: string) => {
    const res = await t.app.inject({ method, url, headers: { ...bearer(tenant.adminToken), 'content-type': 'application/json' }, ...(payload !== undefined ? { payload } : {}) });
    return { status: res.statusCode, body: res.json<{ data: unknown; errors: { code: string; field?: string; message: string }[] }>() };
  };

  it('refuses NUL and lone surrogates in values and keys with a 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['[{"type":1,"last_message_extracted":"a\\u0000b"}]', 'conversations[0].last_message_extracted'],
      ['[{"type":1,"last_message_extracted":"a\\ud800b"}]', 'conversations[0].last_message_extracted'],
      ['[{"type":1,"sys_content_rich":{"html":"<p>\\udc00</p>"}}]', 'conversations[0].sys_content_rich.html'],
      ['[{"type":1,"sys_content_rich":{"editorjs":{"blocks":[{"id":"\\ud800","type":"paragraph","data":{"text":"x"}}]}}}]', 'conversations[0].sys_content_rich.editorjs.blocks[0].id'],
      ['[{"type":1,"sys_content_rich":{"editorjs":{"blocks":[{"type":"paragraph","data":{"te\\u0000xt":"x"}}]}}}]', 'conversations[0].sys_content_rich.editorjs.blocks[0].data.te\\u0000xt'],
    ];
    for (const [payload, field] of cases) {
      const res = await call('POST', `${api()}/ticket_conversations/${ticketId}`, payload);
      expect(res.status, payload).toBe(400);
      expect(res.body.errors.map((e) => e.field)).toEqual([field]);
    }
    const status = await call('GET', `${api()}/tickets?status=%00`);
    expect(status.status).toBe(400);
    expect(status.body.errors[0]?.field).toBe('status');
  });

  it('refuses a backfill date outside what the database holds', async () => {
    for (const since of ['+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', '1969-12-31T23:59:59Z', '+010000-01-01T00:00:00Z']) {
      const res = await call('PATCH', `${api()}/mailboxes/${mailboxId}`, JSON.stringify({ since }));
      expect(res.status, since).toBe(400);
      expect(res.body.errors[0]?.field).toBe('since');
    }
  });

  it('answers a path that does not decode in the wrap, and ids only as plain digits', async () => {
    const bad = await call('GET', `${api()}/ticket_conversations/%ff`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ data: null, errors: [{ code: 'VALIDATION', field: 'path' }] });
    const long = await call('GET', `${api()}/tickets/${'1'.repeat(1000)}`);
    expect(long.status).toBe(414);
    expect(long.body.data).toBeNull();
    for (const id of ['1e0', '0x10', '-1', '1.0', '%201']) {
      const res = await call('GET', `${api()}/tickets/${id}`);
      expect(res.status, id).toBe(400);
      expect(res.body.errors[0]?.field).toBe('id');
    }
    // Leading zeros name the same ticket: the answer carries the canonical id.
    const padded = await call('GET', `${api()}/tickets/000${ticketId}`);
    expect(padded.status).toBe(200);
    expect(padded.body.data).toMatchObject({ id: ticketId });
  });
});
