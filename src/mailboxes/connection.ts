// The connection test as an admin runs it, in one place for every caller (the
// API's mailbox routes, the admin console): test a stored mailbox, test
// settings before they are stored, and add a mailbox only after its test
// passed. Whatever a test must respect (the secret keys, a connection policy)
// is decided here once, so no caller can test with less.
import type { Config } from '../config/config.js';
import type { PrismaClient } from '../db/prisma.js';
import type { ConnectionPolicy } from '../net/policy.js';
import { MailroomError } from '../errors.js';
import { sourceFor } from '../sources/registry.js';
import { encryptSecret } from '../crypto/secrets.js';
import { addMailbox, getMailboxRow, updateMailbox, type Scope, type StoreOverrides } from './service.js';
import type { ConnectionTestResult, MailboxConnectionRow, MailboxView } from './types.js';

export interface ConnectionTestDeps {
  db: PrismaClient;
  /** MAILROOM_SECRET_KEY: encrypts new secrets, decrypts stored ones for the test. */
  secretKey: Buffer;
  /** The connection policy (MAILROOM_ALLOW_PRIVATE_HOSTS): checked on the settings and on every connect of a test. */
  policy: ConnectionPolicy;
}

/** The deps of every admin's connection test, from the process's config. */
export function connectionTestDeps(db: PrismaClient, config: Pick<Config, 'secretKey' | 'connectionPolicy'>): ConnectionTestDeps {
  return { db, secretKey: config.secretKey, policy: config.connectionPolicy };
}

export type FailedTest = Extract<ConnectionTestResult, { ok: false }>;
export type PassedTest = Extract<ConnectionTestResult, { ok: true }>;

/**
 * Tests settings (a stored row, or the fields of one about to be stored).
 * `onSecretRotated`: where a secret the test rotated goes (see SourceTestContext).
 */
export function testSettings(
  deps: Pick<ConnectionTestDeps, 'secretKey' | 'policy'>,
  row: MailboxConnectionRow & { source: string },
  onSecretRotated?: (secret: string) => Promise<void>,
): Promise<ConnectionTestResult> {
  return sourceFor(row.source).test(row, { secretKeys: [deps.secretKey], policy: deps.policy, ...(onSecretRotated ? { onSecretRotated } : {}) });
}

/**
 * Tests a stored mailbox of the scope (NOT_FOUND otherwise). A secret the test
 * rotated replaces the stored one, unless the stored one changed meanwhile.
 */
export async function testStoredMailbox(deps: ConnectionTestDeps, id: number, scope: Scope): Promise<ConnectionTestResult> {
  const row = await getMailboxRow(deps.db, id, scope);
  return testSettings(deps, row, (secret) => keepRotated(deps, row, secret));
}

/**
 * Stores a secret the test of `tested` rotated, on the stored mailbox whose
 * secret `tested` carries, whatever the test's outcome: the provider may have
 * retired the stored one already. Compare-and-set: a secret stored meanwhile,
 * or a tested one that is not the stored one (an edit giving a new token), is
 * left alone.
 */
async function keepRotated(deps: ConnectionTestDeps, tested: { id?: number; secret_encrypted: string }, secret: string): Promise<void> {
  if (tested.id === undefined) return;
  await deps.db.mailbox.updateMany({ where: { id: tested.id, auth: 'oauth2', secret_encrypted: tested.secret_encrypted }, data: { secret_encrypted: encryptSecret(secret, deps.secretKey) } });
}

type Tested = { mailbox: MailboxView; tested: PassedTest['details'] | null } | { failed: FailedTest };

/**
 * Runs a store (add or update) whose `beforeStore` tests the settings when
 * `test` is true: a failed test aborts the store and is answered as
 * `{ failed }`; a passed one's details come back with the mailbox.
 */
async function storeTested(
  deps: ConnectionTestDeps,
  test: boolean,
  store: (beforeStore: (row: MailboxConnectionRow & { source: string }) => Promise<StoreOverrides | undefined>) => Promise<MailboxView>,
): Promise<Tested> {
  let failed: FailedTest | undefined;
  let tested: PassedTest['details'] | null = null;
  try {
    const mailbox = await store(async (row) => {
      if (!test) return undefined;
      let rotated: string | undefined;
      const result = await testSettings(deps, row, async (secret) => {
        rotated = secret;
        // An edit's test of the stored token: kept even if the test or the edit fails after this.
        await keepRotated(deps, row, secret);
      });
      if (!result.ok) {
        failed = result;
        throw new MailroomError(result.code, result.message);
      }
      tested = result.details;
      // The refresh token the test was answered with is the one that works from now on: it is stored instead.
      return rotated === undefined ? undefined : { secret_encrypted: encryptSecret(rotated, deps.secretKey) };
    });
    return { mailbox, tested };
  } catch (err) {
    if (failed) return { failed };
    throw err;
  }
}

/**
 * Adds a mailbox, testing its connection first unless `test` is false. A
 * failed test stores nothing and is answered as `{ failed }`; invalid input
 * and a taken address throw as addMailbox does.
 */
export function addMailboxTested(deps: ConnectionTestDeps, tenantId: number, input: unknown, options: { test: boolean }): Promise<Tested> {
  return storeTested(deps, options.test, (beforeStore) => addMailbox(deps.db, deps.secretKey, tenantId, input, { policy: deps.policy, beforeStore }));
}

/**
 * Changes a mailbox (only the fields given), testing the connection first when
 * `test` is true and the change needs a new connection (server, account,
 * folder, credentials, CA). A failed test changes nothing and is answered as
 * `{ failed }`: the API's PATCH, `mailroom mailbox edit` and the console alike.
 */
export function updateMailboxTested(deps: ConnectionTestDeps, id: number, patch: unknown, scope: Scope, options: { test: boolean }): Promise<Tested> {
  return storeTested(deps, options.test, (beforeStore) => updateMailbox(deps.db, deps.secretKey, id, patch, scope, { policy: deps.policy, beforeStore }));
}

/**
 * Validates new settings and tests them without storing anything (the same
 * checks as an add, the address's uniqueness included): the console's "Test
 * connection" before "Add". A refresh token the endpoint rotated meanwhile has
 * nowhere to go: the add tests again, and stores what that test was given.
 */
export async function testNewMailbox(deps: ConnectionTestDeps, tenantId: number, input: unknown): Promise<ConnectionTestResult> {
  let result: ConnectionTestResult | undefined;
  const dryRun = new Error('dry run: nothing is stored');
  try {
    await addMailbox(deps.db, deps.secretKey, tenantId, input, {
      policy: deps.policy,
      beforeStore: async (fields) => {
        result = await testSettings(deps, fields);
        throw dryRun;
      },
    });
  } catch (err) {
    if (err !== dryRun) throw err;
  }
  if (!result) throw new Error('the connection test did not run');
  return result;
}
