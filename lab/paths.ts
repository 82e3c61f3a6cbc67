// Where the lab keeps things, and the names it gives to kernel objects. Pure functions only.
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

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

/** What the lab serves over HTTP on the bridge address (the binary mirror; filled by scripts/build). */
export function mirrorDir(): string {
  return join(cacheDir(), 'mirror');
}

/** Default port of the lab's mirror on the bridge address (HARDWAY_LAB_MIRROR_PORT overrides it). */
export const DEFAULT_MIRROR_PORT = 8088;

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
    /** Held (O_EXCL) by the `lab up` or `lab down` that is working on this DIR; holds its pid. */
    lock: join(dir, 'lab.lock'),
    mirrorLog: join(dir, 'mirror.log'),
  };
}

/** The directories a lab host owns; each is bind-mounted over the same path in the host's mount namespace. */
export const HOST_OWN_DIRS = ['/etc', '/var', '/opt', '/usr/local/bin', '/usr/local/sbin', '/run', '/root', '/tmp'] as const;

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

/**
 * The lab's short id: 8 hex digits of the lab directory's absolute path. Every kernel object of the lab carries it,
 * so that labs in different directories never collide, even for clusters of the same name.
 */
export function labId(dir: string): string {
  return shortHash(resolve(dir), 8);
}

/** Network namespace of a host: hw-<cluster>-<lab id>-<host>. */
export function netnsName(id: string, cluster: string, host: string): string {
  return `hw-${cluster}-${id}-${host}`;
}

/** Bridge for the lab's infrastructure network (interface names are at most 15 characters). */
export function bridgeName(id: string): string {
  return `hwbr-${id}`;
}

/** Root-namespace end of a host's veth pair; the other end is eth1 inside the host. */
export function vethName(id: string, host: string): string {
  return `hwv-${shortHash(`${id}/${host}`, 10)}`;
}

/** The lab's cgroup, relative to the root of every hierarchy: /hardway/<lab id>. */
export function labCgroup(id: string): string {
  return `/hardway/${id}`;
}

/** A host's cgroup (the root of its cgroup namespace): /hardway/<lab id>/<host>. */
export function hostCgroup(id: string, host: string): string {
  return `${labCgroup(id)}/${host}`;
}

export function nsFiles(dir: string, host: string): { mnt: string; uts: string } {
  const ns = labFiles(dir).nsDir;
  return { mnt: join(ns, `${host}.mnt`), uts: join(ns, `${host}.uts`) };
}
