// A connection failure in a few words for a person at a terminal (no stack,
// no newline, no trailing period): start-up's checks and `mailroom migrate`
// say what failed the same way.

/** What failed, in a few words (no stack, no newline, no trailing period). */
export function failureReason(err: unknown, hint: string): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) return `connection refused (${hint})`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(message)) return 'the host name cannot be resolved';
  if (code === 'ETIMEDOUT' || /timeout|timed out|no answer in time/i.test(message)) return `no answer in time (${hint})`;
  return message.replace(/\s+/g, ' ').trim().replace(/\.$/, '') || 'unknown error';
}
