// The cursor an admin's change leaves on a mailbox: "none, read the folder
// afresh". The mailbox service writes it; a sync (which then shows its pass at
// once) and `mailbox edit --wait` recognise it.
import { randomUUID } from 'node:crypto';

/**
 * A cursor that means "none, read the folder afresh" (no source recognises it)
 * and differs from every cursor before it. Not null: a sync that started before
 * the change with no cursor yet moves it from null, and only a value other than
 * null makes that compare-and-set fail (CURSOR_MOVED), so the stale sync stops
 * instead of writing a cursor from the old settings over the reset.
 */
export function resetCursor(): string {
  return `${RESET_PREFIX}${randomUUID()}`;
}

const RESET_PREFIX = 'reset:';

/** Whether a stored cursor is an admin's reset (no sync has read the folder since). */
export function isResetCursor(cursor: string | null): boolean {
  return cursor !== null && cursor.startsWith(RESET_PREFIX);
}
