// The life cycle of an API token as pure values (PRODUCT.md "token list|revoke",
// `--expires-in`): how long a new token lives, whether a stored token may still
// be used, and when its last use is worth writing down. The service, the API's
// auth and the dashboard's sessions all ask these functions, so "revoked or
// expired answers 401" is decided in one place.

/** A token's state as lists show it. */
export type TokenState = 'active' | 'expired' | 'revoked';

/** The columns the life cycle reads. */
export interface TokenLifeCycle {
  revoked_at: Date | null;
  expires_at: Date | null;
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** The longest expiry accepted: ten years. Longer is "no expiry", which is what leaving the option out means. */
export const MAX_EXPIRY_MS = 3650 * UNIT_MS.d;

export const DURATION_HINT = 'a whole number and a unit: 30m, 12h, 90d or 52w (at most 3650d)';

/** `30m`, `12h`, `90d`, `52w` in milliseconds; null for anything else (zero, fractions, other units, over ten years). */
export function parseDuration(text: string): number | null {
  const match = /^([1-9]\d{0,6})([mhdw])$/.exec(text.trim());
  if (!match?.[1] || !match[2]) return null;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms <= MAX_EXPIRY_MS ? ms : null;
}

export function tokenState(row: TokenLifeCycle, now: Date = new Date()): TokenState {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at !== null && row.expires_at.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/** Whether the token may authenticate a request now: not revoked, not expired. */
export function tokenUsable(row: TokenLifeCycle, now: Date = new Date()): boolean {
  return tokenState(row, now) === 'active';
}

/**
 * Last use is recorded at most this often per token: a busy client costs one
 * write a minute, not one per request, and "last used" stays true to the minute.
 */
export const LAST_USED_GRANULARITY_MS = 60_000;

/** Whether a use at `now` should be written, given the stored last use. */
export function lastUseIsStale(lastUsedAt: Date | null, now: Date = new Date()): boolean {
  return lastUsedAt === null || now.getTime() - lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS;
}
