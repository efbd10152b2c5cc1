// GET / is a static landing page: links to the rest, a strict CSP, no script.
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { landingRoutes } from '../../../src/api/routes/landing.js';

const app = Fastify();
await app.register(landingRoutes);
afterAll(() => app.close());

describe('GET /', () => {
  it('serves HTML linking the docs, the admin console, the queues, metrics and health', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    for (const href of ['/docs', '/admin', '/admin/queues', '/metrics', '/healthz']) expect(res.body).toContain(`href="${href}"`);
    expect(res.body).toMatch(/ticket conversations/);
  });

  it('has a strict CSP: nothing but its own stylesheet by hash, no script of any kind', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src|unsafe-inline|unsafe-eval|\*/);
    expect(res.body).not.toMatch(/<script|\son[a-z]+=|javascript:/i);
    // The one inline style is the one the policy's hash allows.
    const css = /<style>([\s\S]*?)<\/style>/.exec(res.body)?.[1] ?? '';
    expect(csp).toContain(`'sha256-${createHash('sha256').update(css).digest('base64')}'`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});
