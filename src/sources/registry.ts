// The mail sources Mailroom knows, by the kind stored on each mailbox
// (`mailboxes.source`). Adding a source: a folder under src/sources/ that
// implements MailSource, and one entry here.
import { MailroomError } from '../errors.js';
import { imapSource } from './imap/index.js';
import type { MailSource } from './types.js';

const SOURCES: ReadonlyMap<string, MailSource> = new Map([[imapSource.kind, imapSource]]);

export const SOURCE_KINDS: readonly string[] = [...SOURCES.keys()];

export function sourceFor(kind: string): MailSource {
  const source = SOURCES.get(kind);
  if (!source) throw new MailroomError('CONFIG_INVALID', `Unknown mail source "${kind}" (known: ${SOURCE_KINDS.join(', ')}).`);
  return source;
}
