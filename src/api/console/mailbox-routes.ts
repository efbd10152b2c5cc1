// The console's mailbox routes: list, add (with its connection test), show
// and edit, test, enable/disable, remove, the ingest log and reprocess. Each
// calls the service the API's mailbox route calls; form fields become the
// same input the API's JSON body is.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeError, isMailroomError, MailroomError } from '../../errors.js';
import { recordsToReprocess } from '../../ingest/reprocess.js';
import { addMailboxTested, connectionTestDeps, testNewMailbox, testStoredMailbox, updateMailboxTested } from '../../mailboxes/connection.js';
import { getMailbox, listMailboxes, removeMailbox, setMailboxEnabled } from '../../mailboxes/service.js';
import type { MailboxView } from '../../mailboxes/types.js';
import { failedCounts, listIngestLog, reprocessLogRecord } from '../ingest-records.js';
import { BASE } from './layout.js';
import { logPage, OUTCOMES, type Outcome } from './log-views.js';
import { mailboxFormPage, mailboxListPage, mailboxPage, mailboxPath, removePage, valuesOf, type FieldErrors, type FormValues } from './mailbox-views.js';
import type { ConsoleDeps } from './types.js';

/** A bulk reprocess runs at most this many records per click (a request must end; the button stays while more are left). */
export const BULK_REPROCESS_LIMIT = 200;
const LOG_PAGE_SIZE = 50;
const MAILBOX_PAGE_SIZE = 50;

type IdParams = { Params: { id: string } };

/** A positive id from the path; NOT_FOUND for anything else (the console's links only make valid ones). */
export function idParam(value: string | undefined): number {
  if (!value || !/^[1-9]\d{0,9}$/.test(value) || Number(value) > 2_147_483_647) throw new MailroomError('NOT_FOUND', 'No such page.');
  return Number(value);
}

export function pageParam(value: unknown): number {
  return typeof value === 'string' && /^[1-9]\d{0,5}$/.test(value) ? Number(value) : 1;
}

function form(req: FastifyRequest): URLSearchParams {
  return req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
}

/** The text of the form's fields (never the password). */
function formValues(body: URLSearchParams): FormValues {
  const v: FormValues = {};
  for (const k of ['address', 'aliases', 'host', 'port', 'tls', 'username', 'folder', 'post_action', 'move_folder', 'poll_seconds', 'since', 'tls_ca_pem'] as const) v[k] = body.get(k) ?? '';
  v.remove_ca = body.get('remove_ca') === 'on' ? 'on' : 'off';
  v.enabled = body.get('enabled') === 'on' ? 'on' : 'off';
  v.skip_test = body.get('skip_test') === 'on' ? 'on' : 'off';
  return v;
}

const number = (text: string | undefined) => (text && /^\d+$/.test(text.trim()) ? Number(text.trim()) : text?.trim() ? text.trim() : undefined);
const aliasesOf = (text: string | undefined) => (text ?? '').split(/[\s,;]+/).filter(Boolean);
const postActionOf = (v: FormValues) => (v.post_action === 'move' ? `move:${v.move_folder ?? ''}` : (v.post_action ?? 'none'));
/** The CA pasted into the form (browsers send CRLF line breaks), or null when the field is empty. */
const caOf = (v: FormValues) => (v.tls_ca_pem?.trim() ? v.tls_ca_pem.replace(/\r\n?/g, '\n').trim() + '\n' : null);

/** A new mailbox's input, as the API's POST body would carry it. */
function newMailboxInput(v: FormValues, password: string): Record<string, unknown> {
  return {
    address: v.address ?? '',
    aliases: aliasesOf(v.aliases),
    host: v.host ?? '',
    port: number(v.port),
    tls: v.tls || 'tls',
    username: v.username ?? '',
    ...(password ? { password } : {}),
    ...(v.folder?.trim() ? { folder: v.folder } : {}),
    post_action: postActionOf(v),
    ...(v.poll_seconds?.trim() ? { poll_seconds: number(v.poll_seconds) } : {}),
    since: v.since?.trim() ? v.since.trim() : null,
    tls_ca_pem: caOf(v),
    enabled: v.enabled !== 'off',
  };
}

/** Only what the form changed, as the API's PATCH body would carry it (a field sent unchanged could still reset the mailbox). */
function patchOf(current: MailboxView, v: FormValues, password: string): Record<string, unknown> {
  const was = valuesOf(current);
  const patch: Record<string, unknown> = {};
  const changed = (k: keyof FormValues) => (v[k] ?? '').trim() !== (was[k] ?? '').trim();
  if (changed('address')) patch.address = v.address;
  if (aliasesOf(v.aliases).join(',') !== current.aliases.join(',')) patch.aliases = aliasesOf(v.aliases);
  if (changed('host')) patch.host = v.host;
  if (changed('port')) patch.port = number(v.port);
  if (changed('tls')) patch.tls = v.tls;
  if (changed('username')) patch.username = v.username;
  if (changed('folder')) patch.folder = v.folder?.trim() ? v.folder : 'INBOX';
  if (postActionOf(v) !== current.post_action) patch.post_action = postActionOf(v);
  if (changed('poll_seconds')) patch.poll_seconds = number(v.poll_seconds);
  if (changed('since')) patch.since = v.since?.trim() ? v.since.trim() : null;
  // The CA field starts empty on edit: empty keeps the stored CA, a pasted one replaces it, the checkbox removes it.
  const ca = caOf(v);
  if (ca !== null) patch.tls_ca_pem = ca;
  else if (v.remove_ca === 'on' && current.tls_ca !== null) patch.tls_ca_pem = null;
  if (password && current.auth === 'password') patch.password = password;
  return patch;
}

/** The per-field problems of a VALIDATION error (form fields are the wire names), else rethrows. */
function fieldErrors(err: unknown): FieldErrors {
  if (!isMailroomError(err) || (err.code !== 'VALIDATION' && err.code !== 'CONFLICT')) throw err;
  if (err.code === 'CONFLICT') return { address: err.message };
  const out: FieldErrors = {};
  for (const f of err.fields) for (const name of f.field.split(', ')) out[name.split('.')[0] ?? name] = f.message;
  return Object.keys(out).length ? out : { mailbox: err.message };
}

async function failedCount(deps: ConsoleDeps, tenantId: number, mailboxId: number): Promise<number> {
  return (await failedCounts(deps.db, tenantId, [mailboxId])).get(mailboxId) ?? 0;
}

export function mailboxConsoleRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { db, config } = deps;
  const tenantOf = (req: FastifyRequest) => deps.auth(req).principal.tenantId;

  app.get<{ Querystring: { page?: string } }>('/', async (req, reply) => {
    const tenantId = tenantOf(req);
    const page = { page: pageParam(req.query.page), page_size: MAILBOX_PAGE_SIZE };
    const { mailboxes, total } = await listMailboxes(db, { tenantId, page });
    const failed = await failedCounts(db, tenantId, mailboxes.map((m) => m.id));
    const rows = mailboxes.map((mailbox) => ({ mailbox, failed: failed.get(mailbox.id) ?? 0 }));
    return deps.send(reply, 200, mailboxListPage(deps.context(req, reply), rows, { ...page, total }));
  });

  app.get('/mailboxes', async (_req, reply) => reply.redirect(BASE, 302));

  app.get('/mailboxes/new', async (req, reply) => deps.send(reply, 200, mailboxFormPage(deps.context(req, reply), { tls: 'tls', post_action: 'none', enabled: 'on' }, {})));

  app.post('/mailboxes', async (req, reply) => {
    const body = form(req);
    const v = formValues(body);
    const password = body.get('password') ?? '';
    const tenantId = tenantOf(req);
    const input = newMailboxInput(v, password);
    try {
      if (body.get('action') === 'test') {
        const result = await testNewMailbox(connectionTestDeps(db, config), tenantId, input);
        return deps.send(reply, 200, mailboxFormPage(deps.context(req, reply), v, {}, { result, tls: String(input.tls), auth: 'password' }));
      }
      const added = await addMailboxTested(connectionTestDeps(db, config), tenantId, input, { test: v.skip_test !== 'on' });
      if ('failed' in added) return deps.send(reply, 422, mailboxFormPage(deps.context(req, reply), v, {}, { result: added.failed, tls: String(input.tls), auth: 'password' }));
      req.log.info({ tenant: deps.auth(req).principal.tenantSlug, mailboxId: added.mailbox.id }, 'console: mailbox added');
      return deps.redirectWith(reply, mailboxPath(added.mailbox.id), { kind: 'ok', text: `Mailbox ${added.mailbox.address} added${v.skip_test === 'on' ? ' without a connection test' : ' (its connection test passed)'}.` });
    } catch (err) {
      return deps.send(reply, 400, mailboxFormPage(deps.context(req, reply), v, fieldErrors(err)));
    }
  });

  const showMailbox = async (req: FastifyRequest, reply: FastifyReply, id: number, extra: { status?: number; values?: FormValues; errors?: FieldErrors; test?: Awaited<ReturnType<typeof testStoredMailbox>> } = {}) => {
    const tenantId = tenantOf(req);
    const mailbox = await getMailbox(db, id, { tenantId });
    const failed = await failedCount(deps, tenantId, id);
    return deps.send(reply, extra.status ?? 200, mailboxPage(deps.context(req, reply), mailbox, failed, extra.values ?? valuesOf(mailbox), extra.errors ?? {}, extra.test));
  };

  app.get<IdParams>('/mailboxes/:id', async (req, reply) => showMailbox(req, reply, idParam(req.params.id)));

  app.post<IdParams>('/mailboxes/:id', async (req, reply) => {
    const id = idParam(req.params.id);
    const scope = { tenantId: tenantOf(req) };
    const body = form(req);
    const v = formValues(body);
    const current = await getMailbox(db, id, scope);
    const patch = patchOf(current, v, body.get('password') ?? '');
    if (Object.keys(patch).length === 0) return deps.redirectWith(reply, mailboxPath(id), { kind: 'info', text: 'Nothing changed.' });
    // The same service and connection test as the API's PATCH and `mailroom mailbox edit`: a change that
    // needs a new connection is tested first (unless asked not to), and a failed test changes nothing.
    let result: Awaited<ReturnType<typeof updateMailboxTested>>;
    try {
      result = await updateMailboxTested(connectionTestDeps(db, config), id, patch, scope, { test: v.skip_test !== 'on' });
    } catch (err) {
      return showMailbox(req, reply, id, { status: 400, values: v, errors: fieldErrors(err) });
    }
    if ('failed' in result) return showMailbox(req, reply, id, { status: 422, values: v, test: result.failed });
    req.log.info({ mailboxId: id, fields: Object.keys(patch).map((k) => (k === 'password' ? 'password (new)' : k)) }, 'console: mailbox changed');
    return deps.redirectWith(reply, mailboxPath(id), { kind: 'ok', text: `Saved: ${Object.keys(patch).join(', ')}.` });
  });

  app.post<IdParams>('/mailboxes/:id/test', async (req, reply) => {
    const id = idParam(req.params.id);
    const test = await testStoredMailbox(connectionTestDeps(db, config), id, { tenantId: tenantOf(req) });
    return showMailbox(req, reply, id, { test });
  });

  for (const enabled of [true, false]) {
    app.post<IdParams>(`/mailboxes/:id/${enabled ? 'enable' : 'disable'}`, async (req, reply) => {
      const id = idParam(req.params.id);
      const m = await setMailboxEnabled(db, id, enabled, { tenantId: tenantOf(req) });
      return deps.redirectWith(reply, mailboxPath(id), { kind: 'ok', text: `${m.address} is ${enabled ? 'enabled: it connects again now' : 'disabled: its sync stops'}.` });
    });
  }

  app.get<IdParams>('/mailboxes/:id/remove', async (req, reply) => {
    const mailbox = await getMailbox(db, idParam(req.params.id), { tenantId: tenantOf(req) });
    return deps.send(reply, 200, removePage(deps.context(req, reply), mailbox));
  });

  app.post<IdParams>('/mailboxes/:id/remove', async (req, reply) => {
    const removed = await removeMailbox(db, idParam(req.params.id), { tenantId: tenantOf(req) });
    req.log.info({ mailboxId: removed.id }, 'console: mailbox removed');
    return deps.redirectWith(reply, BASE, { kind: 'ok', text: `Mailbox ${removed.address} removed; its tickets and conversations stay.` });
  });

  app.get<IdParams & { Querystring: { outcome?: string; page?: string } }>('/mailboxes/:id/log', async (req, reply) => {
    const mailboxId = idParam(req.params.id);
    const tenantId = tenantOf(req);
    const scope = { tenantId, mailboxId };
    const outcome = OUTCOMES.find((o) => o === req.query.outcome);
    const page = { page: pageParam(req.query.page), page_size: LOG_PAGE_SIZE };
    const mailbox = await getMailbox(db, mailboxId, { tenantId });
    const one = { page: 1, page_size: 1 };
    const [list, all, ...each] = await Promise.all([
      listIngestLog(db, scope, { outcome, page }),
      listIngestLog(db, scope, { page: one }),
      ...OUTCOMES.map((o) => listIngestLog(db, scope, { outcome: o, page: one })),
    ]);
    const counts = { all: all.total, ...Object.fromEntries(OUTCOMES.map((o, i) => [o, each[i]?.total ?? 0])) } as Record<Outcome | 'all', number>;
    return deps.send(reply, 200, logPage(deps.context(req, reply), { mailbox, rows: list.rows, outcome, counts, page: { ...page, total: list.total } }));
  });

  app.post<{ Params: { id: string; record: string } }>('/mailboxes/:id/log/:record/reprocess', async (req, reply) => {
    const mailboxId = idParam(req.params.id);
    const recordId = idParam(req.params.record);
    const back = `${mailboxPath(mailboxId)}/log`;
    try {
      const r = await reprocessLogRecord(deps, { tenantId: tenantOf(req), mailboxId }, recordId);
      const now = r.outcome === 'conversation' || r.outcome === 'duplicate' ? `${r.outcome} (ticket ${r.ticket_id}, conversation ${r.conversation_id})` : `${r.outcome}${r.error ? `: ${r.error.message}` : ''}`;
      const text = r.rerun ? `Message ${recordId} reprocessed: ${r.previous_outcome} → ${now}.` : `Message ${recordId} already is a conversation; left as it is.`;
      return deps.redirectWith(reply, back, { kind: r.outcome === 'failed' ? 'bad' : 'ok', text });
    } catch (err) {
      if (!isMailroomError(err) || err.status >= 500) throw err;
      return deps.redirectWith(reply, back, { kind: 'bad', text: `Message ${recordId} was not reprocessed: ${err.message}` });
    }
  });

  app.post<IdParams>('/mailboxes/:id/reprocess-failed', async (req, reply) => {
    const mailboxId = idParam(req.params.id);
    const tenantId = tenantOf(req);
    const back = `${mailboxPath(mailboxId)}/log?outcome=failed`;
    await getMailbox(db, mailboxId, { tenantId });
    const ids = await recordsToReprocess(db, mailboxId, 'failed');
    const batch = ids.slice(0, BULK_REPROCESS_LIMIT);
    const counts = new Map<string, number>();
    let problems = 0;
    for (const id of batch) {
      try {
        const r = await reprocessLogRecord(deps, { tenantId, mailboxId }, id);
        counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
      } catch (err) {
        problems += 1;
        req.log.warn({ mailboxId, recordId: id, err: describeError(err) }, 'console: a failed message was not reprocessed');
      }
    }
    const summary = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
    const left = ids.length - batch.length;
    const text = `Reprocessed ${batch.length - problems} of ${batch.length} failed message(s)${summary ? `: ${summary}` : ''}${problems ? `; ${problems} could not be re-run` : ''}${left > 0 ? `; ${left} more are left, press the button again` : ''}.`;
    return deps.redirectWith(reply, back, { kind: problems > 0 || counts.has('failed') ? 'bad' : 'ok', text });
  });
}
