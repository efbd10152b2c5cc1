// uuencoded files inside a text body: old mailers and some scanners still
// send attachments as `begin 644 name` ... `end` blocks in the text itself.
// parse.ts takes them out of the text and keeps them as attachments.

/**
 * Finds `begin 644 name` ... `end` blocks (uuencode, still sent by old
 * mailers and some scanners) in a text body, decodes them and removes them
 * from the text. A block whose lines are not valid uuencode is left alone.
 */
export function extractUuencoded(text: string, opts: { maxBlocks: number }): { text: string; files: { filename: string; content: Buffer }[] } {
  if (!text.includes('begin ')) return { text, files: [] };
  const lines = text.split(/\r?\n/);
  const files: { filename: string; content: Buffer }[] = [];
  const keep: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const head = files.length < opts.maxBlocks ? /^begin(?:-base64)? [0-7]{3,4} (\S.{0,254})$/.exec(line) : null;
    const block = head ? decodeUuBlock(lines, i + 1) : null;
    if (!head || !block) {
      keep.push(line);
      continue;
    }
    files.push({ filename: (head[1] ?? '').trim(), content: block.content });
    i = block.endLine;
  }
  return files.length === 0 ? { text, files } : { text: keep.join('\n'), files };
}

function decodeUuBlock(lines: readonly string[], from: number): { content: Buffer; endLine: number } | null {
  const chunks: Buffer[] = [];
  for (let i = from; i < lines.length; i++) {
    const rawLine = (lines[i] ?? '').replace(/\r$/, '');
    if (rawLine.trim() === 'end') return { content: Buffer.concat(chunks), endLine: i };
    if (rawLine.trim() === '' || rawLine.trim() === '`') continue;
    const n = (rawLine.charCodeAt(0) - 32) & 63;
    const needed = Math.ceil(n / 3) * 4;
    // Some mailers strip trailing spaces (which encode zero bits): pad them back.
    if (rawLine.length - 1 > needed + 4) return null;
    const line = rawLine.padEnd(needed + 1, ' ');
    const out = Buffer.alloc(Math.ceil(n / 3) * 3);
    let o = 0;
    for (let j = 1; j + 3 < line.length && o < out.length; j += 4) {
      const c = [0, 1, 2, 3].map((k) => (line.charCodeAt(j + k) - 32) & 63);
      const [a = 0, b = 0, cc = 0, d = 0] = c;
      out[o++] = (a << 2) | (b >> 4);
      out[o++] = ((b & 15) << 4) | (cc >> 2);
      out[o++] = ((cc & 3) << 6) | d;
    }
    chunks.push(out.subarray(0, n));
  }
  return null;
}
