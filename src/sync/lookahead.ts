// Reading a few events ahead: while the current event is being handled, the
// next `size` are already pulled and their work started (`start`), so the
// download and the parse of the next mails overlap the commit of this one.
// Events still come out strictly in order, so everything that must be
// sequential (the cursor, duplicates, threading) stays sequential. An async
// generator queues next() calls, so pulling ahead is safe; stopping early
// returns the source once the pulls already asked for have settled.
//
// With each event comes `more`: the next event too, right now, when it has
// already been pulled and `accept` takes it (the sync takes items that are
// prepared into the same transaction), else null. Either way the order holds.
// The events handed over leave the window at once, which pulls more behind
// them (while the reader commits a batch, the next items download and parse:
// before, the window refilled only when the reader came back, and the parse
// thread sat idle through every commit); they count against the budget until
// the reader asks for the next event.
//
// A budget bounds what is held ahead in weight (raw bytes) as well as in
// number; a SharedWeight bounds it for several lookaheads together (all the
// syncs of a worker), pulling one event at a time so each weight is counted
// before the next pull is decided.

/**
 * Weight held ahead by several lookaheads at once (every sync of a worker
 * process): each pulls further ahead only while the total is within `max`, or
 * while it holds less than `floor` itself (a sync of small mail is not
 * starved by syncs of large mail). Each may always pull the one event it
 * needs next, so every reader progresses; the total stays within `max` plus,
 * per reader, `floor` and the one event it is pulling.
 */
export class SharedWeight {
  held = 0;
  constructor(
    readonly max: number,
    readonly floor: number,
  ) {}
}

export interface Ahead<T, U> {
  event: T;
  started: U;
  more: (accept: (next: { event: T; started: U }) => boolean) => { event: T; started: U } | null;
}

export async function* lookahead<T, U>(
  source: AsyncIterable<T>,
  size: number,
  start: (event: T) => U,
  /**
   * With `maxWeight`: no more is pulled ahead while the events held weigh more
   * (memory: raw bytes); with `shared`, nor while all its lookaheads together do.
   */
  budget?: { weight: (event: T) => number; maxWeight: number; shared?: SharedWeight },
): AsyncGenerator<Ahead<T, U>> {
  type Pulled = IteratorResult<{ event: T; started: U }>;
  interface Slot {
    pulled: Promise<Pulled>;
    /** Set once the pull has succeeded. */
    done?: Pulled;
    weight: number;
  }
  const it = source[Symbol.asyncIterator]();
  const window: Slot[] = [];
  let held = 0;
  const add = () => {
    const pulled = it.next().then((r): Pulled => (r.done ? { done: true, value: undefined } : { done: false, value: { event: r.value, started: start(r.value) } }));
    pulled.catch(() => undefined); // awaited in turn below; a failure surfaces there
    const slot: Slot = { pulled, weight: 0 };
    window.push(slot);
    void pulled.then((r) => {
      slot.done = r;
      slot.weight = r.done || !budget ? 0 : budget.weight(r.value.event);
      held += slot.weight;
      if (shared) shared.held += slot.weight;
      if (r.done) ended = true;
      else if (shared) fill(); // the next pull, now that this one's weight is counted (see fill)
    }, () => undefined);
  };
  const shared = budget?.shared;
  /** The source has ended (nothing more to pull), or the reader has stopped. */
  let ended = false;
  const within = () => !budget || (held <= budget.maxWeight && (!shared || shared.held <= shared.max || held < shared.floor));
  /**
   * Ahead of the one being handled: up to `size`, while what they hold stays
   * within the budget; the next one always. With a shared budget, one pull at
   * a time, the next when it has arrived (the source yields in order anyway):
   * an event's weight is known only then, and readers starting together must
   * not each fill their window before any weight is counted.
   */
  const arrived = () => !shared || window.every((s) => s.done !== undefined);
  const fill = () => {
    // The next event the reader needs is pulled whatever the budget says, but not while the reader still holds events
    // handed over by `more`: it handles those first, and what is pulled behind them stays within the budget.
    while (!ended && window.length < Math.max(1, size) && ((window.length === 0 && lent.length === 0) || (arrived() && within()))) add();
  };
  const take = (slot: Slot) => {
    held -= slot.weight;
    if (shared) shared.held -= slot.weight;
    slot.weight = 0;
  };
  // Handed over by `more`: still held (and counted against the budget) until the reader asks for the next event.
  const lent: Slot[] = [];
  const more: Ahead<T, U>['more'] = (accept) => {
    const head = window[0];
    if (!head?.done || head.done.done || !accept(head.done.value)) return null;
    lent.push(window.shift()!);
    fill();
    return head.done.value;
  };
  try {
    add();
    for (;;) {
      for (const slot of lent.splice(0)) take(slot);
      fill();
      const slot = window.shift()!;
      const next = await slot.pulled;
      take(slot);
      if (next.done) return;
      yield { ...next.value, more };
    }
  } finally {
    ended = true;
    // What was pulled and never handed out no longer counts (against the shared budget above all): what has
    // arrived at once, what is still coming when it arrives.
    for (const slot of [...window, ...lent]) take(slot);
    await Promise.allSettled(window.map((s) => s.pulled));
    for (const slot of window) take(slot);
    await it.return?.(undefined);
  }
}
