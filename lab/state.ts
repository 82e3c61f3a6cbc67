// The lab's record of everything it creates (DIR/state.json). Entries are written BEFORE the thing they
// name is created, so `lab down` (or a second `lab up`) can always find and remove a half-made lab.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { labFiles } from './paths.js';

export interface LabHost {
  name: string;
  /** Address on the infrastructure network (eth1 inside the host). */
  address: string;
}

export interface LabHostState extends LabHost {
  /** Network namespace name (`ip netns`), /run/netns/<netns>. */
  netns: string;
  /** Root-namespace end of the veth pair (the host end is eth1). */
  veth: string;
  /** Files the host's mount and UTS namespaces are bind-mounted on. */
  mntNs: string;
  utsNs: string;
  /** DIR/hosts/<name>: the host's own /etc, /var, /run, ... */
  root: string;
}

export interface LabState {
  version: 1;
  dir: string;
  cluster: string;
  /** Infrastructure network, e.g. 192.168.56.0/24. */
  network: string;
  bridge: { name: string; address: string; prefix: number };
  /** iptables rules the lab inserted, as the arguments after `-I`/`-D` (e.g. ["FORWARD", "-i", ...]). */
  iptables: string[][];
  hosts: LabHostState[];
  identityFile: string;
  knownHostsFile: string;
  clusterFile: string;
}

export async function loadState(dir: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(labFiles(dir).state, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const s = JSON.parse(text) as LabState;
  if (s.version !== 1) throw new Error(`${labFiles(dir).state}: unknown state version ${String(s.version)}`);
  return s;
}

/** Atomic write (temp file + rename), so a crash never leaves a torn state file. */
export async function saveState(state: LabState): Promise<void> {
  const file = labFiles(state.dir).state;
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}
