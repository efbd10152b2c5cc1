// The response wrap of every API answer (PRODUCT.md "HTTP API",
// DTO_response_wrap): `{data, errors, meta}`, and the one error handler that
// turns anything thrown into it — MailroomError (with per-field problems,
// which is also what the kit's validator throws), zod, Fastify's own 4xx —
// so no route formats errors itself.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { ERRORS, MailroomError, type ErrorCode } from '../../errors.js';
import type { PageMeta } from './paging.js';

/** A code of the registry, or one of Fastify's own (`FST_ERR_…`) passed through as Fastify names it. */
export type WireCode = ErrorCode | `FST_${string}`;

export interface WrapError {
  code: WireCode;
  message: string;
  field?: string;
}

export function wrap<T>(req: FastifyRequest, data: T, page?: PageMeta) {
  return { data, errors: [] as WrapError[], meta: { request_id: req.id, ...page } };
}

export function sendErrors(req: FastifyRequest, reply: FastifyReply, status: number, errors: WrapError[]) {
  return reply.code(status).send({ data: null, errors, meta: { request_id: req.id } });
}

/** A zod path (or a JSON pointer's parts) → `conversations[0].type`. */
export function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number' || /^\d+$/.test(String(part))) out += `[${String(part)}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route's body is called in field names (the seed's `conversations`); absent: `body`. */
    bodyName?: string;
  }
}

function bodyName(req: FastifyRequest): string {
  return req.routeOptions.config.bodyName ?? '';
}

/** Fastify's own error code, if it is one (FST_ERR_…); anything else is BAD_REQUEST. */
function fastifyCode(code: string | undefined): WireCode {
  return code?.startsWith('FST_') ? (code as `FST_${string}`) : 'BAD_REQUEST';
}

function mailroomErrors(err: MailroomError): WrapError[] {
  // Our own 500/503 messages may name internals (a blob key, a row id, a driver's words): the client gets the
  // registry's sentence and the log the rest. 502s say what the admin's mail server did, which is theirs to know.
  const message = err.status === 500 || err.status === 503 ? ERRORS[err.code].message : err.message;
  return err.fields.length > 0 ? err.fields.map((f) => ({ code: err.code, message: f.message, field: f.field })) : [{ code: err.code, message }];
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | MailroomError | ZodError, req, reply) => {
    if (err instanceof MailroomError) {
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      return sendErrors(req, reply, err.status, mailroomErrors(err));
    }
    if (err instanceof ZodError) {
      return sendErrors(req, reply, 400, err.issues.map((i) => ({ code: 'VALIDATION', message: `${fieldName(i.path) || 'body'} ${i.message}`, field: fieldName(i.path) })));
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return sendErrors(req, reply, 500, [{ code: 'INTERNAL', message: 'Internal error' }]);
    }
    // Fastify's own 4xx (malformed JSON, unsupported media type, body too large): about the body as a whole.
    if (status === 400) return sendErrors(req, reply, 400, [{ code: 'VALIDATION', message: err.message, field: bodyName(req) || 'body' }]);
    return sendErrors(req, reply, status, [{ code: fastifyCode(err.code), message: err.message }]);
  });
  app.setNotFoundHandler((req, reply) => sendErrors(req, reply, 404, [{ code: 'NOT_FOUND', message: `No route ${req.method} ${req.url.split('?')[0]}` }]));
}
