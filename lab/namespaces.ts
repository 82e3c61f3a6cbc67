// Per-host namespaces. The network namespace is an `ip netns` (/run/netns/<name>); the UTS and mount
// namespaces are made by `unshare --mount=FILE --uts=FILE`, which bind-mounts them onto files in DIR/ns.
// They persist without any holder process, independent of sshd restarts, until those files are unmounted.
// DIR/ns is bind-mounted onto itself with private propagation (required for mount-namespace files).
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { run, runOk } from './exec.js';
import { isMountPoint, ownMounts } from './mountinfo.js';
import { namespaceOf } from './processes.js';
import type { LabHostState } from './state.js';

export async function ensurePrivateNsDir(nsDir: string): Promise<void> {
  await mkdir(nsDir, { recursive: true, mode: 0o700 });
  if (!(await isMountPoint(nsDir))) await runOk(['mount', '--bind', nsDir, nsDir]);
  await runOk(['mount', '--make-private', nsDir]);
}

export async function releaseNsDir(nsDir: string): Promise<void> {
  while (await isMountPoint(nsDir)) await runOk(['umount', nsDir]);
}

export function netnsPath(netns: string): string {
  return `/run/netns/${netns}`;
}

/** Inode of a namespace bound on `path` (an nsfs mount), or undefined if nothing is bound there. */
export async function boundNamespaceInode(path: string): Promise<number | undefined> {
  if (!(await isMountPoint(path, 'nsfs'))) return undefined;
  try {
    return (await stat(path)).ino;
  } catch {
    return undefined;
  }
}

export async function netnsExists(netns: string): Promise<boolean> {
  return (await boundNamespaceInode(netnsPath(netns))) !== undefined;
}

export async function ensureNetns(netns: string): Promise<boolean> {
  if (await netnsExists(netns)) return false;
  // A stale file without a namespace behind it (e.g. after a crash) makes `ip netns add` fail.
  await run(['ip', 'netns', 'delete', netns]);
  await runOk(['ip', 'netns', 'add', netns]);
  return true;
}

export async function deleteNetns(netns: string): Promise<void> {
  const r = await run(['ip', 'netns', 'delete', netns]);
  if (r.code !== 0 && (await netnsExists(netns))) throw new Error(`ip netns delete ${netns}: ${r.stderr.trim()}`);
}

/** True when both the mount and the UTS namespace files of the host are bound. */
export async function hostNamespacesExist(h: LabHostState): Promise<boolean> {
  const mounts = await ownMounts();
  const bound = (p: string) => mounts.some((m) => m.mountPoint === p && m.fsType === 'nsfs');
  return bound(h.mntNs) && bound(h.utsNs);
}

/** Creates the host's mount + UTS namespaces (private propagation) and sets its hostname. */
export async function createHostNamespaces(h: LabHostState): Promise<void> {
  await releaseHostNamespaces(h);
  for (const f of [h.mntNs, h.utsNs]) await writeFile(f, '', { mode: 0o600 });
  await runOk(['unshare', `--mount=${h.mntNs}`, `--uts=${h.utsNs}`, '--propagation', 'private', '--', 'hostname', h.name]);
}

/** Unbinds the namespace files (the namespaces die once no process is left in them). */
export async function releaseHostNamespaces(h: Pick<LabHostState, 'mntNs' | 'utsNs'>): Promise<void> {
  for (const f of [h.mntNs, h.utsNs]) {
    while (await isMountPoint(f)) await runOk(['umount', f]);
  }
}

/**
 * argv prefix that runs a command in the host's net, UTS and mount namespaces, for setting up a host before its init
 * runs (lab/init.ts `hostArgv` enters a running host).
 */
export function nsenterArgv(h: Pick<LabHostState, 'netns' | 'mntNs' | 'utsNs'>): string[] {
  return ['nsenter', `--net=${netnsPath(h.netns)}`, `--uts=${h.utsNs}`, `--mount=${h.mntNs}`, '--'];
}

/** Inodes of every namespace of the host that still exists (for finding its processes), with the PID namespace of its init. */
export async function hostNamespaceInodes(h: Pick<LabHostState, 'netns' | 'mntNs' | 'utsNs'>, init?: number): Promise<Set<number>> {
  const out = new Set<number>();
  for (const p of [netnsPath(h.netns), h.mntNs, h.utsNs]) {
    const ino = await boundNamespaceInode(p);
    if (ino !== undefined) out.add(ino);
  }
  if (init !== undefined) {
    const pidNs = await namespaceOf(init, 'pid');
    if (pidNs !== undefined) out.add(pidNs);
  }
  return out;
}
