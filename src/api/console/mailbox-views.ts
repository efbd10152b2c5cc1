// Console pages of mailboxes: the list with each mailbox's health, the
// add/edit form, a mailbox's page with its connection test, and the removal
// confirmation. Pure: values in, Html out. Secrets are write-only: no page
// ever gets one to render (MailboxView has none), and the password field is
// always empty. A private CA is not secret but long: pages show its
// certificates' subject, fingerprint and expiry (tls_ca), and the edit form's
// CA field starts empty, meaning "unchanged".
import type { CaCertificate } from '../../mailboxes/ca.js';
import type { ConnectionTestResult, ConnectionTestStage, MailboxView } from '../../mailboxes/types.js';
import { html, type Html } from './html.js';
import { BASE, badge, csrfField, page, pager, postButton, when, type PageContext } from './layout.js';

export interface MailboxRow {
  mailbox: MailboxView;
  /** Failed ingest records waiting for a reprocess. */
  failed: number;
}

const TLS_LABELS: Record<string, string> = { tls: 'implicit TLS', starttls: 'STARTTLS', none: 'no TLS (plain text)' };

export const mailboxPath = (id: number) => `${BASE}/mailboxes/${id}`;

export function stateBadge(m: Pick<MailboxView, 'state' | 'enabled'>): Html {
  return badge(m.state.replace('_', ' '), `st-${m.state}`);
}

export function mailboxListPage(ctx: PageContext, rows: MailboxRow[], p: { page: number; page_size: number; total: number }): Html {
  const body = rows.length
    ? html`<table>
<caption>${p.total} mailbox${p.total === 1 ? '' : 'es'}. Backlog: failed mail waiting to be reprocessed.</caption>
<thead><tr><th scope="col">Address</th><th scope="col">Server</th><th scope="col">State</th><th scope="col">Last success</th><th scope="col">Last error</th><th scope="col" class="num">Consecutive failures</th><th scope="col" class="num">Backlog</th><th scope="col">Ingest log</th></tr></thead>
<tbody>
${rows.map(
  ({ mailbox: m, failed }) => html`<tr>
<td><a href="${mailboxPath(m.id)}">${m.address}</a>${m.enabled ? '' : html` <span class="muted small">(disabled)</span>`}</td>
<td class="wrap">${m.host}:${m.port} <span class="muted small">${TLS_LABELS[m.tls] ?? m.tls}</span></td>
<td>${stateBadge(m)}</td>
<td>${when(m.last_success_at)}</td>
<td class="wrap small">${m.last_error ?? html`<span class="muted">none</span>`}</td>
<td class="num">${m.consecutive_failures}</td>
<td class="num">${failed > 0 ? html`<a href="${mailboxPath(m.id)}/log?outcome=failed">${failed} failed</a>` : '0'}</td>
<td><a href="${mailboxPath(m.id)}/log">Log<span class="skip"> of ${m.address}</span></a></td>
</tr>`,
)}
</tbody></table>`
    : html`<p class="card">No mailboxes${p.page > 1 ? ' on this page' : ' yet'}.</p>`;
  return page(
    ctx,
    'Mailboxes',
    'mailboxes',
    html`<h1>Mailboxes</h1>
<p class="actions"><a class="button" href="${BASE}/mailboxes/new">Add a mailbox</a></p>
${body}
${pager(BASE, {}, p)}`,
  );
}

/** The form's values as text (never a password). */
export type FormValues = Partial<
  Record<'address' | 'aliases' | 'host' | 'port' | 'tls' | 'username' | 'folder' | 'post_action' | 'move_folder' | 'poll_seconds' | 'since' | 'tls_ca_pem' | 'remove_ca' | 'enabled' | 'skip_test', string>
>;
export type FieldErrors = Record<string, string>;

export function valuesOf(m: MailboxView): FormValues {
  const move = m.post_action.startsWith('move:');
  return {
    address: m.address,
    aliases: m.aliases.join('\n'),
    host: m.host,
    port: String(m.port),
    tls: m.tls,
    username: m.username,
    folder: m.folder,
    post_action: move ? 'move' : m.post_action,
    move_folder: move ? m.post_action.slice(5) : '',
    poll_seconds: String(m.poll_seconds),
    since: m.since ? m.since.slice(0, 10) : '',
  };
}

function field(
  name: keyof FormValues | 'password',
  label: string,
  input: (attrs: Html) => Html,
  errors: FieldErrors,
  hint?: string,
): Html {
  const id = `f-${name}`;
  const error = errors[name === 'move_folder' ? 'post_action' : name];
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const attrs = html`id="${id}" name="${name}"${describedBy ? html` aria-describedby="${describedBy}"` : ''}${error ? html` aria-invalid="true"` : ''}`;
  return html`<label for="${id}">${label}</label>
<div>${input(attrs)}${hint ? html`<span class="hint" id="${id}-hint">${hint}</span>` : ''}${error ? html`<span class="field-error" id="${id}-error">${error}</span>` : ''}</div>`;
}

const selected = (a: string | undefined, b: string) => (a === b ? html` selected` : '');

/** A stored CA's certificates, one line each (never the PEM). */
export function caCertificates(ca: readonly CaCertificate[] | null): Html {
  if (ca === null) return html`<span class="muted">none: the server's certificate must chain to a public CA</span>`;
  return html`${ca.map((c) => html`<div class="wrap">${c.subject} <span class="muted small">(SHA-256 ${c.fingerprint_sha256}, valid to ${when(c.valid_to)})</span></div>`)}`;
}

/** The fields of a mailbox (add and edit share them; edit leaves the password and the CA empty meaning "unchanged"). */
function mailboxFields(v: FormValues, errors: FieldErrors, mode: 'add' | 'edit', oauth: boolean, storedCa: readonly CaCertificate[] | null = null): Html {
  const text = (name: keyof FormValues, type = 'text', extra: Html = html``) => (attrs: Html) => html`<input type="${type}" ${attrs} value="${v[name] ?? ''}"${extra}>`;
  return html`
${field('address', 'Address', text('address', 'email', html` required autocomplete="off"`), errors, 'The address customers write to.')}
${field('aliases', 'Aliases', (a) => html`<textarea ${a} rows="2">${v.aliases ?? ''}</textarea>`, errors, 'Other addresses that deliver into this mailbox, one per line.')}
${field('host', 'IMAP host', text('host', 'text', html` required autocomplete="off" spellcheck="false"`), errors)}
${field('port', 'Port', text('port', 'number', html` required min="1" max="65535"`), errors, '993 for implicit TLS, 143 for STARTTLS.')}
${field('tls', 'TLS', (a) => html`<select ${a}>${Object.entries(TLS_LABELS).map(([value, label]) => html`<option value="${value}"${selected(v.tls ?? 'tls', value)}>${label}</option>`)}</select>`, errors)}
${field('username', 'User name', text('username', 'text', html` required autocomplete="off" spellcheck="false"`), errors)}
${
  oauth
    ? html`<span>Credentials</span><p class="muted small">This mailbox logs in with OAuth2; change its credentials with <code>mailroom mailbox edit</code> or the API.</p>`
    : field(
        'password',
        'Password',
        (a) => html`<input type="password" ${a} value="" autocomplete="new-password"${mode === 'add' ? html` required` : ''}>`,
        errors,
        mode === 'edit' ? 'Leave empty to keep the stored password. It is stored encrypted and never shown again.' : 'Stored encrypted; it is never shown again.',
      )
}
${field(
  'tls_ca_pem',
  'Private CA (PEM)',
  (a) => html`<textarea ${a} rows="3" spellcheck="false" autocomplete="off" placeholder="-----BEGIN CERTIFICATE-----">${v.tls_ca_pem ?? ''}</textarea>`,
  errors,
  mode === 'edit'
    ? storedCa
      ? 'Leave empty to keep the stored CA (shown above); a new one replaces it.'
      : 'Only for a server whose certificate no public CA signed. Empty: the system CAs.'
    : 'Only for a server whose certificate no public CA signed (a company CA, a self-signed server): its PEM certificates. Empty: the system CAs.',
)}
${mode === 'edit' && storedCa ? html`<span></span><label><input type="checkbox" name="remove_ca"${v.remove_ca === 'on' ? html` checked` : ''}> Remove the stored CA (trust the system CAs again)</label>` : ''}
${field('folder', 'Folder', text('folder', 'text', html` placeholder="INBOX"`), errors)}
${field('post_action', 'After ingest', (a) => html`<select ${a}><option value="none"${selected(v.post_action ?? 'none', 'none')}>leave the mail as it is</option><option value="seen"${selected(v.post_action, 'seen')}>mark it \\Seen</option><option value="move"${selected(v.post_action, 'move')}>move it to the folder below</option></select>`, errors, 'Runs only after the mail is stored.')}
${field('move_folder', 'Move to folder', text('move_folder'), errors, 'Only for “move it”.')}
${field('poll_seconds', 'Poll every (seconds)', text('poll_seconds', 'number', html` min="5" max="86400" placeholder="60"`), errors)}
${field('since', 'Backfill since', text('since', 'date'), errors, 'Empty: only mail that arrives from now on. A date: also every message received on or after it.')}`;
}

export function mailboxFormPage(ctx: PageContext, v: FormValues, errors: FieldErrors, test?: { result: ConnectionTestResult; tls: string; auth: string }): Html {
  return page(
    ctx,
    'Add a mailbox',
    'mailboxes',
    html`<h1>Add a mailbox</h1>
${test ? testResult(test.result, test.tls, test.auth) : ''}
${errorSummary(errors)}
<form class="stack card" method="post" action="${BASE}/mailboxes" novalidate>
${csrfField(ctx)}
${mailboxFields(v, errors, 'add', false)}
<span></span><label><input type="checkbox" name="enabled"${v.enabled === 'off' ? '' : html` checked`}> Sync it as soon as it is added</label>
<span></span><label><input type="checkbox" name="skip_test"${v.skip_test === 'on' ? html` checked` : ''}> Store it without testing the connection</label>
<div class="full actions">
<button type="submit" class="primary" name="action" value="add">Add mailbox</button>
<button type="submit" name="action" value="test">Test connection</button>
<a href="${BASE}">Cancel</a>
</div>
<p class="full muted small">“Add mailbox” tests the connection first and stores nothing if the test fails. After a test, type the password again: it is never sent back to the browser.</p>
</form>`,
  );
}

function errorSummary(errors: FieldErrors): Html {
  const list = Object.entries(errors);
  if (list.length === 0) return html``;
  return html`<div class="notice bad" role="alert"><p>The mailbox was not saved:</p><ul>${list.map(([f, m]) => html`<li><a href="#f-${f}">${f}</a> ${m}</li>`)}</ul></div>`;
}

const STAGES: { stage: ConnectionTestStage; label: string }[] = [
  { stage: 'dns', label: 'DNS lookup' },
  { stage: 'policy', label: 'Connection policy' },
  { stage: 'tcp', label: 'TCP connection' },
  { stage: 'tls', label: 'TLS' },
  { stage: 'oauth', label: 'OAuth2 token' },
  { stage: 'auth', label: 'Authentication' },
  { stage: 'folder', label: 'Folder' },
];

/** Which stages ran for these settings, each passed, failed (with the sentence) or not reached. */
export function testResult(result: ConnectionTestResult, tls: string, auth: string): Html {
  const stages = STAGES.filter((s) => (s.stage !== 'tls' || tls !== 'none') && (s.stage !== 'oauth' || auth === 'oauth2'));
  const failedAt = result.ok ? -1 : stages.findIndex((s) => s.stage === result.stage);
  const items = stages.map((s, i) => {
    if (result.ok || i < failedAt) return html`<li><span class="mark ok" aria-hidden="true">✓</span>${s.label}: passed</li>`;
    if (i === failedAt && !result.ok) return html`<li><span class="mark error-text" aria-hidden="true">✗</span><strong>${s.label}: failed</strong> — ${result.message} <span class="muted small">(${result.code})</span></li>`;
    return html`<li class="muted"><span class="mark" aria-hidden="true">–</span>${s.label}: not reached</li>`;
  });
  if (result.ok) {
    const d = result.details;
    return html`<section class="notice ok" role="status" aria-labelledby="test-title"><h2 id="test-title">Connection test passed</h2>
<ol class="stages">${items}</ol>
<p>Logged in to ${d.host}:${d.port} (${d.address}${d.tls_protocol ? `, ${d.tls_protocol}` : ''}) as ${d.username}; folder ${d.folder} has ${d.messages} message(s), UIDNEXT ${d.uid_next}.</p></section>`;
  }
  // "authentication failed", "folder failed", but "DNS lookup failed", "TCP connection failed".
  const label = (STAGES.find((s) => s.stage === result.stage)?.label ?? result.stage).replace(/^[A-Z][a-z]/, (m) => m.toLowerCase());
  return html`<section class="notice bad" role="alert" aria-labelledby="test-title"><h2 id="test-title">Connection test failed: ${label} failed</h2>
<ol class="stages">${items}</ol></section>`;
}

export function mailboxPage(ctx: PageContext, m: MailboxView, failed: number, v: FormValues, errors: FieldErrors, test?: ConnectionTestResult): Html {
  const path = mailboxPath(m.id);
  return page(
    ctx,
    m.address,
    'mailboxes',
    html`<h1>${m.address}</h1>
${test ? testResult(test, m.tls, m.auth) : ''}
<section class="card" aria-labelledby="health-title"><h2 id="health-title">Health</h2>
<dl class="facts">
<dt>State</dt><dd>${stateBadge(m)} ${m.enabled ? '' : html`<span class="muted">(disabled)</span>`}</dd>
<dt>Last success</dt><dd>${when(m.last_success_at)}</dd>
<dt>Last error</dt><dd class="wrap">${m.last_error ?? html`<span class="muted">none</span>`}</dd>
<dt>Consecutive failures</dt><dd>${m.consecutive_failures}</dd>
<dt>Backlog</dt><dd>${failed > 0 ? html`<a href="${path}/log?outcome=failed">${failed} failed mail</a> waiting to be reprocessed` : 'no failed mail'}</dd>
<dt>Cursor</dt><dd>${m.uid_validity === null ? html`<span class="muted">not synced yet</span>` : `UIDVALIDITY ${m.uid_validity}, last UID ${m.last_uid ?? 0}`}</dd>
<dt>Private CA</dt><dd>${caCertificates(m.tls_ca)}</dd>
</dl>
<div class="actions">
${postButton(ctx, `${path}/test`, 'Test connection', { kind: 'primary' })}
${m.enabled ? postButton(ctx, `${path}/disable`, 'Disable') : postButton(ctx, `${path}/enable`, 'Enable')}
<a class="button" href="${path}/log">Ingest log</a>
<a class="button" href="${BASE}/tickets?mailbox_id=${m.id}">Tickets</a>
<a class="button" href="${path}/remove">Remove…</a>
</div>
<p class="muted small">The test uses the saved settings.</p>
</section>
<section aria-labelledby="settings-title"><h2 id="settings-title">Settings</h2>
${errorSummary(errors)}
<form class="stack card" method="post" action="${path}" novalidate>
${csrfField(ctx)}
${mailboxFields(v, errors, 'edit', m.auth === 'oauth2', m.tls_ca)}
<span></span><label><input type="checkbox" name="skip_test"${v.skip_test === 'on' ? html` checked` : ''}> Save without testing the connection</label>
<div class="full actions"><button type="submit" class="primary">Save changes</button></div>
<p class="full muted small">A new host, port or TLS mode needs the password again. New server settings or credentials are tested before they are saved (nothing changes if the test fails) and then reconnect the mailbox; another host, user or folder reads that folder afresh from the mailbox's backfill start (“Backfill since”, else when the mailbox was added).</p>
</form></section>`,
  );
}

export function removePage(ctx: PageContext, m: MailboxView): Html {
  const path = mailboxPath(m.id);
  return page(
    ctx,
    `Remove ${m.address}`,
    'mailboxes',
    html`<h1>Remove ${m.address}?</h1>
<div class="card"><p>This stops its sync and deletes the mailbox with its ingest log. Its tickets and conversations stay. This cannot be undone.</p>
<div class="actions">${postButton(ctx, `${path}/remove`, `Remove ${m.address}`, { kind: 'danger' })}<a href="${path}">Cancel</a></div></div>`,
  );
}
