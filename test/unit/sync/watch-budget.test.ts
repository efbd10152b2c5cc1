import { describe, expect, it } from 'vitest';
import { FILES_FOR_THE_PROCESS, FILES_PER_JOB, parseOpenFilesLimit, watchBudget } from '../../../src/sync/watch-budget.js';

const defaults = { watchLimit: 1000, syncConcurrency: 20, attachmentConcurrency: 4 };

describe('watchBudget', () => {
  it('is MAILROOM_WATCH_LIMIT when the open-files limit has room for it and every job', () => {
    expect(watchBudget({ ...defaults, openFilesLimit: 1_048_576 })).toEqual({ limit: 1000, cappedByOpenFiles: null });
    expect(watchBudget({ ...defaults, openFilesLimit: null })).toEqual({ limit: 1000, cappedByOpenFiles: null });
  });

  it('keeps files back for the process and every sync and attachment slot under a low open-files limit', () => {
    const kept = FILES_FOR_THE_PROCESS + FILES_PER_JOB * 24;
    expect(watchBudget({ ...defaults, openFilesLimit: 1024 })).toEqual({ limit: 1024 - kept, cappedByOpenFiles: 1024 });
    // The watches never take the files a sync needs, however many were asked for.
    expect(watchBudget({ ...defaults, watchLimit: 5000, openFilesLimit: 4096 }).limit + kept).toBeLessThanOrEqual(4096);
    expect(watchBudget({ ...defaults, syncConcurrency: 80, openFilesLimit: 1024 }).limit).toBe(1024 - FILES_FOR_THE_PROCESS - FILES_PER_JOB * 84);
  });

  it('is zero, not negative, when the limit leaves nothing over', () => {
    expect(watchBudget({ ...defaults, openFilesLimit: 100 })).toEqual({ limit: 0, cappedByOpenFiles: 100 });
  });
});

describe('parseOpenFilesLimit', () => {
  const limits = (soft: string, hard: string) =>
    `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             95744                95744                processes \nMax open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     \nMax locked memory         8388608              8388608              bytes     \n`;

  it('reads the soft limit of /proc/<pid>/limits', () => {
    expect(parseOpenFilesLimit(limits('1024', '4096'))).toBe(1024);
    expect(parseOpenFilesLimit(limits('1048576', '1048576'))).toBe(1048576);
  });

  it('is null when unlimited or absent', () => {
    expect(parseOpenFilesLimit(limits('unlimited', 'unlimited'))).toBeNull();
    expect(parseOpenFilesLimit('Limit  Soft Limit  Hard Limit  Units\n')).toBeNull();
  });
});
