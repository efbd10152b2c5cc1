// The API kit's one validator (src/api/kit/validate.ts) on a bare Fastify app:
// every bad field of a zod part is named, a JSON Schema body only documents,
// and a JSON Schema on params or query refuses to start.
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { pageQuery } from '../../../src/api/kit/paging.js';
import { installValidation } from '../../../src/api/kit/validate.js';
import { installErrorHandler } from '../../../src/api/kit/wrap.js';

async function app(register: (a: FastifyInstance) => void) {
  const a = Fastify();
  installErrorHandler(a);
  installValidation(a);
  register(a);
  await a.ready();
  return a;
}

describe('kit validator', () => {
  it('names every bad query field and applies the page defaults', async () => {
    const a = await app((a) => a.get('/items', { schema: { querystring: pageQuery } }, async (req) => ({ query: req.query })));
    const bad = await a.inject({ url: '/items?page=0&page_size=201' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(['page', 'page_size']);
    expect((await a.inject({ url: '/items' })).json()).toEqual({ query: { page: 1, page_size: 50 } });
    await a.close();
  });

  it('validates a zod body, naming a body that is not an object `body`, and passes a JSON Schema body through', async () => {
    const a = await app((a) => {
      a.post('/zod', { schema: { body: z.object({ n: z.number() }, { error: 'must be object' }) } }, async (req) => req.body);
      a.post('/doc', { schema: { body: { type: 'object', properties: { n: { type: 'number' } } } } }, async (req) => ({ got: req.body }));
    });
    const list = await a.inject({ method: 'POST', url: '/zod', payload: [] });
    expect(list.json().errors).toEqual([{ code: 'VALIDATION', field: 'body', message: 'body must be object' }]);
    expect((await a.inject({ method: 'POST', url: '/zod', payload: { n: 'x' } })).json().errors[0].field).toBe('n');
    expect((await a.inject({ method: 'POST', url: '/doc', payload: { n: 'x' } })).json()).toEqual({ got: { n: 'x' } });
    await a.close();
  });

  it('refuses to start when params are JSON Schema, which would validate nothing', async () => {
    await expect(app((a) => a.get('/x/:id', { schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } } }, async () => 'x'))).rejects.toThrow(/params schema must be a zod schema/);
  });
});
