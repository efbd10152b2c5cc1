// Parsing and mapping off the event loop: a small pool of worker threads
// (piscina) running mapping.ts, sized to the cores, so that a big or hostile
// mail never stalls IDLE watches, the API, or other mailboxes' syncs, and a
// backlog uses the machine's cores. The worker loads the built .js next to
// this file, or the .ts source through tsx when Mailroom runs from source.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { revive, type Mapper, type MapRequest, type MapResponse } from './mapping.js';

export class MapPool implements Mapper {
  private readonly pool: Piscina;

  constructor(threads = Math.max(1, Math.min(4, availableParallelism()))) {
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

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
