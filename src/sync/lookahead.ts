// Reading a few events ahead: while the current event is being handled, the
// next `size` are already pulled and their work started (`start`), so the
// download and the parse of the next mails overlap the commit of this one.
// Events still come out strictly in order, so everything that must be
// sequential (the cursor, duplicates, threading) stays sequential. An async
// generator queues next() calls, so pulling ahead is safe; stopping early
// returns the source once the pulls already asked for have settled.
export async function* lookahead<T, U>(source: AsyncIterable<T>, size: number, start: (event: T) => U): AsyncGenerator<{ event: T; started: U }> {
  const it = source[Symbol.asyncIterator]();
  const pull = (): Promise<IteratorResult<{ event: T; started: U }>> => {
    const p = it.next().then((r): IteratorResult<{ event: T; started: U }> => (r.done ? { done: true, value: undefined } : { done: false, value: { event: r.value, started: start(r.value) } }));
    p.catch(() => undefined); // awaited in turn below; a failure surfaces there
    return p;
  };
  const window: Promise<IteratorResult<{ event: T; started: U }>>[] = [];
  try {
    for (let i = 0; i < Math.max(1, size); i++) window.push(pull());
    for (;;) {
      const next = await window.shift()!;
      if (next.done) return;
      window.push(pull());
      yield next.value;
    }
  } finally {
    await Promise.allSettled(window);
    await it.return?.(undefined);
  }
}
