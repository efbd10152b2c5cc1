// `mailroom mailbox edit ID [options]`: change any setting `mailbox add` takes,
// through the same service as the API's `PATCH mailboxes/{id}`
// (updateMailbox), so the CLI and the API cannot drift. Only the flags given
// change. A change that needs a new connection (server, account, folder,
// credentials, CA) is tested first unless --no-test; a failed test changes
// nothing. An earlier --since makes the worker re-read the folder and ingest
// the mail from that date (what is already stored is recognised).
import { connectionTestDeps, updateMailboxTested } from '../mailboxes/connection.js';
import { isResetCursor } from '../mailboxes/reset-cursor.js';
import { printable, type Out } from './io.js';
import { SETTING_OPTIONS, asUsageError, passed, readCaFile, readSecret, readSecretFromEnv, tlsMode, wholeNumber, parseSince, withDb, withId, type MailboxCommandDeps } from './mailbox-input.js';
import { usageError } from './usage.js';
import type { PrismaClient } from '../db/prisma.js';
import { ProgressReporter } from '../util/progress.js';

export const EDIT_OPTIONS = {
  ...SETTING_OPTIONS,
  'no-aliases': { type: 'boolean' },
  'no-ca': { type: 'boolean' },
  wait: { type: 'boolean' },
} as const;

/** The wire names of the fields a patch changes, for the summary line (secrets by name only). */
function changedFields(patch: Record<string, unknown>): string {
  return Object.keys(patch)
    .filter((k) => k !== 'auth')
    .map((k) => (k === 'tls_ca_pem' ? 'tls_ca' : k))
    .join(', ');
}

export async function editMailboxCommand(rest: string[], io: Out, deps: MailboxCommandDeps): Promise<number> {
  const { values: v, id } = withId(rest, EDIT_OPTIONS, 'edit');
  if (v.alias !== undefined && v['no-aliases']) throw usageError('Give --alias or --no-aliases, not both.');
  if (v['ca-file'] !== undefined && v['no-ca']) throw usageError('Give --ca-file or --no-ca, not both.');
  const given = await readSecret(deps, v, 'at most');
  const patch: Record<string, unknown> = {
    ...(v.address !== undefined ? { address: v.address } : {}),
    ...(v.alias !== undefined ? { aliases: v.alias } : v['no-aliases'] ? { aliases: [] } : {}),
    ...(v.host !== undefined ? { host: v.host } : {}),
    ...(v.port !== undefined ? { port: wholeNumber(v.port, '--port') } : {}),
    ...(tlsMode(v) !== undefined ? { tls: tlsMode(v) } : {}),
    ...(v.user !== undefined ? { username: v.user } : {}),
    // The kind of secret says the auth method: a password makes a password mailbox, a refresh token an OAuth2 one.
    ...(given?.source.startsWith('password') ? { auth: 'password', password: given.secret } : {}),
    ...(given?.source.startsWith('refresh-token') ? { auth: 'oauth2', refresh_token: given.secret } : {}),
    ...(v['oauth-token-url'] !== undefined ? { oauth_token_url: v['oauth-token-url'] } : {}),
    ...(v['oauth-client-id'] !== undefined ? { oauth_client_id: v['oauth-client-id'] } : {}),
    ...(v['oauth-client-secret-env'] !== undefined ? { oauth_client_secret: readSecretFromEnv(deps, '--oauth-client-secret-env', v['oauth-client-secret-env']) } : {}),
    ...(v['oauth-scope'] !== undefined ? { oauth_scope: v['oauth-scope'] } : {}),
    ...(v['ca-file'] !== undefined ? { tls_ca_pem: await readCaFile(v['ca-file']) } : v['no-ca'] ? { tls_ca_pem: null } : {}),
    ...(v.folder !== undefined ? { folder: v.folder } : {}),
    ...(v.after !== undefined ? { post_action: v.after } : {}),
    ...(v['poll-seconds'] !== undefined ? { poll_seconds: wholeNumber(v['poll-seconds'], '--poll-seconds') } : {}),
    ...(v.since !== undefined ? { since: parseSince(v.since) } : {}),
  };
  if (v.wait && patch.since === undefined) throw usageError('--wait goes with --since: it follows the backfill until the worker is through it.');
  if (Object.keys(patch).length === 0) throw usageError(`Nothing to change: give at least one setting (see "mailroom mailbox edit --help").`);

  return withDb(deps, async (db, config) => {
    let result: Awaited<ReturnType<typeof updateMailboxTested>>;
    try {
      result = await updateMailboxTested(connectionTestDeps(db, config), id, patch, {}, { test: !v['no-test'] });
    } catch (err) {
      throw asUsageError(err);
    }
    if ('failed' in result) {
      io.err(`mailroom: the connection test failed at the ${result.failed.stage} stage: ${printable(result.failed.message)}`);
      io.err('Nothing was changed; fix the settings, or add --no-test to store them untested.');
      return 1;
    }
    const view = result.mailbox;
    if (!v['no-test'] && result.tested) io.err(`Connection test passed: ${passed(result.tested)}`);
    io.out(`Changed mailbox ${view.id} (${printable(view.address)}): ${changedFields(patch)}; state ${view.state}.`);
    if (patch.since !== undefined && view.since !== null && view.uid_validity === null) {
      io.err(`The worker reads ${printable(view.folder)} again and ingests the mail received since ${view.since}; mail already ingested is recognised, nothing is doubled.`);
    }
    return v.wait ? followBackfill(db, id, io) : 0;
  });
}

/**
 * `--wait`: follows the backfill the change started (the backlog the sync writes, src/sync/backlog.ts)
 * until the worker is through it: count, rate and time left, one redrawn line on a terminal.
 * Exit 1 when the mailbox stops on an auth error or is disabled meanwhile.
 */
async function followBackfill(db: PrismaClient, id: number, io: Out, pollMs = 500): Promise<number> {
  io.err('Waiting for the worker (mailroom start or worker) to do the backfill; Ctrl-C stops the waiting, not the backfill.');
  let reporter: ProgressReporter | null = null;
  for (;;) {
    const m = await db.mailbox.findUnique({ where: { id }, select: { cursor: true, backlog: true, backlog_done: true, backlog_started_at: true, state: true, enabled: true, last_error: true } });
    if (!m || !m.enabled) {
      reporter?.finish();
      io.err(`mailroom: mailbox ${id} was ${m ? 'disabled' : 'removed'} before the backfill was done.`);
      return 1;
    }
    if (m.backlog !== null && m.backlog_started_at !== null) {
      const total = m.backlog + m.backlog_done;
      reporter ??= new ProgressReporter({ total, label: `backfill of mailbox ${id}:`, tty: io.errIsTTY === true, write: io.errWrite ?? ((t) => io.err(t.replace(/\n$/, ''))), startedAt: m.backlog_started_at.getTime() });
      reporter.update(m.backlog_done, total);
    }
    // The cursor is set again once a sync has read the folder; the backlog is cleared when that pass ends.
    if (m.cursor !== null && !isResetCursor(m.cursor) && m.backlog === null && m.state === 'idle') {
      if (reporter) {
        reporter.update(reporter.progress.total, reporter.progress.total);
        reporter.finish();
      }
      io.err(`The backfill of mailbox ${id} is done.`);
      return 0;
    }
    if (m.state === 'auth_error') {
      reporter?.finish();
      io.err(`mailroom: mailbox ${id} stopped on an auth error: ${m.last_error ?? 'the server refused the login'}.`);
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
