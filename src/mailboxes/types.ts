// The shapes of mailbox administration, and the pure mapping from a stored row to
// what admins see. A `MailboxView` is the only way a mailbox leaves this module
// towards the CLI or the API: it has no secret field, only `has_secret` flags,
// so no code path can echo a password or token by serializing a "mailbox".
import type { Mailbox, MailboxAuth, MailboxPostAction, MailboxState, MailboxTls } from '../generated/prisma/client.js';
import type { CaCertificate } from './ca.js';

export type { Mailbox, MailboxAuth, MailboxPostAction, MailboxState, MailboxTls };
export type { CaCertificate } from './ca.js';

export type { ConnectionTestDetails, ConnectionTestResult, ConnectionTestStage, MailboxConnectionRow } from '../sources/types.js';

export interface MailboxView {
  id: number;
  tenant_id: number;
  /** The tenant's slug. */
  tenant: string;
  address: string;
  aliases: string[];
  host: string;
  port: number;
  tls: MailboxTls;
  username: string;
  auth: MailboxAuth;
  /** The password (or OAuth2 refresh token) is stored, encrypted; it is write-only. */
  has_secret: boolean;
  oauth_token_url: string | null;
  oauth_client_id: string | null;
  oauth_scope: string | null;
  has_oauth_client_secret: boolean;
  /** The private CA the server's certificate must chain to, as subject and fingerprint per certificate; null: the system's CAs. */
  tls_ca: CaCertificate[] | null;
  folder: string;
  /** `seen`, `none` or `move:FOLDER` (the form the CLI's --after takes). */
  post_action: string;
  poll_seconds: number;
  since: string | null;
  enabled: boolean;
  state: MailboxState;
  last_success_at: string | null;
  last_error: string | null;
  consecutive_failures: number;
  /** The sync pass at work on a backlog: items left and done so far, since when; null when none is. */
  backlog: { remaining: number; done: number; started_at: string | null } | null;
  /** How mail arrives (`imap`). */
  source: string;
  /** The source's cursor, read by the source (IMAP: UIDs are 32-bit, so numbers are exact; null for other sources). */
  uid_validity: number | null;
  last_uid: number | null;
  /** 63-bit in CONDSTORE: a string, to stay exact in JSON. */
  highest_modseq: string | null;
  created: string;
  last_updated: string;
}

export type PostAction = { post_action: MailboxPostAction; post_action_folder: string | null };

/** Parses `seen`, `none` or `move:FOLDER`; null when the text is none of these. */
export function parsePostAction(text: string): PostAction | null {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (lower === 'seen' || lower === 'none') return { post_action: lower, post_action_folder: null };
  const m = /^move:(.+)$/is.exec(t);
  const folder = m?.[1]?.trim();
  if (folder) return { post_action: 'move', post_action_folder: folder };
  return null;
}

export function formatPostAction(row: PostAction): string {
  return row.post_action === 'move' ? `move:${row.post_action_folder ?? ''}` : row.post_action;
}
