// Finding and ending the processes that live in a lab host's namespaces.
import { readdir, readlink } from 'node:fs/promises';

const NS_KINDS = ['net', 'mnt', 'uts'] as const;

function inodeOf(link: string): number | undefined {
  const m = /\[(\d+)\]$/.exec(link);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** Pids of live processes whose net, mnt or uts namespace is one of `inodes` (zombies have none and are skipped). */
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
export async function namespaceOf(pid: number, kind: 'net' | 'mnt' | 'uts'): Promise<number | undefined> {
  try {
    return inodeOf(await readlink(`/proc/${pid}/ns/${kind}`));
  } catch {
    return undefined;
  }
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
