// The directories a lab host owns (DIR/hosts/<name>/{etc,var,opt,usr/local/bin,usr/local/sbin,run,root,tmp}), seeded once.
// /etc starts as a copy of the machine's /etc (users, nsswitch, ld.so.cache, ssl, alternatives, ...) minus
// what must differ per host: hostname, hosts, machine-id, ssh host keys.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './exec.js';

const SEEDED = '.seeded';

export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** A directory (or a link to one). */
export async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** A regular file (or a link to one). */
export async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** /etc/hosts of a fresh host: localhost lines and its own name only; listing the others is hardway's job. */
export function initialEtcHosts(name: string): string {
  return [
    '127.0.0.1\tlocalhost',
    `127.0.1.1\t${name}`,
    '',
    '# The following lines are desirable for IPv6 capable hosts',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    '',
  ].join('\n');
}

async function emptyDir(p: string): Promise<void> {
  await mkdir(p, { recursive: true });
  for (const e of await readdir(p)) await rm(join(p, e), { recursive: true, force: true });
}

async function seedEtc(root: string, name: string): Promise<void> {
  const etc = join(root, 'etc');
  // Never replace the directory itself: a live mount namespace may have it bound on /etc.
  await emptyDir(etc);
  await chmod(etc, 0o755);
  await runOk(['cp', '-a', '/etc/.', `${etc}/`]);
  for (const f of ['hostname', 'hosts', 'machine-id', 'resolv.conf']) await rm(join(etc, f), { force: true });
  const ssh = join(etc, 'ssh');
  await mkdir(ssh, { recursive: true, mode: 0o755 });
  for (const f of await readdir(ssh)) if (f.startsWith('ssh_host_')) await rm(join(ssh, f), { force: true });
  await writeFile(join(etc, 'hostname'), `${name}\n`, { mode: 0o644 });
  await writeFile(join(etc, 'hosts'), initialEtcHosts(name), { mode: 0o644 });
  await writeFile(join(etc, 'machine-id'), `${randomBytes(16).toString('hex')}\n`, { mode: 0o444 });
  // No DNS: nothing outside the lab may ever be contacted.
  await writeFile(join(etc, 'resolv.conf'), '# hardway lab host: no DNS server\n', { mode: 0o644 });
  // sshd without PAM refuses locked accounts ("!" password); root logs in with a key only.
  const shadow = join(etc, 'shadow');
  if (await exists(shadow)) {
    const lines = (await readFile(shadow, 'utf8')).split('\n').map((l) => {
      const f = l.split(':');
      return f[0] === 'root' && f[1]?.startsWith('!') ? ['root', '*', ...f.slice(2)].join(':') : l;
    });
    await writeFile(shadow, lines.join('\n'));
  }
  // Where units go (the daemonless systemctl reads /etc/systemd/system).
  for (const d of ['systemd/system', 'systemd/system-preset']) await mkdir(join(etc, d), { recursive: true });
}

async function seedVar(root: string): Promise<void> {
  const v = join(root, 'var');
  await emptyDir(v);
  await chmod(v, 0o755);
  for (const d of ['lib', 'lib/misc', 'log', 'log/journal', 'cache', 'spool', 'local', 'opt', 'mail', 'backups']) {
    await mkdir(join(v, d), { recursive: true, mode: 0o755 });
  }
  await mkdir(join(v, 'tmp'), { mode: 0o1777 });
  await chmod(join(v, 'tmp'), 0o1777);
  await symlink('/run', join(v, 'run'));
  await symlink('/run/lock', join(v, 'lock'));
}

/** Directories that must exist on every `lab up` (cheap; /run content may have been cleaned). */
async function ensureDirs(root: string): Promise<void> {
  const dirs: [string, number][] = [
    ['opt', 0o755],
    ['usr/local/bin', 0o755],
    ['usr/local/sbin', 0o755],
    ['run', 0o755],
    ['run/sshd', 0o755],
    ['run/lock', 0o1777],
    ['run/systemd', 0o755],
    ['root', 0o700],
    ['root/.ssh', 0o700],
    ['tmp', 0o1777],
  ];
  for (const [d, mode] of dirs) {
    const p = join(root, d);
    await mkdir(p, { recursive: true, mode });
    await chmod(p, mode);
  }
}

/**
 * Makes the host's directories; /etc and /var are seeded only once (a marker records completion), so what
 * hardway later writes there (e.g. /etc/hosts) survives a second `lab up`.
 */
export async function ensureHostDirs(root: string, name: string): Promise<{ seeded: boolean }> {
  await mkdir(root, { recursive: true, mode: 0o755 });
  await ensureDirs(root);
  const marker = join(root, SEEDED);
  if (await exists(marker)) return { seeded: false };
  await seedEtc(root, name);
  await seedVar(root);
  if (await exists('/etc/skel')) await runOk(['cp', '-a', '/etc/skel/.', `${join(root, 'root')}/`]);
  await ensureDirs(root);
  await writeFile(marker, `${new Date().toISOString()}\n`);
  return { seeded: true };
}
