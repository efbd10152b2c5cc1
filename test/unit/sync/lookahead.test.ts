// lookahead: events in order, each one's work started while earlier ones are
// still being handled, and the source returned when the reader stops early.
import { describe, expect, it } from 'vitest';
import { lookahead, SharedWeight } from '../../../src/sync/lookahead.js';

/** Events 1..n; `pulled` is the last one the source has yielded. */
function counting(n: number) {
  const counted = {
    pulled: 0,
    async *source() {
      for (let i = 1; i <= n; i++) {
        counted.pulled = i;
        yield i;
      }
    },
  };
  return counted;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lookahead', () => {
  it('keeps the order and starts work ahead of the reader', async () => {
    const started: number[] = [];
    const seen: number[] = [];
    async function* source() {
      for (let i = 1; i <= 6; i++) yield i;
    }
    for await (const { event, started: s } of lookahead(source(), 3, (e: number) => (started.push(e), e * 10))) {
      seen.push(event);
      expect(s).toBe(event * 10);
      // While event n is handled, the later ones in the window were already pulled and started.
      expect(Math.max(...started)).toBeGreaterThanOrEqual(Math.min(6, event + 2));
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('returns the source when the reader stops, and passes its failure on in order', async () => {
    let finished = false;
    async function* source() {
      try {
        for (let i = 1; ; i++) yield i;
      } finally {
        finished = true;
      }
    }
    for await (const { event } of lookahead(source(), 2, () => undefined)) if (event === 3) break;
    expect(finished).toBe(true);

    async function* failing() {
      yield 1;
      throw new Error('connection lost');
    }
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const { event } of lookahead(failing(), 4, () => undefined)) got.push(event);
      })(),
    ).rejects.toThrow('connection lost');
    expect(got).toEqual([1]);
  });

  it('pulls no further ahead while the events held weigh more than the budget', async () => {
    const counted = counting(5);
    const seenAt: number[] = [];
    // Each event weighs 10; a budget of 15 keeps at most about two ahead.
    for await (const { event } of lookahead(counted.source(), 4, () => undefined, { weight: () => 10, maxWeight: 15 })) {
      seenAt.push(counted.pulled - event);
    }
    expect(Math.max(...seenAt)).toBeLessThanOrEqual(3);
  });

  it('shares a budget between readers: past it, each pulls only its next event, and what it held is given back when it stops', async () => {
    const shared = new SharedWeight(25, 0);
    const pulled = { a: 0, b: 0 };
    async function* source(name: 'a' | 'b') {
      for (let i = 1; i <= 8; i++) {
        pulled[name] = i;
        yield i;
      }
    }
    const budget = { weight: () => 10, maxWeight: 1000, shared };
    const a = lookahead(source('a'), 4, () => undefined, budget);
    const b = lookahead(source('b'), 4, () => undefined, budget);
    // Reader a fills the shared budget (each event weighs 10: three ahead make 30 > 25).
    expect((await a.next()).value?.event).toBe(1);
    await sleep(10);
    expect(shared.held).toBeGreaterThan(shared.max);
    // Reader b still gets every event, one at a time, never pulling more than the one it needs next.
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const next = await b.next();
      seen.push(next.value!.event);
      await sleep(10);
      expect(pulled.b - next.value!.event).toBeLessThanOrEqual(1);
    }
    expect(seen).toEqual([1, 2, 3]);
    // Stopping gives back what each held ahead.
    await a.return(undefined);
    await b.return(undefined);
    expect(shared.held).toBe(0);
  });

  it('keeps the shared total near its limit when many readers start at once: one pull each, checked against what has arrived', async () => {
    const shared = new SharedWeight(25, 0);
    let peak = 0;
    async function* source() {
      for (let i = 1; i <= 8; i++) {
        peak = Math.max(peak, shared.held);
        yield i;
      }
    }
    const budget = { weight: () => 10, maxWeight: 1000, shared };
    const readers = Array.from({ length: 10 }, () => lookahead(source(), 4, () => undefined, budget));
    await Promise.all(readers.map((r) => r.next()));
    await sleep(20);
    peak = Math.max(peak, shared.held);
    // Each holds the one it needs (10 × 10); a few pulled one more while the total was still under 25.
    // (Checked only at the loop, every reader filled its window of four: 10 × 40.)
    expect(peak).toBeLessThanOrEqual(10 * 10 + 30);
    await Promise.all(readers.map((r) => r.return(undefined)));
    expect(shared.held).toBe(0);
  });

  it('lets a reader of light events read ahead beside a heavy one that fills the shared budget', async () => {
    const shared = new SharedWeight(25, 5);
    const pulled = { heavy: 0, light: 0 };
    async function* source(name: 'heavy' | 'light') {
      for (let i = 1; i <= 10; i++) {
        pulled[name] = i;
        yield i;
      }
    }
    const heavy = lookahead(source('heavy'), 4, () => undefined, { weight: () => 20, maxWeight: 1000, shared });
    const light = lookahead(source('light'), 4, () => undefined, { weight: () => 1, maxWeight: 1000, shared });
    await heavy.next();
    await sleep(10);
    expect(shared.held).toBeGreaterThan(shared.max);
    const first = await light.next();
    await sleep(10);
    // Under its floor of 5 the light reader fills its window of four ahead, whatever the total.
    expect(pulled.light - first.value!.event).toBe(4);
    await heavy.return(undefined);
    await light.return(undefined);
    expect(shared.held).toBe(0);
  });

  it('gives back what arrives after the reader stopped, and what was handed over with more', async () => {
    const shared = new SharedWeight(1000, 0);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* source() {
      yield 1;
      yield 2;
      await gate; // the third arrives only after the reader has stopped
      yield 3;
    }
    const reader = lookahead(source(), 4, () => undefined, { weight: () => 10, maxWeight: 1000, shared });
    const first = await reader.next();
    await sleep(10);
    expect(first.value!.more(() => true)?.event).toBe(2);
    const stopped = reader.return(undefined);
    release();
    await stopped;
    expect(shared.held).toBe(0);
  });

  it('hands over the next events at once while they are pulled and accepted, in order, never waiting for one', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* source() {
      for (let i = 1; i <= 4; i++) yield i;
      await gate; // the fifth is not there yet
      yield 5;
      yield 6;
    }
    const handled: number[][] = [];
    for await (const { event, more } of lookahead(source(), 4, () => undefined)) {
      await sleep(10); // the pulls ahead settle meanwhile
      const group = [event];
      for (let next; (next = more((n) => n.event !== 3)); ) group.push(next.event);
      handled.push(group);
      if (event >= 3) release();
    }
    // 3 is refused, so it starts a group of its own; 5 was not pulled while 3 and 4 were handled.
    expect(handled.flat()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(handled[0]).toEqual([1, 2]);
    expect(handled[1]).toEqual([3, 4]);
  });

  it('counts the events handed over by `more` as held until the reader asks for the next one', async () => {
    const counted = counting(12);
    const pulledWhileHandled: number[] = [];
    // Each weighs 10: what a group takes with `more` (two or more) is over the budget of 15 by itself.
    for await (const { more } of lookahead(counted.source(), 4, () => undefined, { weight: () => 10, maxWeight: 15 })) {
      await sleep(5);
      const before = counted.pulled;
      let taken = 0;
      while (more(() => true)) taken += 1;
      await sleep(5); // a batch committing
      if (taken >= 2) pulledWhileHandled.push(counted.pulled - before);
    }
    // Nothing was pulled while such a group was handled, not even when it emptied the window: what it holds still
    // counts, and the reader needs no next event before it comes back.
    expect(pulledWhileHandled.length).toBeGreaterThan(0);
    expect(Math.max(...pulledWhileHandled)).toBe(0);
  });

  it('pulls the next events while the reader handles a group taken with `more`', async () => {
    const counted = counting(12);
    const aheadWhileHandled: number[] = [];
    for await (const { event, more } of lookahead(counted.source(), 3, () => undefined)) {
      await sleep(5);
      let last = event;
      for (let next; (next = more(() => true)); ) last = next.event;
      await sleep(5); // a batch committing
      aheadWhileHandled.push(counted.pulled - last);
    }
    // The window (3) filled again behind the group before the reader came back for the next event.
    expect(Math.max(...aheadWhileHandled)).toBe(3);
  });
});
