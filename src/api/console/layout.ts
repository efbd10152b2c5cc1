// The frame of every console page (header with navigation, notices, main)
// and the small pieces pages share: dates, badges, pager, the CSRF field.
import type { Principal } from '../../tokens/principal.js';
import { CSRF_FIELD } from './csrf.js';
import { html, query, type Html, type HtmlValue } from './html.js';

export const BASE = '/admin';
export const CSS_PATH = `${BASE}/static/console.css`;

export interface Notice {
  kind: 'ok' | 'bad' | 'info';
  text: string;
}

/** What every page of a logged-in request knows. */
export interface PageContext {
  principal: Principal;
  /** The session's CSRF token, put in every form. */
  csrf: string;
  notice?: Notice | null;
}

type Section = 'mailboxes' | 'tickets';

export function page(ctx: PageContext, title: string, section: Section | null, body: Html): Html {
  const link = (href: string, text: string, current: boolean) => html`<li><a href="${href}"${current ? html` aria-current="page"` : ''}>${text}</a></li>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Mailroom admin</title>
<link rel="stylesheet" href="${CSS_PATH}">
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<span class="brand">Mailroom admin</span>
<nav aria-label="Console"><ul>
${link(BASE, 'Mailboxes', section === 'mailboxes')}
${link(`${BASE}/tickets`, 'Tickets', section === 'tickets')}
<li><a href="${BASE}/queues">Queues</a></li>
<li><a href="/metrics">Metrics</a></li>
<li><a href="/docs">API docs</a></li>
</ul></nav>
<span class="who">Tenant <strong>${ctx.principal.tenantSlug}</strong></span>
<form method="post" action="${BASE}/logout">${csrfField(ctx)}<button type="submit">Log out</button></form>
</header>
<main id="main" tabindex="-1">
${ctx.notice ? noticeBlock(ctx.notice) : ''}
${body}
</main>
</body></html>`;
}

export function noticeBlock(n: Notice): Html {
  return html`<p class="notice ${n.kind}" role="${n.kind === 'bad' ? 'alert' : 'status'}">${n.text}</p>`;
}

/** A page for a refusal or an error, logged in or not. */
export function bare(title: string, message: string, link?: { href: string; text: string }): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Mailroom admin</title><link rel="stylesheet" href="${CSS_PATH}"></head>
<body><main id="main"><h1>${title}</h1><p class="notice bad" role="alert">${message}</p>
${link ? html`<p><a href="${link.href}">${link.text}</a></p>` : ''}</main></body></html>`;
}

export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrf}">`;
}

/** A one-button POST form (enable, disable, reprocess, …). */
export function postButton(ctx: PageContext, action: string, label: string, options: { kind?: 'primary' | 'danger' | 'small'; describedBy?: string } = {}): Html {
  return html`<form method="post" action="${action}">${csrfField(ctx)}<button type="submit"${options.kind ? html` class="${options.kind}"` : ''}${options.describedBy ? html` aria-describedby="${options.describedBy}"` : ''}>${label}</button></form>`;
}

export function when(iso: string | null, empty = 'never'): HtmlValue {
  if (!iso) return html`<span class="muted">${empty}</span>`;
  const shown = iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
  return html`<time datetime="${iso}">${shown}</time>`;
}

export function badge(text: string, cls: string): Html {
  return html`<span class="badge ${cls}">${text}</span>`;
}

/** Previous / next links of a paginated list; `params` keeps the filters. */
export function pager(path: string, params: Record<string, string | number | undefined>, p: { page: number; page_size: number; total: number }): Html {
  const pages = Math.max(1, Math.ceil(p.total / p.page_size));
  if (pages <= 1) return html``;
  const to = (n: number) => `${path}${query({ ...params, page: n })}`;
  return html`<nav class="pager" aria-label="Pages">
${p.page > 1 ? html`<a href="${to(p.page - 1)}" rel="prev">← Previous</a>` : ''}
<span>Page ${p.page} of ${pages}</span>
${p.page < pages ? html`<a href="${to(p.page + 1)}" rel="next">Next →</a>` : ''}
</nav>`;
}
