// Reading a few events ahead: while the current event is being handled, the
// next `size` are already pulled and their work started (`start`), so the
// download and the parse of the next mails overlap the commit of this one.
// Events still come out strictly in order, so everything that must be
// sequential (the cursor, duplicates, threading) stays sequential. An async
// generator queues next() calls, so pulling ahead is safe; stopping early
// returns the source once the pulls already asked for have settled.
export async function* lookahead<T, U>(
  source: AsyncIterable<T>,
  size: number,
  start: (event: T) => U,
  /** With `maxWeight`: no more is pulled ahead while the events held weigh more (memory: raw bytes). */
  budget?: { weight: (event: T) => number; maxWeight: number },
): AsyncGenerator<{ event: T; started: U }> {
  const it = source[Symbol.asyncIterator]();
  const pull = (): Promise<IteratorResult<{ event: T; started: U }>> => {
    const p = it.next().then((r): IteratorResult<{ event: T; started: U }> => (r.done ? { done: true, value: undefined } : { done: false, value: { event: r.value, started: start(r.value) } }));
    p.catch(() => undefined); // awaited in turn below; a failure surfaces there
    return p;
  };
  const window: Promise<IteratorResult<{ event: T; started: U }>>[] = [];
  const weights: number[] = [];
  let held = 0;
  const add = () => {
    const p = pull();
    window.push(p);
    const slot = weights.push(0) - 1;
    void p.then((r) => {
      const w = r.done || !budget ? 0 : budget.weight(r.value.event);
      weights[slot] = w;
      held += w;
    }, () => undefined);
  };
  let taken = 0;
  try {
    add();
    for (;;) {
      // Ahead of the one being handled: up to `size`, while what they hold stays within the budget.
      while (window.length < Math.max(1, size) && (!budget || held <= budget.maxWeight)) add();
      const next = await window.shift()!;
      held -= weights[taken] ?? 0;
      taken++;
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await Promise.allSettled(window);
    await it.return?.(undefined);
  }
}
