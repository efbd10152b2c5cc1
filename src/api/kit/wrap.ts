// The response wrap of every API answer (PRODUCT.md "HTTP API",
// DTO_response_wrap): `{data, errors, meta}`, and the one error handler that
// turns anything thrown into it — MailroomError (with per-field problems),
// Fastify schema validation, zod — so no route formats errors itself.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { ERRORS, MailroomError } from '../errors.js';

export interface WrapError {
  code: string;
  message: string;
  field?: string;
}

export interface PageMeta {
  page: number;
  page_size: number;
  total: number;
}

export function wrap<T>(req: FastifyRequest, data: T, page?: PageMeta) {
  return { data, errors: [] as WrapError[], meta: { request_id: req.id, ...page } };
}

export function sendErrors(req: FastifyRequest, reply: FastifyReply, status: number, errors: WrapError[]) {
  return reply.code(status).send({ data: null, errors, meta: { request_id: req.id } });
}

/** `/conversations/0/type` (JSON pointer) or a zod path → `conversations[0].type`. */
export function fieldName(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number' || /^\d+$/.test(String(part))) out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function validationErrors(err: FastifyError, root: string): WrapError[] {
  return (err.validation ?? []).map((v) => {
    const path = v.instancePath.split('/').filter((p) => p !== '');
    const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
    if (missing) path.push(missing);
    const field = fieldName([...(root ? [root] : []), ...path]) || root;
    return { code: 'VALIDATION', message: `${field} ${v.message ?? 'is invalid'}`, field };
  });
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

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | MailroomError | ZodError, req, reply) => {
    if (err instanceof MailroomError) {
      // Our own 500/503 messages may name internals (a blob key, a row id, a driver's words): the client gets the
      // registry's sentence and the log the rest. 502s say what the admin's mail server did, which is theirs to know.
      const message = err.status === 500 || err.status === 503 ? ERRORS[err.code].message : err.message;
      const errors = err.fields.length > 0 ? err.fields.map((f) => ({ code: err.code, message: f.message, field: f.field })) : [{ code: err.code, message }];
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      return sendErrors(req, reply, err.status, errors);
    }
    if (err instanceof ZodError) {
      return sendErrors(req, reply, 400, err.issues.map((i) => ({ code: 'VALIDATION', message: `${fieldName(i.path as (string | number)[]) || 'body'} ${i.message}`, field: fieldName(i.path as (string | number)[]) })));
    }
    if (err.validation) {
      // Fastify names the part (body, params, querystring); the seed's body is the `conversations` array.
      // Query and path fields are named as they are; a body that is wrong as a whole is named `body`.
      const context = err.validationContext ?? '';
      const root = context === 'body' ? bodyName(req) : '';
      return sendErrors(req, reply, 400, validationErrors(err, root).map((e) => (e.field === '' ? { ...e, field: 'body', message: `body ${e.message.trim()}` } : e)));
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return sendErrors(req, reply, 500, [{ code: 'INTERNAL', message: 'Internal error' }]);
    }
    // Fastify's own 4xx (malformed JSON, unsupported media type, body too large): about the body as a whole.
    if (status === 400) return sendErrors(req, reply, 400, [{ code: 'VALIDATION', message: err.message, field: bodyName(req) || 'body' }]);
    return sendErrors(req, reply, status, [{ code: err.code ?? 'BAD_REQUEST', message: err.message }]);
  });
  app.setNotFoundHandler((req, reply) => sendErrors(req, reply, 404, [{ code: 'NOT_FOUND', message: `No route ${req.method} ${req.url.split('?')[0]}` }]));
}
