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
  /** The host's cgroup below the root of every hierarchy (/hardway/<lab id>/<host>): the root of its cgroup namespace. */
  cgroup: string;
  /**
   * The machine's pid of the host's init: PID 1 of the host's PID namespace, which also holds its cgroup namespace.
   * Everything enters the host through it (`nsenter --target`); killing it ends every process of the host.
   */
  init?: number;
}

/** The lab's binary mirror: a static HTTP server on the bridge address (absent when there is nothing to serve). */
export interface LabMirror {
  /** e.g. http://192.168.56.1:8088/ */
  url: string;
  address: string;
  port: number;
  /** The directory it serves. */
  directory: string;
  /** The server's pid on the machine. */
  pid?: number;
}

export interface LabState {
  version: 2;
  /** Short id of the lab (from DIR); part of every name the lab gives to kernel objects. */
  id: string;
  dir: string;
  cluster: string;
  /** Infrastructure network, e.g. 192.168.56.0/24. */
  network: string;
  bridge: { name: string; address: string; prefix: number };
  /** iptables rules the lab inserted, as the arguments after `-I`/`-D` (e.g. ["FORWARD", "-i", ...]). */
  iptables: string[][];
  hosts: LabHostState[];
  /**
   * The lab's cgroup (/hardway/<lab id>) and the machine's cgroup hierarchies it was made in (their mount points,
   * e.g. /sys/fs/cgroup/cpu ... /sys/fs/cgroup/unified). Every host's cgroup lies below it in each of them.
   */
  cgroup: { path: string; hierarchies: string[] };
  mirror?: LabMirror;
  identityFile: string;
  knownHostsFile: string;
  clusterFile: string;
}

/** The state of labs made before lab ids, PID and cgroup namespaces (version 1): what is needed to remove them. */
interface LabStateV1 extends Omit<LabState, 'version' | 'id' | 'hosts' | 'cgroup' | 'mirror'> {
  version: 1;
  hosts: Omit<LabHostState, 'cgroup' | 'init'>[];
}

export async function loadState(dir: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(labFiles(dir).state, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const s = JSON.parse(text) as LabState | LabStateV1;
  if (s.version === 2) return s;
  if (s.version === 1) {
    // Its names are not the ones `lab up` gives now, so `lab up` removes it whole; it made no cgroups.
    return { ...s, version: 2, id: '', hosts: s.hosts.map((h) => ({ ...h, cgroup: '' })), cgroup: { path: '', hierarchies: [] } };
  }
  throw new Error(`${labFiles(dir).state}: unknown state version ${String((s as { version: unknown }).version)}`);
}

/** Atomic write (temp file + rename), so a crash never leaves a torn state file. */
export async function saveState(state: LabState): Promise<void> {
  const file = labFiles(state.dir).state;
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}
