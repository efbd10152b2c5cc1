// The ingest log of a mailbox in the console: one row per fetched message
// with its outcome, filtered by outcome, each linking to the conversation it
// became; failed rows show their error and a Reprocess button.
import type { IngestRecordRow } from '../ingest-records.js';
import type { MailboxView } from '../../mailboxes/types.js';
import { html, query, type Html } from './html.js';
import { BASE, badge, page, pager, postButton, when, type PageContext } from './layout.js';
import { mailboxPath } from './mailbox-views.js';

export const OUTCOMES = ['conversation', 'duplicate', 'skipped', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface LogPage {
  mailbox: MailboxView;
  rows: IngestRecordRow[];
  outcome: Outcome | undefined;
  counts: Record<Outcome | 'all', number>;
  page: { page: number; page_size: number; total: number };
}

export const conversationLink = (ticketId: number, conversationId: number | null) => `${BASE}/tickets/${ticketId}${conversationId ? `#conversation-${conversationId}` : ''}`;

function row(ctx: PageContext, mailboxId: number, r: IngestRecordRow): Html {
  const target =
    r.ticket_id !== null
      ? html`<a href="${conversationLink(r.ticket_id, r.conversation_id)}">Ticket ${r.ticket_id}${r.conversation_id ? html`, conversation ${r.conversation_id}` : ''}</a>`
      : html`<span class="muted">none</span>`;
  const canReprocess = r.outcome === 'failed' || r.outcome === 'skipped';
  return html`<tr id="record-${r.id}">
<td>${when(r.received_at, 'unknown')}</td>
<td class="wrap">${r.from ?? html`<span class="muted">unknown</span>`}</td>
<td class="wrap">${r.subject ?? html`<span class="muted">(no subject)</span>`}</td>
<td>${badge(r.outcome, `out-${r.outcome}`)}${r.classification && r.classification !== 'human' ? html` <span class="small muted">${r.classification.replace('_', ' ')}</span>` : ''}${r.duplicate_of ? html`<br><span class="small muted">of record ${r.duplicate_of}</span>` : ''}</td>
<td>${target}</td>
<td class="wrap small">${r.error ? html`<span class="error-text" id="error-${r.id}"><code>${r.error.code}</code> ${r.error.message}</span>` : ''}${r.warnings.length ? html`<ul class="muted">${r.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}</td>
<td>${canReprocess ? postButton(ctx, `${mailboxPath(mailboxId)}/log/${r.id}/reprocess`, 'Reprocess', { kind: 'small', ...(r.error ? { describedBy: `error-${r.id}` } : {}) }) : ''}</td>
</tr>`;
}

export function logPage(ctx: PageContext, p: LogPage): Html {
  const path = `${mailboxPath(p.mailbox.id)}/log`;
  const filter = (outcome: Outcome | undefined, label: string, count: number) =>
    html`<li><a href="${path}${query({ outcome })}"${p.outcome === outcome ? html` aria-current="page"` : ''}>${label} (${count})</a></li>`;
  return page(
    ctx,
    `Ingest log of ${p.mailbox.address}`,
    'mailboxes',
    html`<h1>Ingest log of <a href="${mailboxPath(p.mailbox.id)}">${p.mailbox.address}</a></h1>
<nav aria-label="Filter by outcome"><ul class="filters">
${filter(undefined, 'All', p.counts.all)}
${OUTCOMES.map((o) => filter(o, o, p.counts[o]))}
</ul></nav>
${p.counts.failed > 0 ? html`<div class="actions">${postButton(ctx, `${mailboxPath(p.mailbox.id)}/reprocess-failed`, `Reprocess all failed (${p.counts.failed})`, { kind: 'primary' })}</div>` : ''}
${
  p.rows.length
    ? html`<table>
<caption>${p.page.total} record${p.page.total === 1 ? '' : 's'}${p.outcome ? ` with outcome ${p.outcome}` : ''}, newest first.</caption>
<thead><tr><th scope="col">Received</th><th scope="col">From</th><th scope="col">Subject</th><th scope="col">Outcome</th><th scope="col">Became</th><th scope="col">Error / warnings</th><th scope="col"><span class="skip">Action</span></th></tr></thead>
<tbody>${p.rows.map((r) => row(ctx, p.mailbox.id, r))}</tbody></table>`
    : html`<p class="card">No ${p.outcome ?? ''} mail in the log${p.outcome ? '' : ' yet'}.</p>`
}
${pager(path, { outcome: p.outcome }, p.page)}`,
  );
}
