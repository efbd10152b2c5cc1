// Moving a mailbox's cursor (opaque: only its source reads it). Every move is
// a compare-and-set from the cursor the mover last saw, so a second writer —
// a sync whose lock was lost, an admin re-pointing the mailbox meanwhile —
// can never move it under another's feet: the losing move fails with
// CURSOR_MOVED, and inside an ingest transaction that rolls the item back
// whole (the next sync reads it again and recognises what is stored).
import type { Db } from '../db/prisma.js';
import { MailroomError } from '../errors.js';
import type { CursorMove } from './types.js';

export async function moveCursor(db: Db, mailboxId: number, move: CursorMove): Promise<void> {
  if (move.from === move.to) return;
  const moved = await db.mailbox.updateMany({ where: { id: mailboxId, cursor: move.from }, data: { cursor: move.to } });
  if (moved.count !== 1) throw new MailroomError('CURSOR_MOVED', `The cursor of mailbox ${mailboxId} moved meanwhile (another sync, or the mailbox was changed or removed).`);
}
