// PostgreSQL `text` and `jsonb` cannot hold U+0000, and mail can: every
// string that came out of a mail passes through here on its way to the
// database. Bounded, too: a header bomb must not become a 50 MB row.

const NUL = /\u0000/g;

export function pgText(value: string, maxChars = Number.POSITIVE_INFINITY): string {
  const clean = value.replace(NUL, '');
  return clean.length > maxChars ? clean.slice(0, maxChars) : clean;
}

export function pgTextOrNull(value: string | null | undefined, maxChars?: number): string | null {
  return value === null || value === undefined ? null : pgText(value, maxChars);
}

/** A JSON value with U+0000 removed from every string (jsonb refuses `\u0000`). */
export function pgJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_key, v: unknown) => (typeof v === 'string' ? v.replace(NUL, '') : v)) as T;
}

/** Warnings kept on an ingest record: bounded in number and length. */
export function pgWarnings(warnings: readonly string[], max = 50, maxChars = 500): string[] {
  const out = warnings.slice(0, max).map((w) => pgText(w, maxChars));
  if (warnings.length > max) out.push(`${warnings.length - max} more warning(s) not shown`);
  return out;
}
