// The worker-thread side of map-pool.ts: parseAndMap on a request that came
// over postMessage (its Buffer arrives as a Uint8Array), `prepare`: the
// content of an API-posted conversation (conversations/content.ts), and
// `judge`: the attachment policy's verdict on an attachment's bytes.
export { prepareContent as prepare } from '../conversations/content.js';
import { judge as judgeAttachment, type JudgeRequest, type Judgement } from '../attachments/policy.js';
import type { MapRequest, MapResponse } from './mapping.js';
import { parseAndMap } from './parse-and-map.js';

const asBuffer = (bytes: Uint8Array) => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

export default function map(req: MapRequest): Promise<MapResponse> {
  return parseAndMap({ ...req, raw: asBuffer(req.raw as Uint8Array) });
}

export function judge(req: JudgeRequest): Promise<Judgement> {
  return judgeAttachment({ ...req, bytes: asBuffer(req.bytes) });
}
