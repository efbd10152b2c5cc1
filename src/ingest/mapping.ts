// One raw mail → its mapped conversation (parse with the mail core, then
// mapMail), as a pure step with plain-data input and output, so that it runs
// the same in this thread or in a worker thread (map-pool.ts): it is the CPU
// heavy part of ingest, and a big mail must not hold up IDLE, the API or
// other mailboxes. The attachment rows' ids are not known yet when it runs
// (they are taken from the database afterwards), so `cid:` images point at
// placeholder URLs that withAttachmentIds() replaces with the real ones. The
// placeholder carries a per-process random token: a mail cannot forge one.
//
// The step itself (parseAndMap) is in parse-and-map.ts: this file is what the
// main thread needs (the request and response, the placeholders), so that a
// process mapping in its pool never loads the mail core (mailparser,
// sanitize-html, html-to-text) into its main thread; ingest.ts's in-thread
// mapper imports it on first use.
import { randomBytes } from 'node:crypto';
import type { MappedMail } from '../conversations/from-mail.js';
import type { ErrorCode } from '../errors.js';
import type { HeaderFacts, ParseLimits } from '../mail/parse.js';
import type { AttachmentSink } from '../mail/types.js';
import type { RawBytes } from '../mail/raw-file.js';

export interface MapRequest {
  /** A pool takes only a Buffer; a RawFile is parsed in the thread that has it. */
  raw: RawBytes;
  limits?: Partial<ParseLimits>;
  mailbox: { address: string; aliases: string[] };
  ownAddresses: string[];
  receivedAt: Date | null;
  now: Date;
  /** The URL of attachment `{id}`, with the literal `{id}` where the id goes. */
  attachmentUrl: string;
  /** Unguessable per process (placeholderToken()). */
  token: string;
}

export type MapResponse =
  | { ok: true; mapped: MappedMail }
  /** `header`: what a mail refused over a limit still said of itself (for its ingest record). */
  | { ok: false; error: { code: ErrorCode; message: string }; header?: HeaderFacts | null };

/**
 * Anything that runs parseAndMap (in this thread, or a pool of worker
 * threads). The sink is a function of this thread: a pool does not take one
 * (it gets only mails small enough to hand over whole).
 */
export interface Mapper {
  map(req: MapRequest, sink?: AttachmentSink): Promise<MapResponse>;
}

export function placeholderToken(): string {
  return randomBytes(12).toString('hex');
}

/** The mapped mail with its `cid:` placeholders pointing at the attachment rows' real ids. */
export function withAttachmentIds(mapped: MappedMail, token: string, ids: readonly number[]): MappedMail {
  if (ids.length === 0) return mapped;
  const pattern = new RegExp(`mrcid-${token}-(\\d+)`, 'g');
  const swap = (text: string) => text.replace(pattern, (_, i: string) => String(ids[Number(i)] ?? 0));
  const rich = mapped.sys_content_rich;
  return {
    ...mapped,
    sys_content_rich: { ...rich, html: swap(rich.html), editorjs: JSON.parse(swap(JSON.stringify(rich.editorjs))) as typeof rich.editorjs },
  };
}

/** Buffers come back from a worker thread as plain Uint8Arrays: make them Buffers again. */
export function revive(res: MapResponse): MapResponse {
  if (!res.ok) return res;
  for (const a of res.mapped.attachments) {
    const c = a.content as Uint8Array | null;
    if (c !== null && !Buffer.isBuffer(c)) a.content = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  }
  return res;
}
