import pg from 'pg';
import { createPrisma } from '../src/db/prisma.js';
const url = 'postgresql://postgres@127.0.0.1:5432/postgres';
const db = createPrisma(url);
const pool = new pg.Pool({ connectionString: url, max: 10 });
const client = new pg.Client({ connectionString: url }); await client.connect();
const N = 1000;
async function time(name: string, f: () => Promise<unknown>) {
  for (let i = 0; i < 100; i++) await f();
  const c0 = process.cpuUsage(); const t = performance.now();
  for (let i = 0; i < N; i++) await f();
  const c = process.cpuUsage(c0);
  console.log(name.padEnd(40), ((performance.now() - t) / N * 1000).toFixed(0), 'µs wall', ((c.user + c.system) / N).toFixed(0), 'µs cpu');
}
for (let round = 0; round < 2; round++) {
await time('pg client SELECT $1', () => client.query('SELECT $1::int', [1]));
await time('pg pool SELECT $1', () => pool.query('SELECT $1::int', [1]));
await time('prisma queryRaw SELECT ${1}', () => db.$queryRaw`SELECT ${1}::int`);
await time('prisma itx 1 query', () => db.$transaction(async (tx) => tx.$queryRaw`SELECT ${1}::int`));
await time('prisma itx 3 queries', () => db.$transaction(async (tx) => { await tx.$queryRaw`SELECT ${1}::int`; await tx.$queryRaw`SELECT ${1}::int`; return tx.$queryRaw`SELECT ${1}::int`; }));
}
await db.$disconnect(); await pool.end(); await client.end();
