// parseAndMap, the step mapping.ts describes: parse with the mail core, then
// mapMail. Run in the pool's worker threads (map-worker.ts), or in this thread
// through ingest.ts's in-thread mapper, which imports this file on first use.
// The placeholders it puts in are the ones withAttachmentIds (mapping.ts) takes out.
import { mapMail } from '../conversations/from-mail.js';
import { describeError, isMailroomError } from '../errors.js';
import { MailLimitError, parseMail } from '../mail/parse.js';
import type { AttachmentSink } from '../mail/types.js';
import type { MapRequest, MapResponse } from './mapping.js';

const placeholderId = (token: string, i: number) => `mrcid-${token}-${i}`;

/** With a sink, large attachments are stored while parsing (parseMail); its failure rejects, it is no verdict on the mail. */
export async function parseAndMap(req: MapRequest, sink?: AttachmentSink): Promise<MapResponse> {
  let mail;
  try {
    mail = await parseMail(req.raw, req.limits, sink ?? null);
  } catch (err) {
    if (isMailroomError(err, 'STORAGE_FAILED')) throw err;
    const error = isMailroomError(err) ? { code: err.code, message: err.message } : { code: 'MAIL_UNPARSEABLE' as const, message: `The message cannot be parsed: ${describeError(err)}` };
    return { ok: false, error, header: err instanceof MailLimitError ? err.header : null };
  }
  const cidUrls = new Map<string, string>();
  mail.attachments.forEach((a, i) => {
    if (a.contentId !== null) cidUrls.set(a.contentId, req.attachmentUrl.replace('{id}', placeholderId(req.token, i)));
  });
  const mapped = mapMail(mail, { mailbox: req.mailbox, ownAddresses: req.ownAddresses, receivedAt: req.receivedAt, now: req.now, cidUrls });
  return { ok: true, mapped };
}
