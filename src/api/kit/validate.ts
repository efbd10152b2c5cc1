// The one validator of the API: zod, run by Fastify's validatorCompiler
// (installed on the app by buildApp, so every route gets it). A route declares
// its params, querystring and headers as zod schemas in `schema`; a bad part
// is a VALIDATION error naming each field (`page_size`, `ticket_id`), every
// one of them, not only the first. The OpenAPI document gets JSON Schema made
// from the same zod schemas (see schemas.ts, `openapiTransform`).
//
// A body may instead be plain JSON Schema: it then only documents the body,
// which the service validates (the one place that knows a conversation or a
// mailbox, shared with the CLI). Params, querystring and headers must be zod:
// a JSON Schema there would validate nothing, so buildApp refuses to start.
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import { ZodType } from 'zod';
import { MailroomError } from '../../errors.js';
import { fieldName } from './wrap.js';
import { installInputStringRule } from './input-strings.js';

export function isZod(schema: unknown): schema is ZodType {
  return schema instanceof ZodType;
}

/** Runs the route part's zod schema; the parsed (coerced, defaulted) value replaces the part. */
export const zodCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart, method, url }) => {
  const part = httpPart ?? 'request';
  if (!isZod(schema)) {
    if (part === 'body') return (data: unknown) => ({ value: data });
    throw new Error(`${method} ${url}: the ${part} schema must be a zod schema (src/api/kit/validate.ts)`);
  }
  return (data: unknown) => {
    // Fastify hands params and querystring as objects; a body is what was sent (absent: undefined).
    const result = schema.safeParse(part === 'body' ? data : (data ?? {}));
    if (result.success) return { value: result.data };
    const fields = result.error.issues.map((issue) => {
      const field = fieldName(issue.path) || part;
      return { field, message: `${field} ${issue.message}` };
    });
    return { error: new MailroomError('VALIDATION', fields.map((f) => f.message).join('; '), { fields }) };
  };
};

export function installValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(zodCompiler);
  // Before any route's own check: no NUL or lone surrogate in any string or key (input-strings.ts).
  installInputStringRule(app);
}
