// The shapes of ingest, in a leaf file so that sources, the sync worker, the
// API and the CLI can name them without importing ingest's code (and ingest's
// modules can share them without importing each other).

import type { Db } from '../db/prisma.js';
import type { Logger } from '../logging/logger.js';
import type { ParseLimits } from '../mail/parse.js';
import type { Classification } from '../mail/classify.js';
import type { BlobStore } from '../storage/blob.js';
import type { Mapper } from './mapping.js';
import type { RawBytes } from '../mail/raw-file.js';

export type IngestOutcome = 'conversation' | 'duplicate' | 'skipped' | 'failed';

/** One mail as a source hands it over (src/sources/types.ts). */
export interface InboundItem {
  /** Unique within the mailbox, stable across re-reads of the same item (IMAP: `uidvalidity:uid`). */
  readonly sourceKey: string;
  /**
   * Its bytes; a large mail's in a temporary file (RawFile), which the source
   * closes when the item is done with (SourceSession.release) or the session ends.
   */
  readonly raw: RawBytes;
  /** When the source received it (IMAP INTERNALDATE); null when it does not say. */
  readonly receivedAt: Date | null;
  /** The mailbox's cursor once this item is stored (opaque: only its source reads it). */
  readonly cursor: string;
  /**
   * Set when the source kept only the header because the whole item is over a
   * limit: ingest makes a conversation of the header with a warning (failed,
   * MAIL_LIMIT_EXCEEDED, when the header cannot be read), header_only.
   */
  readonly oversize?: { readonly size: number; readonly limit: number };
}

/**
 * The cursor move that goes with an item: written in the item's transaction
 * only while the mailbox's cursor is still `from` (what the sync read at its
 * start or last wrote), so two writers can never both move it.
 */
export interface CursorMove {
  readonly from: string | null;
  readonly to: string | null;
}

export interface IngestMailbox {
  id: number;
  tenant_id: number;
  address: string;
  aliases: string[];
}

export interface IngestContext {
  db: Db;
  blobs: BlobStore;
  /** MAILROOM_SECRET_KEY: verifies Mailroom's signed Message-IDs. */
  secretKey: Buffer;
  /** MAILROOM_PUBLIC_URL: base of the URLs `cid:` images point at. */
  publicUrl: string;
  logger: Logger;
  parseLimits?: Partial<ParseLimits>;
  now?: () => Date;
  /** Runs parse + map (a worker-thread pool in the worker); absent: in this thread. */
  mapper?: Mapper;
  /** Tenant facts cached for a few seconds (the worker's); absent: read for every mail. */
  tenants?: { get(db: Db, tenantId: number): Promise<TenantFacts> };
}

/** What ingest reads about a tenant for every mail (see tenant-context.ts). */
export interface TenantFacts {
  id: number;
  slug: string;
  reopenOnReply: boolean;
  systemUserId: number;
  statusIds: Map<string, { id: number; isClosed: boolean }>;
  ownAddresses: string[];
}

export interface IngestedAttachment {
  id: number;
  tenantId: number;
  storageKey: string;
}

export interface IngestResult {
  recordId: number;
  outcome: IngestOutcome;
  classification: Classification | null;
  conversationId: number | null;
  ticketId: number | null;
  /** Attachments to enqueue (new conversations only). */
  attachments: IngestedAttachment[];
  /** True when this source key was already recorded (nothing but the cursor was written). */
  alreadyRecorded: boolean;
}
