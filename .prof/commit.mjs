import pg from 'pg';
const c = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' }); await c.connect();
await c.query('CREATE TABLE IF NOT EXISTS _mr_commit_probe (id serial primary key, v text)');
const N = 300;
for (const mode of ['autocommit insert', 'begin/insert/commit']) {
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    if (mode === 'autocommit insert') await c.query('INSERT INTO _mr_commit_probe (v) VALUES ($1)', ['x']);
    else { await c.query('BEGIN'); await c.query('INSERT INTO _mr_commit_probe (v) VALUES ($1)', ['x']); await c.query('COMMIT'); }
  }
  console.log(mode, ((performance.now() - t) / N * 1000).toFixed(0), 'µs per transaction');
}
const t = performance.now(); await c.query('BEGIN'); for (let i = 0; i < N; i++) await c.query('INSERT INTO _mr_commit_probe (v) VALUES ($1)', ['x']); await c.query('COMMIT');
console.log('one transaction of', N, 'inserts:', ((performance.now() - t) / N * 1000).toFixed(0), 'µs per insert');
await c.query('DROP TABLE _mr_commit_probe'); await c.end();
