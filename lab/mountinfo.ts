// Reading /proc/<pid>/mountinfo.
import { readFile } from 'node:fs/promises';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  /** Per-superblock options, e.g. `rw,memory` for a cgroup v1 hierarchy. */
  superOptions: string;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const l = left.split(' ');
    const r = right.split(' ');
    const mp = l[4];
    if (!mp) continue;
    out.push({ mountPoint: unescape(mp), fsType: r[0] ?? '', source: unescape(r[1] ?? ''), superOptions: r[2] ?? '' });
  }
  return out;
}

/** Mounts as the calling process (the machine's root mount namespace) sees them. */
export async function ownMounts(): Promise<MountEntry[]> {
  return parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

export async function isMountPoint(path: string, fsType?: string): Promise<boolean> {
  const mounts = await ownMounts();
  return mounts.some((m) => m.mountPoint === path && (fsType === undefined || m.fsType === fsType));
}
