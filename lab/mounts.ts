// The host's view of the file system, set up inside its (private) mount namespace:
//   /sys            a fresh sysfs of the host's network namespace
//   /etc /var /opt /usr/local/{bin,sbin} /run /root /tmp   bind mounts of DIR/hosts/<name>/...
//   /usr/bin/systemctl   the daemonless systemctl script
// and, mounted by the host's init (lab/init.ts): /proc of the host's PID namespace, /sys/fs/cgroup rooted at the
// host's cgroups. Everything else (/usr/bin, /usr/sbin, /usr/lib, /dev) is the machine's.
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './exec.js';
import { parseMountinfo, type MountEntry } from './mountinfo.js';
import { HOST_OWN_DIRS } from './paths.js';
import { nsenterArgv } from './namespaces.js';
import { hostArgv } from './init.js';
import type { CgroupLayout } from './cgroups.js';
import type { LabHostState, LabState } from './state.js';

export const SYSTEMCTL_TARGET = '/usr/bin/systemctl';

interface Bind {
  source: string;
  target: string;
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/**
 * Orders bind mounts so that no mount hides the source of a later one (DIR may itself live under /root or
 * /tmp, which the host replaces, and so may the cache that holds systemctl).
 */
export function orderBinds(binds: Bind[]): Bind[] {
  const left = [...binds];
  const out: Bind[] = [];
  while (left.length) {
    const i = left.findIndex((b) => !left.some((o) => o !== b && under(o.source, b.target)));
    if (i < 0) throw new Error(`lab: cannot order bind mounts: ${left.map((b) => `${b.source}->${b.target}`).join(', ')}`);
    out.push(...left.splice(i, 1));
  }
  return out;
}

/** Mounts of the host's mount namespace: entered before its init runs, or through its init. */
async function mountsInside(prefix: string[]): Promise<MountEntry[]> {
  const r = await runOk([...prefix, 'cat', '/proc/self/mountinfo']);
  return parseMountinfo(r.stdout);
}

export async function setupHostMounts(h: LabHostState, o: { nsDir: string; systemctl: string }): Promise<void> {
  const inside = (argv: string[]) => runOk([...nsenterArgv(h), ...argv]);

  // The new namespace is a copy of the machine's: drop its copies of namespace files (other lab hosts',
  // `ip netns` ones) so that they do not keep those namespaces alive.
  const copied = await mountsInside(nsenterArgv(h));
  const drop = copied
    .filter((m) => m.fsType === 'nsfs' || m.mountPoint === '/run/netns' || m.mountPoint === o.nsDir)
    .map((m) => m.mountPoint)
    .sort((a, b) => a.length - b.length);
  const dropped: string[] = [];
  for (const mp of drop) {
    if (dropped.some((d) => under(mp, d))) continue; // went with its parent (umount -l detaches the subtree)
    await inside(['umount', '-l', mp]);
    dropped.push(mp);
  }

  // A sysfs of this host's network namespace in place of the machine's (whose /sys/fs/cgroup mounts go with it); the
  // init mounts the host's own /sys/fs/cgroup on it.
  await inside(['umount', '-l', '/sys']);
  await inside(['mount', '-t', 'sysfs', '-o', 'nosuid,nodev,noexec', 'sysfs', '/sys']);

  const binds: Bind[] = [];
  for (const d of HOST_OWN_DIRS) binds.push({ source: await realpath(join(h.root, d)), target: d });
  binds.push({ source: await realpath(o.systemctl), target: SYSTEMCTL_TARGET });
  for (const b of orderBinds(binds)) await inside(['mount', '--bind', b.source, b.target]);
}

/**
 * True when the running host (entered through its init) shows all of its own directories, the systemctl script, its
 * sysfs and its cgroup hierarchies.
 */
export async function hostMountsComplete(s: LabState, h: LabHostState, init: number, layout: CgroupLayout): Promise<boolean> {
  let mounts: MountEntry[];
  try {
    mounts = await mountsInside(hostArgv(s, h, init));
  } catch {
    return false;
  }
  const points = new Set(mounts.map((m) => m.mountPoint));
  const has = (mp: string, fsType: string) => mounts.some((m) => m.mountPoint === mp && m.fsType === fsType);
  return (
    has('/sys', 'sysfs') &&
    has('/proc', 'proc') &&
    layout.mounts.every((m) => has(m.path, m.type)) &&
    [...HOST_OWN_DIRS, SYSTEMCTL_TARGET].every((d) => points.has(d))
  );
}
