// What `npm run demo` prints once ingestion has settled (pure: values in, lines
// out): what became of each sample mail, what was skipped and why, the
// attachments' verdicts, the tokens, ready curl lines and the URLs to open. The
// last line carries the counts in a fixed form for scripts and the demo's test.

export interface DemoRecord {
  subject: string | null;
  from: string | null;
  outcome: string;
  classification: string | null;
  thread_reason: string | null;
  ticket_id: number | null;
  warnings: string[];
  error_message: string | null;
}

export interface DemoAttachment {
  filename: string;
  status: string;
  status_message: string | null;
}

export interface DemoResult {
  baseUrl: string;
  tenant: string;
  userToken: string;
  adminToken: string;
  mailboxId: number;
  mailboxAddress: string;
  /** Where the mail came from, for people (the throw-away Dovecot, or your server). */
  imapWhere: string;
  records: DemoRecord[];
  tickets: number;
  conversations: number;
  attachments: DemoAttachment[];
  logFile: string;
  /** What Ctrl-C stops. */
  stops: string;
}

export interface DemoCounts {
  mails: number;
  tickets: number;
  conversations: number;
  skipped: number;
  duplicates: number;
  failed: number;
  attachments_ok: number;
  attachments_warning: number;
  attachments_error: number;
}

export function countsOf(r: DemoResult): DemoCounts {
  const outcome = (o: string) => r.records.filter((x) => x.outcome === o).length;
  const status = (s: string) => r.attachments.filter((a) => a.status === s).length;
  return {
    mails: r.records.length,
    tickets: r.tickets,
    conversations: r.conversations,
    skipped: outcome('skipped'),
    duplicates: outcome('duplicate'),
    failed: outcome('failed'),
    attachments_ok: status('OK'),
    attachments_warning: status('WARNING'),
    attachments_error: status('ERROR'),
  };
}

const THREAD: Record<string, string> = {
  new_ticket: 'new ticket',
  references: 'joined its thread (References)',
  signed_message_id: 'joined its thread (a reply to a Message-ID Mailroom issued)',
  subject_tag: 'joined by its [#n] subject tag',
  subject_tag_not_participant: 'new ticket (its subject tag names a ticket the sender is not on)',
};

/** Why a record was skipped, in words. */
export function skipReason(r: DemoRecord): string {
  if (r.classification === 'auto_reply') return 'an auto-reply that threads onto no ticket opens none';
  if (r.classification === 'bounce') return 'a bounce (delivery status notification) that threads onto no ticket opens none';
  if (r.classification === 'own_address') return "sent from the mailbox's own address (a loop)";
  return r.warnings[0] ?? 'skipped';
}

const subjectOf = (r: DemoRecord) => `"${r.subject ?? '(no subject)'}"`;

export function summaryLines(r: DemoResult): string[] {
  const c = countsOf(r);
  const api = `${r.baseUrl}/api/${r.tenant}/v1`;
  const firstTicket = r.records.find((x) => x.ticket_id !== null)?.ticket_id ?? 1;
  const lines = [
    '',
    `Mailroom demo is ready: ${c.mails} mails ingested from ${r.mailboxAddress} (${r.imapWhere}).`,
    '',
    `  ${c.tickets} tickets and ${c.conversations} conversations were made:`,
  ];
  for (const x of r.records.filter((y) => y.outcome === 'conversation')) {
    const how = THREAD[x.thread_reason ?? ''] ?? x.thread_reason ?? '';
    const note = x.classification && x.classification !== 'human' ? ` [${x.classification}]` : '';
    lines.push(`    ticket ${x.ticket_id ?? '?'}: ${subjectOf(x)} from ${x.from ?? '?'}, ${how}${note}`);
  }
  const skipped = r.records.filter((y) => y.outcome === 'skipped');
  if (skipped.length > 0) {
    lines.push(`  ${skipped.length} skipped (raw message kept, visible in the ingest log):`);
    for (const x of skipped) lines.push(`    ${subjectOf(x)}: ${skipReason(x)}`);
  }
  for (const x of r.records.filter((y) => y.outcome === 'duplicate')) lines.push(`  duplicate (already ingested earlier): ${subjectOf(x)}`);
  for (const x of r.records.filter((y) => y.outcome === 'failed')) lines.push(`  failed: ${subjectOf(x)}: ${x.error_message ?? 'see the ingest log'}`);
  if (r.attachments.length > 0) {
    lines.push('  attachments:');
    for (const a of r.attachments) lines.push(`    ${a.filename}: ${a.status}${a.status_message ? ` (${a.status_message})` : ''}`);
  }
  lines.push(
    '',
    `API: ${api}/  (tenant "${r.tenant}")`,
    `  USER token:  ${r.userToken}`,
    `  ADMIN token: ${r.adminToken}`,
    '',
    'Try:',
    `  curl -s -H 'Authorization: Bearer ${r.userToken}' ${api}/tickets`,
    `  curl -s -H 'Authorization: Bearer ${r.userToken}' ${api}/ticket_conversations/${firstTicket}`,
    `  curl -s -H 'Authorization: Bearer ${r.adminToken}' ${api}/mailboxes/${r.mailboxId}/messages`,
    '',
    'Open:',
    `  ${r.baseUrl}/              what this server is, with links`,
    `  ${r.baseUrl}/docs          the API (OpenAPI)`,
    `  ${r.baseUrl}/admin         the admin console (log in with the ADMIN token)`,
    `  ${r.baseUrl}/admin/queues  the BullMQ queues (ADMIN token)`,
    `  ${r.baseUrl}/metrics       Prometheus metrics`,
    '',
    `Mailroom's log: ${r.logFile}. ${r.stops}`,
    `demo counts: ${Object.entries(c)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  return lines;
}
