// `npm run demo`: Mailroom doing its whole job in one command, for a first look.
// It creates and migrates its own database (mailroom_demo, unless DATABASE_URL
// is set), makes a `demo` tenant with USER and ADMIN tokens (a tenant left by an
// earlier run is removed first, so every run starts the same), starts a
// throw-away Dovecot (dev/dovecot.ts, the tests' launcher) or uses
// MAILROOM_DEMO_IMAP_URL, appends the sample mails of demo/mail/, adds the
// mailbox, runs `mailroom start` as a child process, and prints a summary once
// every mail has an ingest record and no attachment is UNAVAILABLE. Ctrl-C
// stops what it started. Its blobs, log and queue prefix are its own too, so a
// developer's Mailroom data is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadDotenv, PROJECT_ROOT } from '../src/config/dotenv.js';
import { loadConfig, redactUrl } from '../src/config/config.js';
import { databaseNameOf } from '../src/db/create-database.js';
import { migrate } from '../src/db/migrate.js';
import { describeError } from '../src/errors.js';
import { createLogger } from '../src/logging/logger.js';
import { addMailbox } from '../src/mailboxes/service.js';
import { preflight } from '../src/main/preflight.js';
import { createServices } from '../src/main/services.js';
import { createTenant } from '../src/tenants/service.js';
import { createToken } from '../src/tokens/service.js';
import { createDovecot, destroyDovecot, DEFAULT_PASSWORD, DovecotMissingError, freePort, portOpen } from '../dev/dovecot.js';
import { deleteRedisPrefix } from '../dev/redis.js';
import { appendSampleMails, parseImapUrl, readSampleMails, type DemoImap } from './mailbox.js';
import { summaryLines, type DemoResult } from './summary.js';

const USAGE = `Usage: npm run demo [-- --exit-after-summary] [-- --port N] [-- --data-dir DIR]

Starts Mailroom with a throw-away IMAP server (Dovecot) and sample mail, and
prints what became of each mail, API tokens and URLs. Ctrl-C stops it.

  --exit-after-summary  stop everything after the summary (scripts, tests)
  --port N              HTTP port (default 3000, or a free one when 3000 is taken)
  --data-dir DIR        blobs and the log (default data/demo in the Mailroom folder)
  --timeout-seconds N   how long ingestion may take before the demo gives up (default 180)

Environment: DATABASE_URL (default: the mailroom_demo database on the server of
the usual DATABASE_URL, created when absent), REDIS_URL,
MAILROOM_DEMO_IMAP_URL=imaps://USER:PASSWORD@HOST/FOLDER to use a mailbox of
yours instead of Dovecot (the sample mails are appended to it).`;

const TENANT = 'demo';
const DEMO_ADDRESS = 'support@demo.example';
const TSX_LOADER = import.meta.resolve('tsx');
const CLI = path.join(PROJECT_ROOT, 'src/main/cli.ts');

const say = (line: string) => process.stdout.write(line + '\n');
const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch((err: unknown) => process.stderr.write(`demo: while stopping: ${describeError(err)}\n`));
}

/** The exit code, or null: keep running until a signal. */
async function main(): Promise<number | null> {
  const { values } = parseArgs({
    options: {
      'exit-after-summary': { type: 'boolean' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'timeout-seconds': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    say(USAGE);
    return 0;
  }
  const dataDir = path.resolve(values['data-dir'] ?? path.join(PROJECT_ROOT, 'data/demo'));
  mkdirSync(dataDir, { recursive: true });

  // The database: DATABASE_URL as given, else the demo's own database on the usual server.
  const given = process.env.DATABASE_URL;
  const dotenv = loadDotenv();
  if (dotenv.generatedSecretKey) say(`Generated a development MAILROOM_SECRET_KEY into ${dotenv.file}.`);
  const databaseUrl = given ?? withDatabase(loadConfig().databaseUrl, 'mailroom_demo');
  const dbName = databaseNameOf(databaseUrl);
  const port = values.port !== undefined ? Number(values.port) : (await portOpen(3000)) ? await freePort() : 3000;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('--port must be a port number.');
  const baseUrl = `http://127.0.0.1:${port}`;
  const childEnvFile = path.join(dataDir, 'mailroom.env');
  writeFileSync(childEnvFile, '# The demo passes Mailroom its whole configuration in the environment.\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    MAILROOM_STORAGE_URL: `file://${path.join(dataDir, 'blobs')}`,
    MAILROOM_QUEUE_PREFIX: dbName === 'mailroom_demo' ? '{mailroom-demo}' : `{mailroom-demo-${dbName.replace(/[^A-Za-z0-9_-]/g, '')}}`,
    MAILROOM_PUBLIC_URL: baseUrl,
    MAILROOM_ENV_FILE: childEnvFile,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // The demo's IMAP server is on this machine: the connection policy must let Mailroom reach it.
    MAILROOM_ALLOW_PRIVATE_HOSTS: [process.env.MAILROOM_ALLOW_PRIVATE_HOSTS, '127.0.0.1', '::1', 'localhost'].filter(Boolean).join(','),
  };
  // The demo tenant's ADMIN token must open /admin/queues.
  delete env.MAILROOM_OPS_TENANT;
  Object.assign(process.env, env);
  delete process.env.MAILROOM_OPS_TENANT;
  const config = loadConfig(env);

  say(`Mailroom demo: database ${redactUrl(config.databaseUrl)}, Redis ${redactUrl(config.redisUrl)}, files in ${dataDir}.`);
  const migrated = await migrate(config.databaseUrl, { createDatabase: true, log: (m) => (m.startsWith('created database') ? say(`  ${m}`) : undefined) });
  if (migrated.applied.length) say(`  applied ${migrated.applied.length} migration(s)`);
  await preflight(config);
  await deleteRedisPrefix(config.redisUrl, config.queuePrefix);

  const services = createServices(config, { logger: createLogger({ level: 'warn' }), dbPoolMax: 2 });
  cleanups.push(() => services.close());
  const { db } = services;

  // The tenant: an earlier run's is removed with everything in it (tickets, mailboxes, tokens).
  await db.tenant.deleteMany({ where: { slug: TENANT } });
  const tenant = await createTenant(db, { slug: TENANT, name: 'Mailroom demo' });
  const user = await createToken(db, { tenantSlug: TENANT, role: 'USER', userEmail: 'agent@demo.example' });
  const admin = await createToken(db, { tenantSlug: TENANT, role: 'ADMIN', userEmail: 'admin@demo.example' });

  // The IMAP server and the sample mail.
  const mails = readSampleMails();
  let imap: DemoImap;
  let imapWhere: string;
  let since: Date;
  const external = process.env.MAILROOM_DEMO_IMAP_URL;
  if (external) {
    imap = parseImapUrl(external);
    imapWhere = `your server ${imap.host}:${imap.port}, folder ${imap.folder}`;
    // Only what the demo appends now (and whatever else arrives meanwhile), not the mailbox's history.
    since = new Date(Date.now() - 60_000);
    await appendSampleMails(imap, mails, { backdate: false });
  } else {
    let dovecot;
    try {
      dovecot = await createDovecot([DEMO_ADDRESS]);
    } catch (err) {
      if (err instanceof DovecotMissingError) {
        throw new Error(`${err.message} Or point the demo at a mailbox of yours: MAILROOM_DEMO_IMAP_URL=imaps://USER:PASSWORD@HOST/INBOX npm run demo.`);
      }
      throw err;
    }
    cleanups.push(() => destroyDovecot(dovecot));
    imap = { address: DEMO_ADDRESS, host: dovecot.host, port: dovecot.imapPort, tls: 'none', username: DEMO_ADDRESS, password: DEFAULT_PASSWORD, folder: 'INBOX' };
    imapWhere = `a throw-away Dovecot on ${dovecot.host}:${dovecot.imapPort}`;
    since = new Date(Math.min(...mails.map((m) => m.date.getTime())) - 24 * 3600_000);
    await appendSampleMails(imap, mails, { backdate: true });
  }
  say(`  appended ${mails.length} sample mails to ${imap.address} (${imapWhere})`);
  const mailbox = await addMailbox(db, config.secretKey, tenant.id, {
    address: imap.address,
    host: imap.host,
    port: imap.port,
    tls: imap.tls,
    username: imap.username,
    password: imap.password,
    folder: imap.folder,
    poll_seconds: 30,
    since: since.toISOString(),
  });

  // Mailroom itself, as `mailroom start` runs, its log in a file.
  const logFile = path.join(dataDir, 'mailroom.log');
  const child = startMailroom(env, logFile);
  cleanups.push(() => stopChild(child));
  say(`  started Mailroom on ${baseUrl} (log: ${logFile}); waiting for ingestion...`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));

  const deadlineMs = Number(values['timeout-seconds'] ?? 180) * 1000;
  const settled = async () => {
    if (gone) throw new Error(`Mailroom exited before ingestion settled; its log: ${logFile}\n${tail(logFile)}`);
    const [records, unavailable] = await Promise.all([
      db.ingestRecord.count({ where: { mailbox_id: mailbox.id } }),
      db.attachment.count({ where: { tenant_id: tenant.id, status: 'UNAVAILABLE' } }),
    ]);
    return records >= mails.length && unavailable === 0;
  };
  const deadline = Date.now() + deadlineMs;
  while (!(await settled())) {
    if (Date.now() > deadline) {
      const m = await db.mailbox.findUnique({ where: { id: mailbox.id } });
      throw new Error(`Ingestion did not settle within ${deadlineMs / 1000} s (mailbox state ${m?.state ?? '?'}${m?.last_error ? `, last error: ${m.last_error}` : ''}); Mailroom's log: ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }

  const result = await collect(services.db, {
    baseUrl,
    tenant: TENANT,
    tenantId: tenant.id,
    userToken: user.token,
    adminToken: admin.token,
    mailboxId: mailbox.id,
    mailboxAddress: imap.address,
    imapWhere,
    logFile,
    stops: values['exit-after-summary'] ? 'Stopping now (--exit-after-summary).' : `Ctrl-C stops Mailroom${external ? '' : ' and the demo Dovecot'}.`,
  });
  for (const line of summaryLines(result)) say(line);
  if (values['exit-after-summary']) return 0;
  // Running until Ctrl-C (the signal handler below stops everything), or until Mailroom ends by itself.
  void exited.then(() => {
    if (stopping) return;
    process.stderr.write(`demo: Mailroom stopped on its own; its log: ${logFile}\n`);
    stopAndExit(1);
  });
  return null;
}

/** The same server and credentials, another database. */
function withDatabase(databaseUrl: string, name: string): string {
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

function startMailroom(env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const log = openSync(logFile, 'w');
  // node with tsx's loader (no build needed after `npm ci`), one process: a signal reaches Mailroom itself.
  return spawn(process.execPath, ['--import', TSX_LOADER, CLI, 'start'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', log, log] });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function collect(
  db: ReturnType<typeof createServices>['db'],
  r: Omit<DemoResult, 'records' | 'tickets' | 'conversations' | 'attachments'> & { tenantId: number },
): Promise<DemoResult> {
  const [records, tickets, conversations, attachments] = await Promise.all([
    db.ingestRecord.findMany({ where: { mailbox_id: r.mailboxId }, orderBy: [{ received_at: 'asc' }, { id: 'asc' }] }),
    db.ticket.count({ where: { tenant_id: r.tenantId } }),
    db.conversation.count({ where: { tenant_id: r.tenantId } }),
    db.attachment.findMany({ where: { tenant_id: r.tenantId }, orderBy: { id: 'asc' } }),
  ]);
  const { tenantId: _tenantId, ...rest } = r;
  return {
    ...rest,
    records: records.map((x) => ({
      subject: x.subject,
      from: x.from,
      outcome: x.outcome,
      classification: x.classification,
      thread_reason: x.thread_reason,
      ticket_id: x.ticket_id,
      warnings: x.warnings,
      error_message: x.error_message,
    })),
    tickets,
    conversations,
    attachments: attachments.map((a) => ({ filename: a.filename, status: a.status, status_message: a.status_message })),
  };
}

// Ctrl-C (or SIGTERM), at any point: stop what was started, then go.
let stopping = false;
function stopAndExit(code: number): void {
  if (stopping) return;
  stopping = true;
  void cleanUp().then(() => process.exit(code));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    say('Stopping...');
    stopAndExit(0);
  });
}

main().then(
  (code) => (code === null ? undefined : stopAndExit(code)),
  (err: unknown) => {
    process.stderr.write(`demo: ${describeError(err)}\n`);
    stopAndExit(1);
  },
);
