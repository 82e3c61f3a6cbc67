// Finding and ending the processes that live in a lab host's namespaces.
import { readdir, readFile, readlink } from 'node:fs/promises';

const NS_KINDS = ['net', 'mnt', 'uts', 'pid'] as const;
type NsKind = 'net' | 'mnt' | 'uts' | 'pid' | 'cgroup';

function inodeOf(link: string): number | undefined {
  const m = /\[(\d+)\]$/.exec(link);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** Pids of live processes whose net, mnt, uts or pid namespace is one of `inodes` (zombies have none and are skipped). */
export async function processesInNamespaces(inodes: ReadonlySet<number>): Promise<number[]> {
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    for (const kind of NS_KINDS) {
      let link: string;
      try {
        link = await readlink(`/proc/${pid}/ns/${kind}`);
      } catch {
        continue;
      }
      const ino = inodeOf(link);
      if (ino !== undefined && inodes.has(ino)) {
        pids.push(pid);
        break;
      }
    }
  }
  return pids;
}

/** The inode of process `pid`'s namespace of `kind`, if the process exists. */
export async function namespaceOf(pid: number, kind: NsKind): Promise<number | undefined> {
  try {
    return inodeOf(await readlink(`/proc/${pid}/ns/${kind}`));
  } catch {
    return undefined;
  }
}

/** Fields of /proc/<pid>/stat from the third on (state, ppid, ...), or undefined if there is no such process. */
async function statFields(pid: number): Promise<string[] | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The start time of a live (non-zombie) process (field 22 of /proc/<pid>/stat), or undefined. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  const f = await statFields(pid);
  if (!f || f[0] === 'Z' || f[0] === 'X') return undefined;
  return f[19];
}

export async function processAlive(pid: number): Promise<boolean> {
  return (await processStartTime(pid)) !== undefined;
}

/** The argument vector of a process ([] if it is gone). */
export async function processArgv(pid: number): Promise<string[]> {
  try {
    const text = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return text.split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

/** The pids of a process from the machine's PID namespace down to its own (the NSpid line of its status). */
export async function nsPids(pid: number): Promise<number[]> {
  try {
    const line = /^NSpid:\s*(.*)$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
    return line.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The machine's pid of the process that is `nsPid` in the PID namespace `pidNs` (an inode). */
export async function machinePid(pidNs: number, nsPid: number): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if ((await namespaceOf(pid, 'pid')) !== pidNs) continue;
    if ((await nsPids(pid)).at(-1) === nsPid) return pid;
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Ends every process in the given namespaces: SIGTERM, a grace period, then SIGKILL; repeats until none is
 * left (services may fork while dying). Returns the pids that were signalled.
 */
export async function killProcessesInNamespaces(inodes: ReadonlySet<number>, graceMs = 2000): Promise<number[]> {
  const seen = new Set<number>();
  for (let round = 0; round < 10; round++) {
    let pids = await processesInNamespaces(inodes);
    if (pids.length === 0) return [...seen];
    pids.forEach((p) => seen.add(p));
    signal(pids, round === 0 ? 'SIGTERM' : 'SIGKILL');
    const deadline = Date.now() + (round === 0 ? graceMs : 1000);
    while (Date.now() < deadline) {
      await sleep(50);
      pids = await processesInNamespaces(inodes);
      if (pids.length === 0) return [...seen];
    }
    signal(pids, 'SIGKILL');
  }
  const left = await processesInNamespaces(inodes);
  if (left.length) throw new Error(`lab: processes still alive in lab namespaces after SIGKILL: ${left.join(', ')}`);
  return [...seen];
}
