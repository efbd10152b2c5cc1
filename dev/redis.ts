// Removing every key under a BullMQ prefix: what a test run (global-setup.ts),
// a bench run or `npm run demo` leaves in the shared Redis, gone at its end.
// test/support/redis.ts re-exports it for the tests.
import { Redis } from 'ioredis';

export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
