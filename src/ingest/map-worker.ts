// The worker-thread side of map-pool.ts: parseAndMap on a request that came
// over postMessage (its Buffer arrives as a Uint8Array), and `prepare`: the
// content of an API-posted conversation (conversations/content.ts).
export { prepareContent as prepare } from '../conversations/content.js';
import type { MapRequest, MapResponse } from './mapping.js';
import { parseAndMap } from './parse-and-map.js';

export default function map(req: MapRequest): Promise<MapResponse> {
  const raw = req.raw as Uint8Array;
  return parseAndMap({ ...req, raw: Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) });
}
