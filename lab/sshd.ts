// A real OpenSSH sshd per host, inside the host's namespaces (entered through its init), on <address>:22. Root logs
// in with a key only.
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { runOk } from './exec.js';
import { ensureKeyPair, writeIfChanged } from './keys.js';
import { hostArgv } from './init.js';
import { machinePid, namespaceOf } from './processes.js';
import type { LabHostState, LabState } from './state.js';

export const SSHD = '/usr/sbin/sshd';
/** Paths inside the host. */
export const SSHD_CONFIG = '/etc/ssh/sshd_config';
export const SSHD_PIDFILE = '/run/sshd.pid';
export const SSHD_LOG = '/var/log/sshd.log';
export const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key';

/** A plain environment for commands run inside lab hosts (nothing of the caller's leaks in). */
export const HOST_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  USER: 'root',
  LOGNAME: 'root',
  LANG: 'C.UTF-8',
};

export function sshdConfig(address: string): string {
  return [
    '# hardway lab host sshd (written by `hardway lab up`)',
    `ListenAddress ${address}:22`,
    `HostKey ${HOST_KEY}`,
    `PidFile ${SSHD_PIDFILE}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    'X11Forwarding no',
    'PrintMotd no',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

const inHost = (h: LabHostState, p: string) => join(h.root, p);

/**
 * The machine's pid of the host's sshd, if the pid file (which holds its pid in the host's PID namespace) names a live
 * sshd in the PID namespace of the host's init.
 */
export async function sshdPid(h: LabHostState, init: number): Promise<number | undefined> {
  let nsPid: number;
  try {
    nsPid = Number((await readFile(inHost(h, SSHD_PIDFILE), 'utf8')).trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(nsPid) || nsPid <= 1) return undefined;
  const pidNs = await namespaceOf(init, 'pid');
  const pid = pidNs === undefined ? undefined : await machinePid(pidNs, nsPid);
  if (pid === undefined) return undefined;
  try {
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
    return comm === 'sshd' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves when <address>:22 answers with an SSH banner (from the machine, over the bridge). */
export async function waitForSsh(address: string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect({ host: address, port: 22, timeout: 1000 });
      let buf = '';
      const done = (v: boolean) => {
        sock.destroy();
        resolve(v);
      };
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        if (buf.includes('\n')) done(buf.startsWith('SSH-2.0-'));
      });
      sock.on('timeout', () => ((last = 'timeout'), done(false)));
      sock.on('error', (e) => ((last = e.message), done(false)));
      sock.on('close', () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`lab: sshd on ${address}:22 did not answer within ${timeoutMs} ms (${last})`);
}

/**
 * Converges the host's sshd: host key, authorized_keys, config; starts sshd if it is not running and
 * reloads it (SIGHUP, same pid) if its config changed. Returns what it did.
 */
export async function ensureSshd(
  s: LabState,
  h: LabHostState,
  init: number,
  clientPublicKey: string,
): Promise<'running' | 'started' | 'reloaded'> {
  await ensureKeyPair(inHost(h, HOST_KEY), `root@${h.name}`);
  await writeIfChanged(inHost(h, '/root/.ssh/authorized_keys'), `${clientPublicKey} hardway-lab\n`, 0o600);
  const changed = await writeIfChanged(inHost(h, SSHD_CONFIG), sshdConfig(h.address), 0o644);
  const pid = await sshdPid(h, init);
  if (pid !== undefined && !changed) return 'running';
  const inside = hostArgv(s, h, init);
  await runOk([...inside, SSHD, '-t', '-f', SSHD_CONFIG], { env: HOST_ENV });
  if (pid !== undefined) {
    process.kill(pid, 'SIGHUP');
    await waitForSsh(h.address);
    return 'reloaded';
  }
  await runOk([...inside, SSHD, '-f', SSHD_CONFIG, '-E', SSHD_LOG], { env: HOST_ENV });
  await waitForSsh(h.address);
  for (let i = 0; i < 50 && (await sshdPid(h, init)) === undefined; i++) await new Promise((r) => setTimeout(r, 100));
  if ((await sshdPid(h, init)) === undefined) throw new Error(`lab: sshd of ${h.name} answers but wrote no pid file ${SSHD_PIDFILE}`);
  return 'started';
}

/** The host's ed25519 public host key ("ssh-ed25519 AAAA..."). */
export function hostKeyPub(h: LabHostState): string {
  return inHost(h, `${HOST_KEY}.pub`);
}
