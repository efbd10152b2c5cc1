// The writable references of posted conversations, resolved against the
// tenant's rows before anything is written: `sys_status.id` (a status),
// `sys_attachments[].id` (an attachment not attached to any conversation yet)
// and `requester.user_id` (a contact). An id that is unknown, or another
// tenant's, is the same VALIDATION error naming the field: a foreign id must
// not be told apart from a missing one.

import type { Db } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import type { FieldProblem } from '../errors.js';
import type { ConversationInput } from './input.js';

export interface Resolved {
  statuses: Map<number, { id: number; is_closed: boolean }>;
  attachments: Map<number, { id: number; content_id: string | null }>;
}

export async function resolveReferences(tx: Db, tenantId: number, inputs: readonly ConversationInput[]): Promise<Resolved> {
  const statusIds = new Set<number>();
  const attachmentIds = new Set<number>();
  const contactIds = new Set<number>();
  for (const item of inputs) {
    if (item.sys_status) statusIds.add(item.sys_status.id);
    for (const a of item.sys_attachments ?? []) attachmentIds.add(a.id);
    if (item.requester?.user_id != null) contactIds.add(item.requester.user_id);
  }
  // One after the other: these run on the transaction's single connection.
  const statuses = statusIds.size === 0 ? [] : await tx.status.findMany({ where: { tenant_id: tenantId, id: { in: [...statusIds] } }, select: { id: true, is_closed: true } });
  const attachments =
    attachmentIds.size === 0
      ? []
      : await tx.attachment.findMany({ where: { tenant_id: tenantId, id: { in: [...attachmentIds] } }, select: { id: true, content_id: true, conversation_id: true } });
  const contacts = contactIds.size === 0 ? [] : await tx.contact.findMany({ where: { tenant_id: tenantId, id: { in: [...contactIds] } }, select: { id: true } });
  const statusById = new Map(statuses.map((s) => [s.id, s]));
  const attachmentById = new Map(attachments.map((a) => [a.id, a]));
  const knownContacts = new Set(contacts.map((c) => c.id));

  const fields: FieldProblem[] = [];
  const problem = (field: string, message: string) => fields.push({ field, message: `${field} ${message}` });
  const claimed = new Set<number>();
  inputs.forEach((item, i) => {
    if (item.sys_status && !statusById.has(item.sys_status.id)) problem(`conversations[${i}].sys_status.id`, 'is not a status of this tenant');
    (item.sys_attachments ?? []).forEach((a, j) => {
      const field = `conversations[${i}].sys_attachments[${j}].id`;
      const row = attachmentById.get(a.id);
      if (!row) problem(field, 'is not an attachment of this tenant');
      else if (row.conversation_id !== null) problem(field, 'is already attached to a conversation');
      else if (claimed.has(a.id)) problem(field, 'is given more than once');
      claimed.add(a.id);
    });
    const contactId = item.requester?.user_id;
    if (contactId != null && !knownContacts.has(contactId)) problem(`conversations[${i}].requester.user_id`, 'is not a contact of this tenant');
  });
  if (fields.length > 0) throw new MailroomError('VALIDATION', fields.map((f) => f.message).join('; '), { fields });
  return {
    statuses: statusById,
    attachments: new Map(attachments.map((a) => [a.id, { id: a.id, content_id: a.content_id }])),
  };
}
