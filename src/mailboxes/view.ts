// From a stored mailbox row to what admins see (MailboxView, types.ts): no
// secret, only `has_secret` flags, and the source's cursor as readable fields.
import { sourceFor } from '../sources/registry.js';
import { describeCa } from './ca.js';
import { formatPostAction, type Mailbox, type MailboxView } from './types.js';

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/**
 * A stored token URL as shown: user:password in it (refused on input now, but a row stored before
 * the connection policy may have one) is replaced by ***, the user name too (it can be a token).
 */
export function withoutCredentials(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not a URL at all: whatever sits before an @ may be credentials.
    return url.includes('@') ? `***@${url.slice(url.lastIndexOf('@') + 1)}` : url;
  }
  if (!u.username && !u.password) return url;
  u.username = '***';
  u.password = '';
  return u.toString();
}

export function toMailboxView(row: Mailbox & { tenant: { slug: string } }): MailboxView {
  // The cursor is the source's own text; its source says what it means.
  const cursor = sourceFor(row.source).describeCursor(row.cursor);
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    tenant: row.tenant.slug,
    address: row.address,
    aliases: [...row.aliases],
    host: row.host,
    port: row.port,
    tls: row.tls,
    username: row.username,
    auth: row.auth,
    has_secret: row.secret_encrypted !== '',
    oauth_token_url: row.oauth_token_url === null ? null : withoutCredentials(row.oauth_token_url),
    oauth_client_id: row.oauth_client_id,
    oauth_scope: row.oauth_scope,
    has_oauth_client_secret: Boolean(row.oauth_client_secret_encrypted),
    tls_ca: describeCa(row.tls_ca_pem),
    folder: row.folder,
    post_action: formatPostAction(row),
    poll_seconds: row.poll_seconds,
    since: iso(row.since),
    enabled: row.enabled,
    state: row.state,
    last_success_at: iso(row.last_success_at),
    last_error: row.last_error,
    consecutive_failures: row.consecutive_failures,
    backlog: row.backlog === null ? null : { remaining: row.backlog, done: row.backlog_done, started_at: iso(row.backlog_started_at) },
    source: row.source,
    uid_validity: num(cursor.uid_validity),
    last_uid: num(cursor.last_uid),
    highest_modseq: typeof cursor.highest_modseq === 'string' ? cursor.highest_modseq : null,
    created: row.created.toISOString(),
    last_updated: row.last_updated.toISOString(),
  };
}

