// --password-env VAR (and --refresh-token-env): the variable's value is the secret.
// A secret typed after the flag by mistake must not come back in the error.
import { describe, expect, it } from 'vitest';
import { readSecretFromEnv } from '../../../src/cli/mailbox-input.js';
import type { MailboxCommandDeps } from '../../../src/cli/mailbox-input.js';

const deps = (env: Record<string, string>) => ({ env }) as unknown as MailboxCommandDeps;

describe('readSecretFromEnv', () => {
  it('reads the named variable', () => {
    expect(readSecretFromEnv(deps({ MBX_PW: 's3cret' }), '--password-env', 'MBX_PW')).toBe('s3cret');
  });

  it('names an unset variable that looks like one', () => {
    expect(() => readSecretFromEnv(deps({}), '--password-env', 'UNSET_VAR')).toThrow(/UNSET_VAR is not set/);
  });

  it('does not echo a value that is not a variable name (the password itself, given by mistake)', () => {
    for (const mistake of ['hunter2!', 'Tr0ub4dor&3', 'correct horse battery staple', 'p@ss\u001b[2J']) {
      let message = '';
      try {
        readSecretFromEnv(deps({}), '--password-env', mistake);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain('the environment variable named by --password-env is not set');
      expect(message).not.toContain(mistake);
    }
  });
});
