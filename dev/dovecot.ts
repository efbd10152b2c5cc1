// A throw-away Dovecot IMAP server: its own base dir, maildir and users file, on
// free loopback ports, never the system's Dovecot. As root, Dovecot runs as an
// unprivileged user (imap-login refuses root). Used by the tests' global setup
// and tests (stop/start, users, folders; test/support/dovecot.ts re-exports
// this file), by `npm run demo`, and by the benches and drills.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';

const RUN_AS = process.env.MAILROOM_TEST_DOVECOT_USER ?? 'mailroom-dovecot';

export interface DovecotInfo {
  base: string;
  host: string;
  imapPort: number;
  imapsPort: number;
  certFile: string;
  usersFile: string;
  mailRoot: string;
  configFile: string;
  /** Unix user Dovecot runs as (null: the current user). */
  runAs: string | null;
  /** Start with the soft open-files limit raised to the hard one (runuser starts at 1,024). */
  raiseFdLimit?: boolean;
}

export const DEFAULT_PASSWORD = 'secret';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function asDovecotUser(info: DovecotInfo, cmd: string, args: string[]): [string, string[]] {
  return info.runAs ? ['runuser', ['-u', info.runAs, '--', cmd, ...args]] : [cmd, args];
}

export interface DovecotOptions {
  /**
   * Hold this many IMAP connections at once (the bench's idle part: one IDLE per
   * mailbox, and the syncs beside them). Unset: Dovecot's defaults, which refuse
   * well before 1,000 (imap-login at default_process_limit = 100 logins at once,
   * imap at 1,024 processes, anvil and auth at default_client_limit = 1,000).
   * Set, imap-login runs in high-performance mode (service_count = 0: a few
   * long-lived processes, each serving many logins) and every limit is raised
   * above `connections`; process titles then show each session's user and
   * command (verbose_proctitle), so a session parked in IDLE can be counted.
   */
  connections?: number;
}

/** The config lines that let Dovecot hold `connections` sessions (see DovecotOptions). */
export function scaleSettings(connections: number | undefined): { global: string; imapLogin: string; services: string } {
  if (connections === undefined) return { global: '', imapLogin: '', services: '' };
  // Headroom over the watches: syncs, the bench's own APPENDs, connections still closing.
  const n = Math.ceil(connections * 1.25) + 100;
  const global = `default_client_limit = ${n * 2}\ndefault_process_limit = ${n}\nverbose_proctitle = yes\n`;
  const imapLogin = `  service_count = 0\n  process_min_avail = ${Math.max(1, os.availableParallelism())}\n  process_limit = ${Math.max(4, os.availableParallelism() * 2)}\n  client_limit = ${n}\n`;
  const services = `service imap {\n  process_limit = ${n}\n}\n`;
  return { global, imapLogin, services };
}

/** What to run when Dovecot is missing (Debian/Ubuntu). */
export const DOVECOT_INSTALL = 'sudo apt-get install dovecot-imapd';

/** Dovecot is not installed: the message says the one command that installs it. */
export class DovecotMissingError extends Error {
  constructor() {
    super(`Dovecot is not installed: run \`${DOVECOT_INSTALL}\` (Mailroom starts its own throw-away instance; the system's stays off).`);
    this.name = 'DovecotMissingError';
  }
}

let binary: string | undefined;
/** The dovecot binary: on PATH, else /usr/sbin (not on a normal user's PATH on Debian). */
function dovecotBinary(): string {
  if (binary) return binary;
  for (const candidate of ['dovecot', '/usr/sbin/dovecot']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return (binary = candidate);
    } catch {
      // next
    }
  }
  throw new DovecotMissingError();
}

export async function createDovecot(users: string[] = ['support@example.test', 'sales@example.test'], options: DovecotOptions = {}): Promise<DovecotInfo> {
  dovecotBinary();
  const base = mkdtempSync(path.join(os.tmpdir(), 'mailroom-dovecot-'));
  const info: DovecotInfo = {
    base,
    host: '127.0.0.1',
    imapPort: await freePort(),
    imapsPort: await freePort(),
    certFile: path.join(base, 'ssl/cert.pem'),
    usersFile: path.join(base, 'users'),
    mailRoot: path.join(base, 'mail'),
    configFile: path.join(base, 'dovecot.conf'),
    runAs: isRoot() ? RUN_AS : null,
    ...(options.connections === undefined ? {} : { raiseFdLimit: true }),
  };
  for (const d of ['run', 'state', 'log', 'ssl', 'mail']) mkdirSync(path.join(base, d), { recursive: true });
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', path.join(base, 'ssl/key.pem'), '-out', info.certFile,
  ], { stdio: 'ignore' });
  chmodSync(path.join(base, 'ssl/key.pem'), 0o600);
  writeFileSync(info.usersFile, users.map((u) => `${u}:{PLAIN}${DEFAULT_PASSWORD}::::::\n`).join(''));

  let uid: number, gid: number, user: string, group: string;
  if (info.runAs) {
    try {
      execFileSync('id', [info.runAs], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', info.runAs]);
    }
    uid = Number(execFileSync('id', ['-u', info.runAs]).toString().trim());
    gid = Number(execFileSync('id', ['-g', info.runAs]).toString().trim());
    user = info.runAs;
    group = execFileSync('id', ['-gn', info.runAs]).toString().trim();
  } else {
    const me = os.userInfo();
    uid = me.uid;
    gid = me.gid;
    user = me.username;
    group = execFileSync('id', ['-gn']).toString().trim();
  }
  const scale = scaleSettings(options.connections);
  writeFileSync(info.configFile, `# Test-only Dovecot config (Mailroom test run) -- NOT for production.
protocols = imap
listen = 127.0.0.1
base_dir = ${base}/run
state_dir = ${base}/state
log_path = ${base}/log/dovecot.log
info_log_path = ${base}/log/dovecot.log
instance_name = mailroom-test-${info.imapPort}
default_login_user = ${user}
default_internal_user = ${user}
default_internal_group = ${group}
first_valid_uid = ${uid}
last_valid_uid = ${uid}
first_valid_gid = ${gid}
last_valid_gid = ${gid}
${scale.global}service anvil {
  chroot =
}
service imap-login {
  chroot =
${scale.imapLogin}  inet_listener imap {
    address = 127.0.0.1
    port = ${info.imapPort}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${info.imapsPort}
    ssl = yes
  }
}
${scale.services}ssl = yes
ssl_cert = <${info.certFile}
ssl_key = <${base}/ssl/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_max_userip_connections = 100
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${info.usersFile}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${info.usersFile}
  default_fields = uid=${uid} gid=${gid} home=${info.mailRoot}/%d/%n
}
mail_location = maildir:~/Maildir
mail_fsync = never
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
}
`);
  if (info.runAs) execFileSync('chown', ['-R', `${info.runAs}:`, base]);
  await startDovecot(info);
  return info;
}

export async function startDovecot(info: DovecotInfo): Promise<void> {
  // runuser's session starts at a soft limit of 1,024 files: a login process serving many clients needs more.
  const [cmd, args] = info.raiseFdLimit
    ? asDovecotUser(info, 'sh', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$0" -c "$1"', dovecotBinary(), info.configFile])
    : asDovecotUser(info, dovecotBinary(), ['-c', info.configFile]);
  // The master daemonizes and would keep inherited pipes open: give it none.
  execFileSync(cmd, args, { stdio: 'ignore' });
  await waitFor(() => portOpen(info.imapPort), 10_000, `Dovecot did not open port ${info.imapPort} (log: ${info.base}/log/dovecot.log)`);
}

export async function stopDovecot(info: DovecotInfo): Promise<void> {
  const pidFile = path.join(info.base, 'run/master.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const [cmd, args] = asDovecotUser(info, dovecotBinary(), ['-c', info.configFile, 'stop']);
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // already stopping
  }
  await waitFor(async () => !processAlive(pid) && !(await portOpen(info.imapPort)), 10_000, 'Dovecot did not stop');
}

export async function destroyDovecot(info: DovecotInfo): Promise<void> {
  await stopDovecot(info);
  rmSync(info.base, { recursive: true, force: true });
}

/** Adds a user to the passwd-file (Dovecot re-reads it on change). */
export async function addDovecotUser(info: DovecotInfo, user: string, password = DEFAULT_PASSWORD): Promise<void> {
  appendFileSync(info.usersFile, `${user}:{PLAIN}${password}::::::\n`);
  // Dovecot notices the change by mtime (1 s resolution): wait until the login works.
  await waitFor(
    async () => {
      const c = imapClient(info, user, password);
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.logout();
        return true;
      } catch {
        return false;
      }
    },
    10_000,
    `Dovecot did not pick up the new user ${user}`,
  );
}

export function imapClient(info: DovecotInfo, user: string, password = DEFAULT_PASSWORD): ImapFlow {
  return new ImapFlow({
    host: info.host,
    port: info.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass: password },
    logger: false,
  });
}

async function withClient<T>(info: DovecotInfo, user: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const client = imapClient(info, user);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** IMAP APPEND of a raw message; returns its UID and the folder's UIDVALIDITY. */
export async function appendMessage(info: DovecotInfo, user: string, raw: Buffer | string, folder = 'INBOX', flags: string[] = []): Promise<{ uid: number; uidValidity: bigint }> {
  return withClient(info, user, async (c) => {
    const res = await c.append(folder, raw, flags);
    if (!res || res.uid === undefined || res.uidValidity === undefined) throw new Error(`APPEND to ${folder} returned no UID`);
    return { uid: res.uid, uidValidity: BigInt(res.uidValidity) };
  });
}

/** Many APPENDs over one connection (a backlog). */
export async function appendMessages(info: DovecotInfo, user: string, raws: (Buffer | string)[], folder = 'INBOX'): Promise<void> {
  await withClient(info, user, async (c) => {
    for (const raw of raws) await c.append(folder, raw);
  });
}

/** Deletes and recreates a folder: a new UIDVALIDITY, the messages gone. */
export async function recreateFolder(info: DovecotInfo, user: string, folder: string): Promise<void> {
  if (folder.toUpperCase() === 'INBOX') throw new Error('INBOX cannot be deleted; use resetUidValidity');
  await withClient(info, user, async (c) => {
    await c.mailboxDelete(folder).catch(() => undefined);
    await c.mailboxCreate(folder);
  });
}

/** Forces a new UIDVALIDITY on a folder while keeping its messages (renumbered). */
export async function resetUidValidity(info: DovecotInfo, user: string, folder = 'INBOX'): Promise<void> {
  const [local, domain] = user.split('@') as [string, string];
  const maildir = path.join(info.mailRoot, domain, local, 'Maildir', folder.toUpperCase() === 'INBOX' ? '' : `.${folder.replace(/\//g, '.')}`);
  rmSync(path.join(maildir, 'dovecot-uidlist'), { force: true });
  for (const f of ['dovecot.index', 'dovecot.index.cache', 'dovecot.index.log', 'dovecot.index.log.2']) rmSync(path.join(maildir, f), { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((r) => setTimeout(r, 50));
  }
}
