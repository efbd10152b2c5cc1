// Seeded randomness for the generated corpus: the same seed gives the same
// bytes on every machine, so two runs measure the same work.

/** A 32-bit hash of the parts (FNV-1a over their text), to seed one stream per mail. */
export function seedOf(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** `size` pseudo-random bytes (incompressible, like the payload of a PDF or PNG). */
  bytes(size: number): Buffer;
}

/** mulberry32 for numbers, xorshift32 for bulk bytes. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    bytes(size) {
      const words = new Uint32Array(Math.ceil(size / 4));
      let x = Math.floor(next() * 4294967295) >>> 0 || 1;
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[i] = x >>> 0;
      }
      return Buffer.from(words.buffer, 0, size);
    },
  };
}
