// IMAP's cursor and source keys, the only place that knows their text form.
// A source key is `uidvalidity:uid`: UIDs name a message only together with
// the folder's UIDVALIDITY (RFC 9051 2.3.1.1), so the pair is the identity.
// The cursor is `uidvalidity:lastuid`, with `:highestmodseq` where the server
// has CONDSTORE: everything up to lastuid under that UIDVALIDITY is stored.

export interface ImapCursor {
  uidValidity: bigint;
  lastUid: bigint;
  highestModseq: bigint | null;
}

const DIGITS = /^\d{1,20}$/;

export function formatCursor(c: ImapCursor): string {
  return c.highestModseq === null ? `${c.uidValidity}:${c.lastUid}` : `${c.uidValidity}:${c.lastUid}:${c.highestModseq}`;
}

/** The cursor, or null for none or one that is not IMAP's (the folder is then read afresh). */
export function parseCursor(text: string | null): ImapCursor | null {
  if (text === null) return null;
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => DIGITS.test(p))) return null;
  return { uidValidity: BigInt(parts[0]!), lastUid: BigInt(parts[1]!), highestModseq: parts[2] === undefined ? null : BigInt(parts[2]) };
}

export function formatSourceKey(uidValidity: bigint, uid: bigint): string {
  return `${uidValidity}:${uid}`;
}

export function parseSourceKey(key: string): { uidValidity: bigint; uid: bigint } | null {
  const parts = key.split(':');
  if (parts.length !== 2 || !parts.every((p) => DIGITS.test(p))) return null;
  return { uidValidity: BigInt(parts[0]!), uid: BigInt(parts[1]!) };
}

/** For views: numbers where IMAP's are 32-bit, the 63-bit modseq as a string. */
export function describeCursor(text: string | null): { uid_validity: number | null; last_uid: number | null; highest_modseq: string | null } {
  const c = parseCursor(text);
  return { uid_validity: c ? Number(c.uidValidity) : null, last_uid: c ? Number(c.lastUid) : null, highest_modseq: c?.highestModseq?.toString() ?? null };
}

export function describeKey(key: string): { uid_validity: number | null; uid: number | null } {
  const k = parseSourceKey(key);
  return { uid_validity: k ? Number(k.uidValidity) : null, uid: k ? Number(k.uid) : null };
}
