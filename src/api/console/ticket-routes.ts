// The console's ticket routes: the tenant's tickets, one ticket with its
// conversations, and the document shown in a conversation's sandboxed frame
// (see ticket-views.ts for why a document of its own). They call what the
// API's `tickets` and `ticket_conversations` routes call.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { getConversation, listConversations } from '../../conversations/service.js';
import { getTicket, listStatuses, listTickets } from '../../conversations/tickets.js';
import { isMailroomError } from '../../errors.js';
import { getMailbox, listMailboxes } from '../../mailboxes/service.js';
import { MAX_PAGE_SIZE } from '../kit/paging.js';
import { downloadUrlFor } from '../routes/conversations.js';
import { idParam, pageParam } from './mailbox-routes.js';
import type { ConsoleDeps } from './types.js';
import { conversationDocument, ticketListPage, ticketPage } from './ticket-views.js';

const TICKET_PAGE_SIZE = 50;
/** Conversations of a ticket per page (a long thread still reads on one page). */
const CONVERSATION_PAGE_SIZE = MAX_PAGE_SIZE;

export function ticketConsoleRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { db, config } = deps;
  const principalOf = (req: FastifyRequest) => deps.auth(req).principal;
  // Images of the mail (inline cid: parts) come from Mailroom's own download route, under MAILROOM_PUBLIC_URL.
  const publicOrigin = new URL(config.publicUrl).origin;

  app.get<{ Querystring: { page?: string; status?: string; mailbox_id?: string } }>('/tickets', async (req, reply) => {
    const { tenantId } = principalOf(req);
    const status = req.query.status?.trim() || undefined;
    const mailbox_id = req.query.mailbox_id && /^[1-9]\d{0,9}$/.test(req.query.mailbox_id) ? Number(req.query.mailbox_id) : undefined;
    const page = { page: pageParam(req.query.page), page_size: TICKET_PAGE_SIZE };
    const [statuses, { mailboxes }] = await Promise.all([listStatuses(db, tenantId), listMailboxes(db, { tenantId, page: { page: 1, page_size: MAX_PAGE_SIZE } })]);
    try {
      const { tickets, total } = await listTickets(db, tenantId, { status, mailbox_id }, page);
      return deps.send(reply, 200, ticketListPage(deps.context(req, reply), { tickets, page: { ...page, total }, filter: { status, mailbox_id }, statuses, mailboxes }));
    } catch (err) {
      if (!isMailroomError(err, 'VALIDATION')) throw err;
      const ctx = deps.context(req, reply, { kind: 'bad', text: err.message });
      return deps.send(reply, 400, ticketListPage(ctx, { tickets: [], page: { ...page, total: 0 }, filter: {}, statuses, mailboxes }));
    }
  });

  app.get<{ Params: { id: string }; Querystring: { page?: string } }>('/tickets/:id', async (req, reply) => {
    const principal = principalOf(req);
    const id = idParam(req.params.id);
    const ticket = await getTicket(db, principal.tenantId, id);
    const page = { page: pageParam(req.query.page), page_size: CONVERSATION_PAGE_SIZE };
    const { items, total } = await listConversations(db, principal, id, page, downloadUrlFor(config, principal.tenantSlug), config.apiLimits.listMaxBytes);
    const mailbox = ticket.mailbox_id === null ? null : await getMailbox(db, ticket.mailbox_id, { tenantId: principal.tenantId }).catch((err: unknown) => {
      if (isMailroomError(err, 'NOT_FOUND')) return null;
      throw err;
    });
    return deps.send(reply, 200, ticketPage(deps.context(req, reply), { ticket, mailbox, conversations: items, page: { ...page, total } }));
  });

  app.get<{ Params: { id: string; conversation: string } }>('/tickets/:id/conversations/:conversation/html', async (req, reply) => {
    const principal = principalOf(req);
    const ticketId = idParam(req.params.id);
    const conversationId = idParam(req.params.conversation);
    // The single read: its content whole, where a list page may have cut a large body.
    const conversation = await getConversation(db, principal, ticketId, conversationId, downloadUrlFor(config, principal.tenantSlug)).catch((err: unknown) => {
      if (isMailroomError(err, 'NOT_FOUND')) return null;
      throw err;
    });
    if (!conversation) return reply.code(404).type('text/plain; charset=utf-8').send('No such conversation on this ticket.');
    return reply
      .code(200)
      .header('cache-control', 'no-store')
      // No script at all; the mail's own inline styles; images only from Mailroom (signed attachment links) and data: URLs.
      .header('content-security-policy', `default-src 'none'; style-src 'unsafe-inline'; img-src data: ${publicOrigin}; font-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox`)
      .header('x-frame-options', 'SAMEORIGIN')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(conversationDocument(conversation.sys_content_rich.html));
  });
}
