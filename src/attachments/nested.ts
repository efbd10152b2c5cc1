// Archives inside archives (42.zip and its kin): a few kilobytes of ZIP that
// hold ZIPs that hold ZIPs, each level harmless on its own, the whole unpacking
// to petabytes. zip.ts reads one archive's directory without inflating
// anything, so a bomb's per-archive figures look fine; here the archives found
// inside are opened, level by level, and what every level declares is added to
// one budget shared across all levels: entries, unpacked bytes, nesting depth,
// the bytes actually inflated to reach the inner directories, and time.
//
// Memory stays bounded: only nested *archives* are inflated (never the files
// in them), each with zlib's `maxOutputLength` set to what is left of the
// inflate budget, so an inner archive that lies about its size stops at the
// budget instead of filling memory; at most one inflated archive per level is
// alive at a time. What it reports is one sentence, or null; policy.ts makes
// it an ERROR.

import { inflateRawSync } from 'node:zlib';
import { entryNameText, memberDataStart, readZipDirectory, type ZipFacts, type ZipMember } from './zip.js';

export interface NestedLimits {
  /** Levels of archives below the attachment: the attachment's own members are level 1. */
  readonly maxDepth: number;
  /** Entries of all levels together. */
  readonly maxEntries: number;
  /** Declared unpacked bytes of all levels together. */
  readonly maxUncompressedBytes: number;
  /** Bytes inflated to read nested archives, all levels together. */
  readonly maxInflatedBytes: number;
  /** Wall-clock time for the whole walk. */
  readonly maxMillis: number;
}

interface Budget {
  entries: number;
  uncompressed: number;
  inflated: number;
  readonly deadline: number;
}

/** What the walk needs from the policy: how it formats sizes and which entry names it blocks. */
export interface NestedContext {
  readonly limits: NestedLimits;
  /** "25 MiB" style pair for a value and its limit. */
  readonly describe: (value: number, limit: number) => [string, string];
  readonly blockedName: (name: string) => boolean;
  readonly now?: () => number;
}

/** One sentence when the archives inside `top` go over a limit or hold a blocked file, else null. */
export function nestedArchiveProblem(bytes: Buffer, top: ZipFacts, ctx: NestedContext): string | null {
  if (top.archives.length === 0) return null;
  const now = ctx.now ?? Date.now;
  const budget: Budget = { entries: top.entries, uncompressed: top.uncompressedBytes, inflated: 0, deadline: now() + ctx.limits.maxMillis };
  return visit(bytes, top, 1, '', budget, ctx, now);
}

function visit(bytes: Buffer, archive: ZipFacts, depth: number, path: string, budget: Budget, ctx: NestedContext, now: () => number): string | null {
  const { limits, describe } = ctx;
  for (const member of archive.archives) {
    const where = `${path}${member.name}`;
    if (now() > budget.deadline) return `The archives inside the archive could not be checked within ${limits.maxMillis / 1000} s.`;
    if (depth > limits.maxDepth) return `The archive holds archives nested more than ${limits.maxDepth} levels deep (${entryNameText(where)}).`;
    const inner = inflateMember(bytes, member, limits.maxInflatedBytes - budget.inflated);
    if (inner === 'too-large') {
      const [, limit] = describe(budget.inflated, limits.maxInflatedBytes);
      return `The archives inside the archive unpack to more than the ${limit} allowed for opening nested archives (at ${entryNameText(where)}).`;
    }
    if (inner === null) continue; // damaged or not a ZIP after all: nothing more to open
    budget.inflated += inner.length;
    const facts = readZipDirectory(inner, {
      maxEntries: limits.maxEntries - budget.entries,
      maxUncompressedBytes: limits.maxUncompressedBytes - budget.uncompressed,
    });
    if (facts.kind !== 'zip') continue;
    budget.entries += facts.entries;
    budget.uncompressed += facts.uncompressedBytes;
    if (budget.entries > limits.maxEntries) {
      return `The archive and the archives inside it have ${facts.stoppedEarly ? 'at least ' : ''}${budget.entries} entries, which exceeds the limit of ${limits.maxEntries} entries.`;
    }
    if (budget.uncompressed > limits.maxUncompressedBytes) {
      const [size, limit] = describe(budget.uncompressed, limits.maxUncompressedBytes);
      return `The archive and the archives inside it unpack to at least ${size}, which exceeds the ${limit} limit.`;
    }
    if (facts.overlapping) return `A nested archive's entries overlap, a trick only zip bombs use (${entryNameText(where)}).`;
    const blocked = facts.names.find(ctx.blockedName);
    if (blocked !== undefined) return `The archive contains a blocked file type: ${entryNameText(`${where}/${blocked}`)}.`;
    const problem = visit(inner, facts, depth + 1, `${where}/`, budget, ctx, now);
    if (problem !== null) return problem;
  }
  return null;
}

/** The member's bytes, inflating at most `room` bytes; 'too-large' past that, null when it cannot be read. */
function inflateMember(bytes: Buffer, member: ZipMember, room: number): Buffer | 'too-large' | null {
  const start = memberDataStart(bytes, member.localOffset);
  if (start === null || start + member.compressedBytes > bytes.length) return null;
  const data = bytes.subarray(start, start + member.compressedBytes);
  if (member.method === 0) return data.length > room ? 'too-large' : data;
  if (room <= 0) return 'too-large';
  try {
    return inflateRawSync(data, { maxOutputLength: room });
  } catch (err) {
    // ERR_BUFFER_TOO_LARGE: the output would pass `room`; anything else is a damaged stream.
    if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return 'too-large';
    return null;
  }
}

