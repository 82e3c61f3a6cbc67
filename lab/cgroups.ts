// Cgroups per host, as kind gives its nodes: every host has its own cgroup, /hardway/<lab id>/<host>, in every
// cgroup hierarchy of the machine (each cgroup v1 controller and the cgroup2 mount), below the cgroup of the
// process that makes the lab (cgroupBases). The host's processes live in
// it; the host's init makes a cgroup namespace rooted there and mounts each hierarchy at the host's own
// /sys/fs/cgroup/<...> on a fresh tmpfs (lab/init.ts), so that inside the host /proc/self/cgroup reads `/` and a
// cgroup made at /sys/fs/cgroup/cpu/kubepods lands at /sys/fs/cgroup/cpu/hardway/<lab id>/<host>/kubepods.
import { mkdir, readdir, readFile, readlink, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ownMounts } from './mountinfo.js';
import { isDir, isFile } from './hostfs.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';

export interface CgroupHierarchy {
  /** Where the machine mounts it, e.g. /sys/fs/cgroup/memory. */
  mountPoint: string;
  fsType: 'cgroup' | 'cgroup2';
  /** Mount options that select it (e.g. `memory`, `none,name=systemd`; empty for cgroup2). */
  options: string;
}

/** How a host's /sys/fs/cgroup is laid out: like the machine's, each hierarchy rooted at the host's cgroup. */
export interface CgroupLayout {
  /** A tmpfs at /sys/fs/cgroup holds the hierarchies (cgroup v1 and hybrid machines). */
  tmpfs: boolean;
  mounts: { path: string; type: string; options: string }[];
  /** Symbolic links in /sys/fs/cgroup, e.g. cpu,cpuacct -> cpu,cpuacct. */
  links: { path: string; target: string }[];
}

const GENERIC = new Set(['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec']);

/** The machine's cgroup hierarchies mounted at or below /sys/fs/cgroup. */
export async function cgroupHierarchies(): Promise<CgroupHierarchy[]> {
  const seen = new Set<string>();
  const out: CgroupHierarchy[] = [];
  for (const m of await ownMounts()) {
    if (m.fsType !== 'cgroup' && m.fsType !== 'cgroup2') continue;
    if (m.mountPoint !== CGROUP_ROOT && !m.mountPoint.startsWith(`${CGROUP_ROOT}/`)) continue;
    if (seen.has(m.mountPoint)) continue;
    seen.add(m.mountPoint);
    let opts = m.superOptions.split(',').filter((o) => o && !GENERIC.has(o));
    if (m.fsType === 'cgroup2') opts = opts.filter((o) => o === 'nsdelegate' || o === 'memory_recursiveprot');
    // A named hierarchy without controllers (name=systemd) is selected with `none`.
    if (m.fsType === 'cgroup' && opts.length > 0 && opts.every((o) => o.startsWith('name='))) opts.unshift('none');
    out.push({ mountPoint: m.mountPoint, fsType: m.fsType, options: opts.join(',') });
  }
  return out;
}

/**
 * Where the lab's cgroups go in each hierarchy: below the cgroup this process is in (read from /proc/self/cgroup),
 * never above it. A machine or sandbox that limits its processes through a cgroup (here the memory controller puts
 * every session's processes in a cgroup of their own) keeps limiting the lab's hosts too, as kind nests its nodes
 * below the container runtime's cgroup.
 */
export async function cgroupBases(hierarchies: readonly CgroupHierarchy[], selfCgroup?: string): Promise<string[]> {
  const lines = (selfCgroup ?? (await readFile('/proc/self/cgroup', 'utf8'))).split('\n').filter(Boolean);
  const own = (h: CgroupHierarchy): string => {
    if (h.fsType === 'cgroup2') return lines.find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
    const want = h.options
      .split(',')
      .filter((o) => o && o !== 'none')
      .sort()
      .join(',');
    for (const l of lines) {
      const [, controllers = '', path = '/'] = l.split(':');
      if (controllers.split(',').sort().join(',') === want) return path;
    }
    return '/';
  };
  return hierarchies.map((h) => join(h.mountPoint, own(h)));
}

export async function cgroupLayout(hierarchies: CgroupHierarchy[]): Promise<CgroupLayout> {
  const tmpfs = (await ownMounts()).some((m) => m.mountPoint === CGROUP_ROOT && m.fsType === 'tmpfs');
  const links: CgroupLayout['links'] = [];
  if (tmpfs) {
    for (const e of await readdir(CGROUP_ROOT, { withFileTypes: true })) {
      if (e.isSymbolicLink()) links.push({ path: join(CGROUP_ROOT, e.name), target: await readlink(join(CGROUP_ROOT, e.name)) });
    }
  }
  return {
    tmpfs,
    mounts: hierarchies.map((h) => ({ path: h.mountPoint, type: h.fsType, options: h.options })),
    links,
  };
}

/** Only cgroups the lab made are ever removed. */
function checkOurs(path: string): void {
  if (!/^\/hardway\/[0-9a-f]+(\/[A-Za-z0-9][A-Za-z0-9_.-]*)?$/.test(path)) throw new Error(`lab: refusing to touch cgroup ${path}`);
}

async function readTrim(p: string): Promise<string> {
  try {
    return (await readFile(p, 'utf8')).trim();
  } catch {
    return '';
  }
}

/**
 * Makes `path` (e.g. /hardway/<id>/<host>) in every hierarchy, level by level. A new cpuset gets its parent's cpus
 * and mems (a task cannot join an empty cpuset) and clone_children, so that cpusets made inside get them too.
 * Returns whether it made anything.
 */
export async function ensureCgroup(hierarchies: readonly string[], path: string): Promise<boolean> {
  checkOurs(path);
  let made = false;
  const parts = path.split('/').filter(Boolean);
  for (const root of hierarchies) {
    for (let i = 1; i <= parts.length; i++) {
      const dir = join(root, ...parts.slice(0, i));
      if (!(await isDir(dir))) {
        try {
          await mkdir(dir);
          made = true;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
      // Every time, not only when made here: a parent that another `lab up` made may have been empty a moment ago.
      if (!(await isFile(join(dir, 'cpuset.cpus')))) continue;
      const parent = join(root, ...parts.slice(0, i - 1));
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if ((await readTrim(join(dir, f))) !== '') continue;
        const value = await readTrim(join(parent, f));
        if (value) await writeFile(join(dir, f), value);
      }
      await writeFile(join(dir, 'cgroup.clone_children'), '1').catch(() => undefined);
    }
  }
  return made;
}

/** The machine's pids in `path` or any cgroup below it, in every hierarchy. */
export async function cgroupPids(hierarchies: readonly string[], path: string): Promise<number[]> {
  checkOurs(path);
  const pids = new Set<number>();
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const p of (await readTrim(join(dir, 'cgroup.procs'))).split('\n').filter(Boolean)) pids.add(Number(p));
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name));
  };
  for (const root of hierarchies) await walk(join(root, path));
  return [...pids];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Removes `path` and every cgroup made below it (leaf first) in every hierarchy; they must hold no process. */
export async function removeCgroup(hierarchies: readonly string[], path: string): Promise<void> {
  checkOurs(path);
  const rmTree = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) if (e.isDirectory()) await rmTree(join(dir, e.name));
    // A process that has just been killed may hold its cgroup for a moment.
    for (let i = 0; ; i++) {
      try {
        await rmdir(dir);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || i >= 50) throw new Error(`lab: cannot remove cgroup ${dir}: ${(e as Error).message}`);
        await sleep(100);
      }
    }
  };
  for (const root of hierarchies) await rmTree(join(root, path));
}

/** Removes /hardway in every hierarchy when no lab uses it any more. */
export async function removeCgroupTop(hierarchies: readonly string[]): Promise<void> {
  for (const root of hierarchies) await rmdir(join(root, 'hardway')).catch(() => undefined);
}

/** sh -c prefix that moves itself into the given cgroup directories (machine paths), then execs the rest. */
export function intoCgroupsArgv(dirs: readonly string[]): string[] {
  const quoted = dirs.map((d) => `'${d.replaceAll("'", `'\\''`)}'`).join(' ');
  return ['sh', '-c', `for d in ${quoted}; do echo $$ > "$d/cgroup.procs" || exit 125; done; exec "$@"`, 'hardway-enter'];
}
