// The input-string rule of the API (src/api/kit/input-strings.ts): NUL and lone
// surrogates are found in values and keys at any depth and named by field;
// well-formed text (astral characters, controls other than NUL) passes.
import { describe, expect, it } from 'vitest';
import { stringProblem, stringProblems } from '../../../src/api/kit/input-strings.js';

describe('stringProblem', () => {
  it('refuses NUL and lone surrogates, high or low, anywhere', () => {
    for (const bad of ['\u0000', 'a\u0000', '\ud800', 'x\udbff', '\udc00y', '\udc00\ud800', 'ok\ud83d']) expect(stringProblem(bad), JSON.stringify(bad)).not.toBeNull();
  });
  it('takes well-formed text', () => {
    for (const good of ['', 'plain', '😀', '\ud83d\ude00', '\u0085\u009b', '\u001b[2J', '__proto__', '%ff']) expect(stringProblem(good), JSON.stringify(good)).toBeNull();
  });
});

describe('stringProblems', () => {
  it('names each bad value and key by its path', () => {
    const value = JSON.parse('[{"a":"x\\u0000","b":{"c\\ud800":1},"d":["ok","\\udfff"]}]') as unknown;
    expect(stringProblems(value, ['conversations']).map((p) => p.field)).toEqual(['conversations[0].a', 'conversations[0].b.c\\ud800', 'conversations[0].d[1]']);
  });
  it('reads forms and stops at twenty problems', () => {
    expect(stringProblems(new URLSearchParams({ token: 'a\u0000' })).map((p) => p.field)).toEqual(['token']);
    expect(stringProblems(Array.from({ length: 50 }, () => '\u0000'))).toHaveLength(20);
  });
});
