// Limits of the machine's kernel that the lab's hosts share. A real host has its own kernel, and with it its own
// inotify budget; here every kubelet, kube-proxy, containerd and flanneld of every lab host draws on the machine's
// (the budget is per user, and all of them run as root). With 30 workers the default of 128 inotify instances ran out:
// kube-proxy failed to start with "too many open files". The lab raises the limits, never lowers them (kind's docs
// give the same advice for many nodes on one machine).
import { readFile, writeFile } from 'node:fs/promises';

/** Each lab host's share, and the floor for any lab. */
const PER_HOST = { instances: 32, watches: 16_384 };
const FLOOR = { instances: 1024, watches: 524_288 };

const SETTINGS = {
  instances: '/proc/sys/fs/inotify/max_user_instances',
  watches: '/proc/sys/fs/inotify/max_user_watches',
} as const;

/** Raises the machine's inotify limits to what `hosts` lab hosts need; returns what it changed ("path old -> new"). */
export async function ensureKernelLimits(hosts: number): Promise<string[]> {
  const changed: string[] = [];
  for (const key of Object.keys(SETTINGS) as (keyof typeof SETTINGS)[]) {
    const path = SETTINGS[key];
    const want = Math.max(FLOOR[key], PER_HOST[key] * hosts);
    const have = Number((await readFile(path, 'utf8')).trim());
    if (Number.isFinite(have) && have >= want) continue;
    await writeFile(path, `${want}\n`);
    changed.push(`${path} ${have} -> ${want}`);
  }
  return changed;
}
