// The tests' prefix clean-up is the project's one (dev/redis.ts), shared with
// `npm run demo` and the benches.
export * from '../../dev/redis.js';
