// Parsing and mapping off the event loop: a small pool of worker threads
// (piscina) running mapping.ts, sized to the cores, so that a big or hostile
// mail never stalls IDLE watches, the API, or other mailboxes' syncs, and a
// backlog uses the machine's cores. The worker loads the built .js next to
// this file, or the .ts source through tsx when Mailroom runs from source.
// The same threads sanitize the content of API-posted conversations
// (conversations/content.ts), so a big POST does not stall the API either;
// those jobs hold at most threads - 1 of the threads at once (one when the
// pool has one), so a busy API client never queues the mail of every mailbox
// behind it.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { ContentJob, ContentPreparer, PreparedContent } from '../conversations/content.js';
import { revive, type Mapper, type MapRequest, type MapResponse } from './mapping.js';

export class MapPool implements Mapper, ContentPreparer {
  private readonly pool: Piscina;
  /** API content jobs running at once, and the ones waiting for a slot. */
  private readonly contentSlots: number;
  private contentRunning = 0;
  private readonly contentWaiting: (() => void)[] = [];

  constructor(threads = Math.max(1, Math.min(4, availableParallelism()))) {
    this.contentSlots = Math.max(1, threads - 1);
    const fromSource = import.meta.url.endsWith('.ts');
    this.pool = new Piscina({
      filename: new URL(fromSource ? './map-worker.ts' : './map-worker.js', import.meta.url).href,
      minThreads: 1,
      maxThreads: threads,
      // A worker thread does not inherit tsx's loader by itself.
      execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [],
      idleTimeout: 60_000,
    });
  }

  async map(req: MapRequest): Promise<MapResponse> {
    return revive((await this.pool.run(req)) as MapResponse);
  }

  async prepare(job: ContentJob): Promise<PreparedContent> {
    if (this.contentRunning >= this.contentSlots) await new Promise<void>((resolve) => this.contentWaiting.push(resolve));
    else this.contentRunning++;
    try {
      return (await this.pool.run(job, { name: 'prepare' })) as PreparedContent;
    } finally {
      // The slot passes straight to the next waiter (the count stays), or is given back.
      const next = this.contentWaiting.shift();
      if (next) next();
      else this.contentRunning--;
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
