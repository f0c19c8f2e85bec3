import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { missingMessage } from './system-deps';

// A private Dovecot per test file: own config, base_dir and maildir in a temporary directory,
// passwd-file users, plaintext login on 127.0.0.1 only. The system service is never touched.

export const DOVECOT_BIN = process.env.DOVECOT_BIN ?? '/usr/sbin/dovecot';

export interface DovecotUser {
  user: string;
  password: string;
}

export interface Dovecot {
  host: '127.0.0.1';
  port: number;
  dir: string;
  /** Appends a raw RFC 5322 message to the user's folder (INBOX by default); returns its UID. */
  append(user: DovecotUser, raw: Buffer | string, folder?: string): Promise<number | undefined>;
  /** UIDs and flags of the messages in a folder (null when the folder does not exist). */
  list(user: DovecotUser, folder: string): Promise<{ uid: number; flags: string[] }[] | null>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface Accounts {
  loginUser: string;
  internalUser: string;
  internalGroup: string;
  uid: number;
  gid: number;
}

/** Who runs Dovecot: this process, or (as root) another user the caller names. */
export interface DovecotOptions {
  /** As root only: run the whole server as this non-root user, as a non-root developer would. */
  runAs?: string;
}

function passwdEntry(passwd: string, match: (fields: string[]) => boolean): string[] | undefined {
  return passwd
    .split('\n')
    .map((line) => line.split(':'))
    .find(match);
}

/** Dovecot's login and mail processes refuse root: as root, use the package's own users. */
async function accounts(runAs: string | undefined): Promise<Accounts> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const groups = await readFile('/etc/group', 'utf8');
  let uid = process.getuid?.() ?? 0;
  let gid = process.getgid?.() ?? 0;
  if (runAs !== undefined) {
    if (uid !== 0) throw new Error('startDovecot({ runAs }) needs root');
    const entry = passwdEntry(passwd, (fields) => fields[0] === runAs);
    if (!entry) throw new Error(`no such user: ${runAs}`);
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (uid !== 0) {
    const user =
      passwdEntry(passwd, (fields) => Number(fields[2]) === uid)?.[0] ?? process.env.USER ?? 'nobody';
    const group = passwdEntry(groups, (fields) => Number(fields[2]) === gid)?.[0] ?? user;
    // Dovecot's sockets belong to the internal group; ours, since we cannot chown to another.
    return { loginUser: user, internalUser: user, internalGroup: group, uid, gid };
  }
  const dovecot = passwdEntry(passwd, (fields) => fields[0] === 'dovecot');
  if (!passwdEntry(passwd, (fields) => fields[0] === 'dovenull') || !dovecot)
    throw new Error('the dovecot and dovenull users are missing (dovecot-core)');
  return {
    loginUser: 'dovenull',
    internalUser: 'dovecot',
    internalGroup: 'dovecot',
    uid: Number(dovecot[2]),
    gid: Number(dovecot[3]),
  };
}

function config(
  dir: string,
  port: number,
  { loginUser, internalUser, internalGroup, uid, gid }: Accounts,
): string {
  return `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
# Plaintext login is fine here: the server listens on loopback only, for tests.
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = ${loginUser}
default_internal_user = ${internalUser}
default_internal_group = ${internalGroup}
first_valid_uid = ${uid}
first_valid_gid = ${gid}
mail_location = maildir:${dir}/mail/%u
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
`;
}

async function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('* OK')));
    socket.connect(port, '127.0.0.1');
  });
}

/**
 * Dovecot's mail processes run as another user than root, so its tree cannot live in the checkout:
 * a checkout under a 0700 parent (a `mktemp -d` clone, /root) is out of their reach. It lives in a
 * fresh directory of the system's temporary folder, reachable by that user, whose path has no spaces
 * (Dovecot's passwd-file and userdb args are space-separated).
 */
async function serverDir(owner: { uid: number; gid: number }): Promise<string> {
  const tmp = /\s/.test(os.tmpdir()) ? '/tmp' : os.tmpdir();
  const dir = await mkdtemp(path.join(tmp, 'rpa-dovecot-'));
  await chmod(dir, 0o755);
  for (const sub of ['run', 'state', 'mail', 'home']) await mkdir(path.join(dir, sub));
  // Mail is written as the mail user (not root): it owns the maildir and home trees; a non-root
  // server owns everything it writes.
  const owned = owner.uid === (process.getuid?.() ?? 0) ? [] : ['', 'run', 'state'];
  for (const sub of [...owned, 'mail', 'home']) await chown(path.join(dir, sub), owner.uid, owner.gid);
  return dir;
}

export async function startDovecot(users: DovecotUser[], options: DovecotOptions = {}): Promise<Dovecot> {
  if (!existsSync(DOVECOT_BIN)) throw new Error(missingMessage('dovecot-imapd'));
  const port = await freePort();
  const accountsInUse = await accounts(options.runAs);
  const dir = await serverDir(accountsInUse);
  await writeFile(
    path.join(dir, 'users'),
    users.map((u) => `${u.user}:{PLAIN}${u.password}::::::\n`).join(''),
    { mode: 0o644 },
  );
  const confPath = path.join(dir, 'dovecot.conf');
  await writeFile(confPath, config(dir, port, accountsInUse), { mode: 0o644 });
  const child: ChildProcess = spawn(DOVECOT_BIN, ['-F', '-c', confPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.runAs === undefined ? {} : { uid: accountsInUse.uid, gid: accountsInUse.gid }),
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!(await greets(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = await readFile(path.join(dir, 'dovecot.log'), 'utf8').catch(() => '');
      throw new Error(`dovecot did not start on 127.0.0.1:${port}: ${output}\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const withClient = async <T>(user: DovecotUser, fn: (client: ImapFlow) => Promise<T>): Promise<T> => {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port,
      secure: false,
      auth: { user: user.user, pass: user.password },
      logger: false,
    });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  };

  return {
    host: '127.0.0.1',
    port,
    dir,
    append: (user, raw, folder = 'INBOX') =>
      withClient(user, async (client) => {
        const appended = await client.append(folder, raw);
        return appended ? appended.uid : undefined;
      }),
    list: (user, folder) =>
      withClient(user, async (client) => {
        const folders = await client.list();
        if (!folders.some((f) => f.path === folder)) return null;
        const lock = await client.getMailboxLock(folder);
        try {
          const messages: { uid: number; flags: string[] }[] = [];
          if (client.mailbox && client.mailbox.exists === 0) return messages;
          for await (const message of client.fetch('1:*', { uid: true, flags: true })) {
            messages.push({ uid: message.uid, flags: [...(message.flags ?? [])] });
          }
          return messages;
        } finally {
          lock.release();
        }
      }),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
