// The one rule every string a client sends must pass, whatever route or field
// it reaches: no NUL character and no lone UTF-16 surrogate, in values and in
// object keys alike. PostgreSQL refuses NUL in text and cannot store a lone
// surrogate (it is not Unicode), so such a string would otherwise travel
// through validation and sanitizing to fail in the database as a 500. The
// check runs as a preValidation hook on the whole app (body, query and path
// parameters of every route), so no field has to remember it; the answer is
// a 400 naming each bad field. Malformed %-escapes in the URL never reach a
// route: see `badUrlHandler` (Fastify's frameworkErrors), answered in the wrap.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MailroomError, type FieldProblem } from '../../errors.js';
import { fieldName, sendErrors } from './wrap.js';

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a client string cannot be taken, or null. */
export function stringProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain a NUL character';
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode (it contains a lone surrogate)';
  return null;
}

/** A key shown in a field name: characters that cannot be printed as \uXXXX, so the answer never carries them raw. */
function printableKey(key: string): string {
  return key.replace(/[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const MAX_PROBLEMS = 20;
const MAX_DEPTH = 64;

/** Every bad string (value or key) in a parsed JSON value, form or query, as field problems (at most MAX_PROBLEMS). */
export function stringProblems(value: unknown, root: readonly PropertyKey[] = []): FieldProblem[] {
  const out: FieldProblem[] = [];
  const add = (path: readonly PropertyKey[], message: string) => {
    const field = fieldName(path) || 'body';
    out.push({ field, message: `${field} ${message}` });
  };
  const walk = (v: unknown, path: PropertyKey[], depth: number): void => {
    if (out.length >= MAX_PROBLEMS) return;
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      if (problem) add(path, problem);
      return;
    }
    if (v === null || typeof v !== 'object' || depth > MAX_DEPTH) return;
    if (v instanceof URLSearchParams) {
      for (const [k, item] of v) walk({ [k]: item }, path, depth + 1);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...path, i], depth + 1));
      return;
    }
    for (const [k, item] of Object.entries(v)) {
      const keyProblem = stringProblem(k);
      if (keyProblem) add([...path, printableKey(k)], `(a key) ${keyProblem}`);
      else walk(item, [...path, k], depth + 1);
      if (out.length >= MAX_PROBLEMS) return;
    }
  };
  walk(value, [...root], 0);
  return out;
}

/** Installs the rule on every route of the app: a 400 naming each bad field before any route's own validation. */
export function installInputStringRule(app: FastifyInstance): void {
  app.addHook('preValidation', async (req: FastifyRequest) => {
    const bodyRoot = req.routeOptions.config.bodyName;
    const problems = [...stringProblems(req.params), ...stringProblems(req.query), ...stringProblems(req.body, bodyRoot ? [bodyRoot] : [])];
    if (problems.length > 0) {
      throw new MailroomError('VALIDATION', problems.map((p) => p.message).join('; '), { fields: problems.slice(0, MAX_PROBLEMS) });
    }
  });
}

/**
 * Fastify's `frameworkErrors`: errors of routing, before any route runs, answered in the wrap like every
 * other error instead of Fastify's own shape: a path that does not decode (`/ticket_conversations/%ff`,
 * FST_ERR_BAD_URL) is a 400, a path segment over the router's length limit a 414. Neither echoes the path.
 */
export function badUrlHandler(error: Error & { code?: string; statusCode?: number }, req: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') {
    void sendErrors(req, reply, 400, [{ code: 'VALIDATION', message: 'The URL path is not valid: a %-escape in it does not decode to UTF-8 text.', field: 'path' }]);
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void sendErrors(req, reply, 414, [{ code: 'FST_ERR_MAX_PARAM_LENGTH', message: 'A segment of the URL path is too long.' }]);
  } else {
    req.log.error({ err: error }, 'request could not be routed');
    void sendErrors(req, reply, 500, [{ code: 'INTERNAL', message: 'Internal error' }]);
  }
}
