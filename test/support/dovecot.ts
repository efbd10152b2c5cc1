// The tests' throw-away Dovecot is the project's one launcher (dev/dovecot.ts),
// shared with `npm run demo`, the benches and the drills.
export * from '../../dev/dovecot.js';
