// Where the lab keeps things, and the names it gives to kernel objects. Pure functions only.
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** ~/.hardway/lab */
export function defaultLabDir(): string {
  return join(homedir(), '.hardway', 'lab');
}

/** ${HARDWAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hardway} (filled by scripts/setup.sh). */
export function cacheDir(): string {
  const explicit = process.env.HARDWAY_CACHE;
  if (explicit) return explicit;
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'hardway');
}

/** The daemonless systemctl (docker-systemctl-replacement) unpacked by setup.sh. */
export function systemctlScript(): string {
  return join(cacheDir(), 'debs', 'systemctl', 'usr', 'bin', 'systemctl');
}

export function binariesDir(): string {
  return join(cacheDir(), 'binaries');
}

/** Files at the top of a lab directory. */
export function labFiles(dir: string) {
  return {
    state: join(dir, 'state.json'),
    identity: join(dir, 'id_ed25519'),
    identityPub: join(dir, 'id_ed25519.pub'),
    knownHosts: join(dir, 'known_hosts'),
    clusterFile: join(dir, 'cluster.yaml'),
    /** Bind-mounted onto itself with private propagation; holds the per-host mnt/uts namespace files. */
    nsDir: join(dir, 'ns'),
    hostsDir: join(dir, 'hosts'),
  };
}

/** The directories a lab host owns; each is bind-mounted over the same path in the host's mount namespace. */
export const HOST_OWN_DIRS = ['/etc', '/var', '/opt', '/usr/local/bin', '/run', '/root', '/tmp'] as const;

export function hostRoot(dir: string, host: string): string {
  return join(labFiles(dir).hostsDir, host);
}

/** DIR/hosts/<host>/<path inside the host>, e.g. hostPath(dir, 'a', '/etc/hosts'). */
export function hostPath(dir: string, host: string, inside: string): string {
  return join(hostRoot(dir, host), inside);
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function checkName(kind: string, name: string): void {
  if (!SAFE_NAME.test(name) || name.length > 63) {
    throw new Error(`lab: ${kind} name ${JSON.stringify(name)} is not usable (letters, digits, '-', '_', '.'; at most 63 characters)`);
  }
}

function shortHash(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** Network namespace of a host: hw-<cluster>-<host>. */
export function netnsName(cluster: string, host: string): string {
  return `hw-${cluster}-${host}`;
}

/** Bridge for the cluster's infrastructure network (interface names are at most 15 characters). */
export function bridgeName(cluster: string): string {
  return `hwbr-${shortHash(cluster, 8)}`;
}

/** Root-namespace end of a host's veth pair; the other end is eth1 inside the host. */
export function vethName(cluster: string, host: string): string {
  return `hwv-${shortHash(`${cluster}/${host}`, 10)}`;
}

export function nsFiles(dir: string, host: string): { mnt: string; uts: string } {
  const ns = labFiles(dir).nsDir;
  return { mnt: join(ns, `${host}.mnt`), uts: join(ns, `${host}.uts`) };
}
