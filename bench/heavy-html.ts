// The big body bench/heavy-request.ts posts (and tests reuse).
/** Mail-like HTML of about `chars` characters: paragraphs with links, emphasis and inline styles. */
export function heavyHtml(chars: number): string {
  const unit = '<p style="color:#333;margin:0 0 8px">Hello <b>there</b>, see <a href="https://example.com/x?y=1">this link</a> and <i>more</i>.</p>\n';
  return unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
}
