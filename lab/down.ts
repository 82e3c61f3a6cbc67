// Removing a lab: every process of its hosts (killing a host's init ends its PID namespace), the namespaces, cgroups,
// links, firewall rules, the mirror server, files.
import { readdir, rm, rmdir } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { cgroupPids, removeCgroup, removeCgroupTop } from './cgroups.js';
import { run } from './exec.js';
import { liveInit } from './init.js';
import { acquireLabLock, type LockOptions } from './lock.js';
import { stopMirror } from './mirror.js';
import { ownMounts } from './mountinfo.js';
import { deleteNetns, hostNamespaceInodes, releaseHostNamespaces, releaseNsDir } from './namespaces.js';
import { deleteIptablesRule, deleteLink } from './network.js';
import { labFiles } from './paths.js';
import { killProcessesInNamespaces } from './processes.js';
import { loadState, type LabHostState, type LabState } from './state.js';
import { assertLabSupported } from './support.js';

type Log = (line: string) => void;

/** Unmounts anything the machine has mounted at or below `path` (deepest first). */
async function unmountBelow(path: string): Promise<void> {
  const mounts = (await ownMounts())
    .map((m) => m.mountPoint)
    .filter((mp) => mp === path || mp.startsWith(path + sep))
    .sort((a, b) => b.length - a.length);
  for (const mp of mounts) await run(['umount', '-l', mp]);
}

/** Ends the host's processes and removes its namespaces, veth and (unless keepFiles) its directory tree. */
export async function teardownHost(s: LabState, h: LabHostState, log: Log, keepFiles = false): Promise<void> {
  const inodes = await hostNamespaceInodes(h, await liveInit(s, h));
  const killed = await killProcessesInNamespaces(inodes);
  if (killed.length) log(`${h.name}: ended ${killed.length} process(es): ${killed.join(' ')}`);
  if (h.cgroup) {
    // Anything still in the host's cgroups left its namespaces; it is the host's all the same.
    const strays = await cgroupPids(s.cgroup.hierarchies, h.cgroup);
    for (const pid of strays) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (strays.length) log(`${h.name}: killed ${strays.length} process(es) left in its cgroups: ${strays.join(' ')}`);
    await removeCgroup(s.cgroup.hierarchies, h.cgroup);
  }
  await releaseHostNamespaces(h);
  await deleteLink(h.veth);
  await deleteNetns(h.netns);
  if (!keepFiles) {
    const hostsDir = labFiles(s.dir).hostsDir;
    const root = resolve(h.root);
    if (!root.startsWith(hostsDir + sep)) throw new Error(`lab: refusing to remove ${root}: not under ${hostsDir}`);
    await unmountBelow(root);
    await rm(root, { recursive: true, force: true });
  }
  log(`${h.name}: removed`);
}

/** Removes everything a state records (hosts, firewall rules, bridge). */
export async function teardownState(s: LabState, log: Log, keepFiles = false): Promise<void> {
  for (const h of s.hosts) await teardownHost(s, h, log, keepFiles);
  if (s.cgroup.path) {
    await removeCgroup(s.cgroup.hierarchies, s.cgroup.path);
    await removeCgroupTop(s.cgroup.hierarchies);
  }
  if (await stopMirror(s.mirror)) log(`mirror on ${s.mirror!.url}: stopped`);
  for (const rule of s.iptables) await deleteIptablesRule(rule);
  await deleteLink(s.bridge.name);
  log(`bridge ${s.bridge.name}: removed`);
}

export async function labDown(dir: string, log: Log = () => undefined, o: Pick<LockOptions, 'timeoutMs'> = {}): Promise<void> {
  assertLabSupported();
  dir = resolve(dir);
  const files = labFiles(dir);
  const release = await acquireLabLock(dir, 'down', { log, timeoutMs: o.timeoutMs });
  try {
    const state = await loadState(dir);
    if (state) await teardownState(state, log);
    await releaseNsDir(files.nsDir);
    await unmountBelow(dir);
    const made = [files.hostsDir, files.nsDir, files.identity, files.identityPub, files.knownHosts, files.clusterFile, files.mirrorLog];
    for (const p of [...made, files.state]) await rm(p, { recursive: true, force: true });
  } finally {
    await release();
  }
  try {
    if ((await readdir(dir)).length === 0) await rmdir(dir);
    else log(`${dir}: left in place (holds files the lab did not make)`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
