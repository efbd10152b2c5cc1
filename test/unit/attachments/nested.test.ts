// Archives inside archives: a generated 42.zip-style bomb (a few KB, levels of
// ZIPs, each level harmless alone) ends ERROR, by depth and by the budget all
// levels share, and a harmless nested archive stays OK.
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_LIMITS, assess, sniffType, type AttachmentFacts, type PolicyLimits } from '../../../src/attachments/policy.js';
import { readZipDirectory } from '../../../src/attachments/zip.js';
import { bomb42, buildZip } from '../../fixtures/attachments/samples.js';

const MiB = 1024 * 1024;

async function judge(filename: string, bytes: Buffer, limits: PolicyLimits = DEFAULT_POLICY_LIMITS) {
  const facts: AttachmentFacts = { filename, declaredType: 'application/zip', sizeBytes: bytes.length, bytes, detected: await sniffType(bytes) };
  return assess(facts, limits);
}

describe('archives inside archives', () => {
  it('refuses a 42.zip-style bomb of a few KB: five levels deep, 16 wide, 1 TiB unpacked in all', async () => {
    const bytes = bomb42(4, MiB);
    expect(bytes.length).toBeLessThan(64 * 1024);
    // Each archive on its own declares little: the attachment itself passes the per-archive rules.
    const top = readZipDirectory(bytes, DEFAULT_POLICY_LIMITS.zip);
    expect(top.kind === 'zip' && top.uncompressedBytes < 16 * MiB).toBe(true);
    const verdict = await judge('42.zip', bytes);
    expect(verdict).toEqual({ status: 'ERROR', message: 'The archive holds archives nested more than 3 levels deep (lib3_0.zip/lib2_0.zip/lib1_0.zip/lib0_0.zip).' });
  });

  it('refuses archives whose levels together pass the unpacked-size limit, though every one of them is under it', async () => {
    // 16 × (16 × 64 MiB): no archive declares more than 1 GiB, all of them together 16 GiB, two levels deep.
    const bytes = bomb42(2, 4 * MiB);
    const verdict = await judge('reports.zip', bytes);
    expect(verdict.status).toBe('ERROR');
    expect(verdict.message).toBe('The archive and the archives inside it unpack to at least 1074944064 bytes, which exceeds the 1073741824 bytes limit.');
  });

  it('refuses by entries counted across levels', async () => {
    const limits: PolicyLimits = { ...DEFAULT_POLICY_LIMITS, zip: { ...DEFAULT_POLICY_LIMITS.zip, nested: { ...DEFAULT_POLICY_LIMITS.zip.nested, maxEntries: 100 } } };
    const verdict = await judge('many.zip', bomb42(2, 16), limits);
    expect(verdict).toEqual({ status: 'ERROR', message: 'The archive and the archives inside it have at least 112 entries, which exceeds the limit of 100 entries.' });
  });

  it('stops inflating a nested archive that lies about its size at the inflate budget, without holding the rest in memory', async () => {
    // The inner "archive" declares 1 KiB but inflates to 80 MiB; the budget for opening nested archives is 64 MiB.
    const inner = Buffer.alloc(80 * MiB);
    const body = deflateRawSync(inner);
    const bytes = buildZip([{ name: 'inner.zip', data: inner, deflate: true, declaredSize: 1024 }]);
    expect(bytes.length).toBeLessThan(body.length + 200);
    const verdict = await judge('liar.zip', bytes);
    expect(verdict).toEqual({ status: 'ERROR', message: 'The archives inside the archive unpack to more than the 64 MiB allowed for opening nested archives (at inner.zip).' });
  });

  it('refuses a blocked file type at any level, and a renamed archive stored inside is opened too', async () => {
    const evil = buildZip([{ name: 'run.exe', data: Buffer.from('MZ') }]);
    const verdict = await judge('docs.zip', buildZip([{ name: 'a.txt', data: Buffer.from('hi') }, { name: 'photos.dat', data: evil }]));
    expect(verdict).toEqual({ status: 'ERROR', message: 'The archive contains a blocked file type: photos.dat/run.exe.' });
  });

  it('keeps a harmless nested archive OK, three levels deep', async () => {
    const c = buildZip([{ name: 'notes.txt', data: Buffer.from('hello '.repeat(1000)), deflate: true }]);
    const b = buildZip([{ name: 'c.zip', data: c, deflate: true }, { name: 'readme.txt', data: Buffer.from('b') }]);
    const a = buildZip([{ name: 'b.zip', data: b }]);
    const top = buildZip([{ name: 'a.zip', data: a, deflate: true }, { name: 'cover.txt', data: Buffer.from('top') }]);
    expect(await judge('bundle.zip', top)).toEqual({ status: 'OK', message: null });
    // One level more is refused.
    const deeper = buildZip([{ name: 'top.zip', data: top }]);
    expect((await judge('bundle.zip', deeper)).message).toBe('The archive holds archives nested more than 3 levels deep (top.zip/a.zip/b.zip/c.zip).');
  });
});
