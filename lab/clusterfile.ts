// The lab's network layout from a ClusterSpec, and the cluster.yaml that `hardway up` then uses.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ClusterSpec } from '../model/types.js';
import { contains, formatCidr, formatIp, parseCidr, parseIp, slash24 } from './ipv4.js';
import { writeIfChanged } from './keys.js';
import { isDir, isFile } from './hostfs.js';

export interface LabNetwork {
  /** e.g. 192.168.56.0/24 */
  cidr: string;
  prefix: number;
  /** The bridge's address: the network's first address, e.g. 192.168.56.1. */
  gateway: string;
}

/** spec.networks.infrastructure, or the /24 around the first host's address; checks every host fits. */
export function labNetwork(spec: ClusterSpec): LabNetwork {
  const first = spec.hosts[0];
  if (!first) throw new Error('lab: the cluster spec has no hosts');
  const net = spec.networks?.infrastructure ? parseCidr(spec.networks.infrastructure) : slash24(first.address);
  if (net.prefix > 30) throw new Error(`lab: infrastructure network ${formatCidr(net)} is too small`);
  const gateway = formatIp(net.network + 1);
  const seen = new Map<string, string>();
  for (const h of spec.hosts) {
    const ip = parseIp(h.address);
    if (!contains(net, ip))
      throw new Error(`lab: host ${h.name} address ${h.address} is outside the infrastructure network ${formatCidr(net)}`);
    if (h.address === gateway) throw new Error(`lab: host ${h.name} has address ${gateway}, which the lab bridge (the machine) uses`);
    const other = seen.get(h.address);
    if (other) throw new Error(`lab: hosts ${other} and ${h.name} share address ${h.address}`);
    seen.set(h.address, h.name);
  }
  return { cidr: formatCidr(net), prefix: net.prefix, gateway };
}

/**
 * The spec as the lab serves it: SSH as root on port 22 with the lab's key and known_hosts, and binaries from the
 * lab's mirror when it serves the spec's etcd release (as a real user's own mirror would), else from the local
 * binary cache.
 */
export async function labClusterSpec(
  spec: ClusterSpec,
  o: {
    network: LabNetwork;
    identityFile: string;
    knownHostsFile: string;
    binariesDir: string;
    mirror?: { url: string; directory: string };
  },
): Promise<ClusterSpec> {
  const out: ClusterSpec = structuredClone(spec);
  out.networks = { ...out.networks, infrastructure: o.network.cidr };
  // Lab hosts all listen on 22 for root: per-host SSH overrides would not reach them.
  out.hosts = out.hosts.map(({ ssh: _ssh, ...h }) => h);
  out.ssh = { ...out.ssh, user: 'root', port: 22, identityFile: o.identityFile, knownHostsFile: o.knownHostsFile };
  delete out.ssh.fingerprints;
  if (o.mirror && (await isFile(join(o.mirror.directory, 'etcd', out.versions.etcd, 'SHA256SUMS')))) {
    out.binaries = { source: 'mirror', mirror: o.mirror.url.replace(/\/+$/, '') };
  } else if (await isDir(o.binariesDir)) out.binaries = { source: 'local', directory: o.binariesDir };
  const served = out.binaries.source === 'mirror' ? o.mirror?.directory : out.binaries.source === 'local' ? o.binariesDir : undefined;
  if (served) {
    // The lab builds flannel's CNI plugin from another module than flannel-io/cni-plugin, under its own version
    // (scripts/build/versions.env): name the version the lab has when it lacks the file's.
    const have = await versionsIn(join(served, 'flannel-cni-plugin'));
    if (have.length && !have.includes(out.versions.flannelCniPlugin)) out.versions.flannelCniPlugin = have[have.length - 1]!;
  }
  const images = o.mirror ? await mirroredImages(o.mirror.directory) : undefined;
  if (o.mirror && images) {
    // No registry answers on the lab's network: nodes side-load the images the build made, as air-gapped hosts do.
    out.images = {
      ...out.images,
      source: 'mirror',
      mirror: `${o.mirror.url.replace(/\/+$/, '')}/images`,
      sandbox: images.pause,
      coredns: images.coredns,
      extra: [...new Set([...(images.busybox ? [images.busybox] : []), ...out.images.extra])],
    };
    delete out.images.directory;
  }
  return out;
}

/** The version directories ("v1.2.3") below `dir`, oldest first. */
async function versionsIn(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const key = (v: string) =>
    v
      .replace(/^v/, '')
      .split(/[.-]/)
      .map((x) => Number(x) || 0);
  const cmp = (a: string, b: string) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  };
  return names.filter((n) => /^v\d/.test(n)).sort(cmp);
}

/** The newest pause, coredns and busybox references of the mirror's images/REFERENCES (scripts/build), if it has them. */
export async function mirroredImages(mirrorDir: string): Promise<{ pause: string; coredns: string; busybox?: string } | undefined> {
  const text = await readFile(join(mirrorDir, 'images', 'REFERENCES'), 'utf8').catch(() => '');
  const refs = text
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[1])
    .filter((r): r is string => !!r);
  const newest = (name: string) =>
    refs
      .filter((r) => r.split(':')[0]!.endsWith(`/${name}`))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .pop();
  const pause = newest('pause');
  const coredns = newest('coredns');
  if (!pause || !coredns) return undefined;
  const busybox = newest('busybox');
  return { pause, coredns, ...(busybox ? { busybox } : {}) };
}

export async function writeClusterFile(path: string, spec: ClusterSpec): Promise<boolean> {
  const text = `# Written by \`hardway lab up\`: the lab's hosts, reachable from this machine.\n${stringify(spec)}`;
  return writeIfChanged(path, text, 0o644);
}
