// Parsing and mapping off the event loop: a small pool of worker threads
// (piscina) running mapping.ts, sized to the cores, so that a big or hostile
// mail never stalls IDLE watches, the API, or other mailboxes' syncs, and a
// backlog uses the machine's cores. The worker loads the built .js next to
// this file, or the .ts source through tsx when Mailroom runs from source.
// The same threads sanitize the content of API-posted conversations
// (conversations/content.ts), so a big POST does not stall the API either.
// The attachment jobs' policy runs here too (a nested archive is inflated
// within a time budget of seconds: on the event loop it stalled every watch).
// Those side jobs — content and attachment verdicts — hold at most threads - 1
// of the threads at once, so a busy API client or a queue of attachments never
// puts the mail of every mailbox behind it. A pool of one thread (the default
// on two cores) shares it: mail then waits behind at most the side job in hand
// (an archive's verdict has a budget of seconds; most take milliseconds).
import { Piscina } from 'piscina';
import { defaultParseThreads } from '../config/config.js';
import type { AttachmentJudge } from '../attachments/processor.js';
import type { Judgement, JudgeRequest } from '../attachments/policy.js';
import type { ContentJob, ContentPreparer, PreparedContent } from '../conversations/content.js';
import { revive, type Mapper, type MapRequest, type MapResponse } from './mapping.js';

export class MapPool implements Mapper, ContentPreparer, AttachmentJudge {
  private readonly pool: Piscina;
  /** Side jobs (API content, attachment verdicts) running at once, and the ones waiting for a slot. */
  private readonly sideSlots: number;
  private sideRunning = 0;
  private readonly sideWaiting: (() => void)[] = [];

  constructor(threads = defaultParseThreads()) {
    this.sideSlots = Math.max(1, threads - 1);
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
    return this.side(() => this.pool.run(job, { name: 'prepare' }) as Promise<PreparedContent>);
  }

  async judge(req: JudgeRequest, opts: { keep: boolean }): Promise<Judgement> {
    const { bytes } = req;
    // Handed over without a copy when they are not needed here any more and own their memory
    // (a Buffer from Node's pool shares its ArrayBuffer with others: that one is copied).
    const own = !opts.keep && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    return this.side(() => this.pool.run(req, { name: 'judge', ...(own ? { transferList: [bytes.buffer as ArrayBuffer] } : {}) }) as Promise<Judgement>);
  }

  private async side<T>(run: () => Promise<T>): Promise<T> {
    if (this.sideRunning >= this.sideSlots) await new Promise<void>((resolve) => this.sideWaiting.push(resolve));
    else this.sideRunning++;
    try {
      return await run();
    } finally {
      // The slot passes straight to the next waiter (the count stays), or is given back.
      const next = this.sideWaiting.shift();
      if (next) next();
      else this.sideRunning--;
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
