// Tickets in the console, read as a support agent reads them: the list, and a
// ticket with its conversations — the addresses by direction, the extracted
// reply, the attachments with their status and a download link, and the mail
// as sent.
//
// The mail's html was sanitized on ingest (no script, no event handler, no
// remote content), but its CSS is the sender's. It is shown in an <iframe
// sandbox> whose document is a response of its own (ticket-routes.ts), not
// inline and not srcdoc: a srcdoc frame inherits this page's CSP, which allows
// no inline style, so the mail would lose its formatting; a document of its own
// gets a CSP that allows the mail's inline styles and nothing else (no script
// at all, images only from Mailroom and data: URLs), and the sandbox gives it
// an opaque origin, so even a sanitizer miss could neither run script nor touch
// the console. Its CSS cannot reach this page either way.
import type { DTO_ticket, DTO_ticket_conversation } from '../../conversations/dto.js';
import type { MailboxView } from '../../mailboxes/types.js';
import { addressDirections, attachmentStatuses, conversationTypes } from '../../wire/enums.js';
import { html, type Html } from './html.js';
import { BASE, badge, page, pager, when, type PageContext } from './layout.js';
import { mailboxPath } from './mailbox-views.js';

export interface TicketListPage {
  tickets: DTO_ticket[];
  page: { page: number; page_size: number; total: number };
  filter: { status?: string; mailbox_id?: number };
  statuses: { key: string; label: string }[];
  mailboxes: MailboxView[];
}

const contact = (c: { name: string; email: string } | null) => (c ? (c.name && c.name !== c.email ? `${c.name} <${c.email}>` : c.email) : '');

export function ticketListPage(ctx: PageContext, p: TicketListPage): Html {
  const mailboxName = new Map(p.mailboxes.map((m) => [m.id, m.address]));
  const sel = (a: string | undefined, b: string) => (a === b ? html` selected` : '');
  return page(
    ctx,
    'Tickets',
    'tickets',
    html`<h1>Tickets</h1>
<form class="actions" method="get" action="${BASE}/tickets">
<label for="status">Status</label>
<select id="status" name="status"><option value="">any</option>${p.statuses.map((s) => html`<option value="${s.key}"${sel(p.filter.status, s.key)}>${s.label}</option>`)}</select>
<label for="mailbox_id">Mailbox</label>
<select id="mailbox_id" name="mailbox_id"><option value="">any</option>${p.mailboxes.map((m) => html`<option value="${m.id}"${sel(String(p.filter.mailbox_id ?? ''), String(m.id))}>${m.address}</option>`)}</select>
<button type="submit">Filter</button>
</form>
${
  p.tickets.length
    ? html`<table>
<caption>${p.page.total} ticket${p.page.total === 1 ? '' : 's'}, newest activity first.</caption>
<thead><tr><th scope="col">Ticket</th><th scope="col">Subject</th><th scope="col">Status</th><th scope="col">Requester</th><th scope="col">Mailbox</th><th scope="col" class="num">Conversations</th><th scope="col">Last activity</th></tr></thead>
<tbody>${p.tickets.map(
        (t) => html`<tr>
<td><a href="${BASE}/tickets/${t.id}">${t.tag}</a></td>
<td class="wrap"><a href="${BASE}/tickets/${t.id}">${t.subject || '(no subject)'}</a></td>
<td>${badge(t.sys_status.label, 'status')}</td>
<td class="wrap">${contact(t.requester)}</td>
<td class="wrap">${t.mailbox_id === null ? '' : html`<a href="${mailboxPath(t.mailbox_id)}">${mailboxName.get(t.mailbox_id) ?? `mailbox ${t.mailbox_id}`}</a>`}</td>
<td class="num">${t.conversation_count}</td>
<td>${when(t.last_activity)}</td>
</tr>`,
      )}</tbody></table>`
    : html`<p class="card">No tickets${p.filter.status || p.filter.mailbox_id ? ' match the filter' : ' yet'}.</p>`
}
${pager(`${BASE}/tickets`, { status: p.filter.status, mailbox_id: p.filter.mailbox_id }, p.page)}`,
  );
}

export interface TicketPage {
  ticket: DTO_ticket;
  /** The ticket's mailbox, when it still exists. */
  mailbox: MailboxView | null;
  conversations: DTO_ticket_conversation[];
  page: { page: number; page_size: number; total: number };
}

export const conversationHtmlPath = (ticketId: number, conversationId: number) => `${BASE}/tickets/${ticketId}/conversations/${conversationId}/html`;

function addresses(c: DTO_ticket_conversation): Html {
  const byDirection = new Map<string, string[]>();
  for (const a of c.email_addresses) {
    const d = addressDirections.name(a.direction);
    byDirection.set(d, [...(byDirection.get(d) ?? []), contact(a)]);
  }
  if (byDirection.size === 0) return html`<p class="muted">No addresses.</p>`;
  return html`<dl class="facts">${[...byDirection].map(([d, list]) => html`<dt>${d.replace('_', ' ')}</dt><dd>${list.join(', ')}</dd>`)}</dl>`;
}

function attachments(c: DTO_ticket_conversation): Html {
  if (c.sys_attachments.length === 0) return html``;
  return html`<h3>Attachments</h3><table><thead><tr><th scope="col">File</th><th scope="col" class="num">Size</th><th scope="col">Status</th><th scope="col">Download</th></tr></thead><tbody>
${c.sys_attachments.map((a) => {
  const status = attachmentStatuses.name(a.status);
  return html`<tr><td class="wrap">${a.label}</td><td class="num">${a.size_kb} KiB</td><td>${badge(status, `att-${status}`)}${a.status_message ? html` <span class="small">${a.status_message}</span>` : ''}</td>
<td>${a.download_url ? html`<a href="${a.download_url}" rel="noreferrer" download>Download<span class="skip"> ${a.label}</span></a>` : html`<span class="muted">not available</span>`}</td></tr>`;
})}</tbody></table>`;
}

function conversation(ticketId: number, pageNumber: number, c: DTO_ticket_conversation, n: number): Html {
  const type = conversationTypes.name(c.type);
  return html`<article class="conversation" id="conversation-${c.id}" aria-labelledby="conversation-${c.id}-title">
<header><h2 id="conversation-${c.id}-title">${n}. ${type.replace('_', ' ').toLowerCase()}</h2><span>${when(c.created)}</span><span class="muted">conversation ${c.id}</span>${c.requester ? html`<span>from ${contact(c.requester)}</span>` : ''}</header>
${addresses(c)}
<h3>Extracted reply</h3>
<div class="extracted">${c.last_message_extracted || html`<span class="muted">(empty)</span>`}</div>
${attachments(c)}
<details open><summary>Message as sent (sanitized HTML)</summary>
<iframe class="mail" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" loading="lazy" title="Message of conversation ${c.id} as sent" src="${conversationHtmlPath(ticketId, c.id)}"></iframe>
</details>
</article>`;
}

export function ticketPage(ctx: PageContext, p: TicketPage): Html {
  const t = p.ticket;
  const first = (p.page.page - 1) * p.page.page_size;
  return page(
    ctx,
    `${t.tag} ${t.subject}`,
    'tickets',
    html`<h1>${t.tag} ${t.subject || '(no subject)'}</h1>
<section class="card"><dl class="facts">
<dt>Status</dt><dd>${badge(t.sys_status.label, 'status')}</dd>
<dt>Requester</dt><dd>${contact(t.requester) || html`<span class="muted">none</span>`}</dd>
<dt>Mailbox</dt><dd>${p.mailbox ? html`<a href="${mailboxPath(p.mailbox.id)}">${p.mailbox.address}</a>` : html`<span class="muted">${t.mailbox_id === null ? 'none' : `mailbox ${t.mailbox_id} (removed)`}</span>`}</dd>
<dt>Created</dt><dd>${when(t.created)}</dd>
<dt>Last activity</dt><dd>${when(t.last_activity)}</dd>
<dt>Conversations</dt><dd>${t.conversation_count}</dd>
</dl></section>
${p.conversations.map((c, i) => conversation(t.id, p.page.page, c, first + i + 1))}
${pager(`${BASE}/tickets/${t.id}`, {}, p.page)}`,
  );
}

/** The document inside a conversation's sandboxed frame. */
export function conversationDocument(sanitizedHtml: string): string {
  // The html was sanitized on ingest (src/mail/rich/sanitize.ts) and is inert; it is the only unescaped value the console renders.
  return `<!doctype html><html><head><meta charset="utf-8"><base target="_blank"></head><body>${sanitizedHtml}</body></html>`;
}
