// Limits that keep reply extraction bounded on hostile mail. Every knob has a
// sane default; callers pass overrides from configuration. Exceeding a limit
// truncates the input (quoted history sits at the end of a mail, so the new
// text survives truncation), it never throws.

export interface ReplyLimits {
  /** Plain text beyond this many characters is dropped before processing. */
  maxInputChars: number;
  /** HTML beyond this many characters is dropped before parsing. */
  maxHtmlChars: number;
  /** Lines beyond this count are dropped before processing. */
  maxLines: number;
  /** Only this many leading characters of a line are looked at when classifying it. */
  maxLineScanChars: number;
  /** Elements nested deeper than this are flattened to their text. */
  maxHtmlDepth: number;
  /** Elements beyond this count are dropped (document order). */
  maxHtmlNodes: number;
}

export const DEFAULT_REPLY_LIMITS: Readonly<ReplyLimits> = Object.freeze({
  maxInputChars: 200_000,
  maxHtmlChars: 1_000_000,
  maxLines: 20_000,
  maxLineScanChars: 1_000,
  maxHtmlDepth: 128,
  maxHtmlNodes: 50_000,
});

/** Merge caller overrides onto the defaults, ignoring non-positive or non-finite values. */
export function resolveLimits(opts: Partial<ReplyLimits> | undefined): ReplyLimits {
  const out: ReplyLimits = { ...DEFAULT_REPLY_LIMITS };
  if (!opts) return out;
  for (const key of Object.keys(out) as (keyof ReplyLimits)[]) {
    const v = opts[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = Math.floor(v);
  }
  return out;
}
