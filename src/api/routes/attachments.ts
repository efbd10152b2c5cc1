// GET /api/{tenant}/v1/attachments/{id}/download?expires=…&sig=… (PRODUCT.md
// "HTTP API"). No bearer token: the URL's signature is the credential, so it
// is checked first (403), before anything about the tenant or the row is
// looked up; then the row, scoped to the path's tenant (404), then its status
// (409 unless OK or WARNING). The bytes go out as a download that a browser
// will neither render nor sniff: the attachment is hostile until proven
// otherwise, and its name and type come from the sender. They are streamed
// from the blob store, never held whole in memory (attachments run to tens of
// MiB and downloads run concurrently).
import { once } from 'node:events';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isDownloadable, verifyDownload } from '../../attachments/signing.js';
import type { Db } from '../../db/prisma.js';
import { describeError, type ErrorCode } from '../../errors.js';
import type { BlobStore, OpenedBlob } from '../../storage/blob-store.js';
import { sendErrors } from '../kit/wrap.js';

export interface AttachmentRouteOptions {
  readonly db: Db;
  readonly blobs: BlobStore;
  /** MAILROOM_SECRET_KEY, as config.secretKey. */
  readonly secretKey: Buffer;
  /** Tests: the clock the expiry is checked against. */
  readonly now?: () => Date;
}

export const DOWNLOAD_ROUTE = '/api/:tenant/v1/attachments/:id/download';

const MAX_INT4 = 2_147_483_647;
// A token/token MIME type; anything else (it came from a sniffer, but it ends up in a header) is served as bytes.
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

interface DownloadRequest {
  Params: { tenant: string; id: string };
  Querystring: { expires?: unknown; sig?: unknown };
}

export const attachmentRoutes: FastifyPluginAsync<AttachmentRouteOptions> = async (app, opts) => {
  // HEAD is declared, not left to Fastify's automatic one, which would read the whole blob only to discard it.
  app.route<DownloadRequest>({
    method: ['GET', 'HEAD'],
    url: DOWNLOAD_ROUTE,
    handler: async (req, reply) => {
      const { tenant } = req.params;
      const id = /^[1-9]\d{0,9}$/.test(req.params.id) ? Number(req.params.id) : 0;
      // No link Mailroom signs has such an id: the link itself is not valid (403, like a bad signature).
      if (id === 0 || id > MAX_INT4) return fail(req, reply, 403, 'FORBIDDEN', 'The download link is not valid.');

      const check = verifyDownload(opts.secretKey, tenant, id, req.query.expires, req.query.sig, opts.now?.() ?? new Date());
      if (check !== 'ok') {
        return fail(req, reply, 403, 'FORBIDDEN', check === 'expired' ? 'The download link has expired.' : 'The download link is not valid.');
      }

      const row = await opts.db.attachment.findFirst({
        where: { id, tenant: { slug: tenant } },
        select: { filename: true, detected_type: true, storage_key: true, status: true },
      });
      if (!row) return fail(req, reply, 404, 'NOT_FOUND', 'No such attachment.');
      if (!isDownloadable(row.status)) {
        return fail(req, reply, 409, 'CONFLICT', `The attachment cannot be downloaded: its status is ${row.status}.`);
      }

      // Opened, and for GET its first bytes read, before any header goes out: a missing or unreadable blob, or
      // one that fails straight away (a small blob failing its hash check fails before its only chunk), still
      // gets its JSON answer. The listener goes on as open() resolves, before the stream has read anything,
      // so it cannot miss the event.
      let blob: OpenedBlob | undefined;
      try {
        blob = await opts.blobs.open(row.storage_key);
        if (req.method !== 'HEAD') await once(blob.stream, 'readable');
      } catch (err) {
        blob?.stream.destroy();
        req.log.error({ err: describeError(err), attachmentId: id }, 'attachment bytes cannot be read');
        return fail(req, reply, 503, 'STORAGE_FAILED', 'The attachment cannot be read right now.');
      }
      const type = row.detected_type && MIME_TYPE.test(row.detected_type) ? row.detected_type : 'application/octet-stream';
      reply
        .code(200)
        .header('Content-Type', type)
        .header('Content-Length', blob.size)
        .header('Content-Disposition', contentDisposition(row.filename))
        .header('X-Content-Type-Options', 'nosniff')
        // Should a browser display it anyway (e.g. opened from the downloads list in a tab), no script runs and no origin is shared.
        .header('Content-Security-Policy', 'sandbox')
        .header('Cache-Control', 'private, max-age=3600');
      if (req.method === 'HEAD') {
        blob.stream.destroy();
        return reply.send();
      }
      // Once the first bytes are out, a failing read cannot become an error answer: Fastify destroys the
      // response (the client sees it cut short of Content-Length) and the failure is logged here.
      blob.stream.on('error', (err) => {
        req.log.error({ err: describeError(err), attachmentId: id }, 'attachment download broke off');
      });
      return reply.send(blob.stream);
    },
  });
};

/** The response wrap (DTO_response_wrap) with one error, as every API error is answered. */
function fail(req: FastifyRequest, reply: FastifyReply, status: number, code: ErrorCode, message: string) {
  return sendErrors(req, reply, status, [{ code, message }]);
}

/**
 * RFC 6266: an ASCII `filename` for old clients and the exact name as RFC 5987
 * `filename*`. The fallback drops accents and replaces anything that could
 * end the quoted string or the header (quotes, backslashes, controls).
 */
export function contentDisposition(filename: string): string {
  // A lone surrogate would make encodeURIComponent throw.
  const name = filename.trim().replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD') || 'attachment';
  const ascii = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
