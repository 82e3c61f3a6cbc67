// Pure: turns the output of the preflight probe into facts and findings. Tested without a host.
import { runsKubelet } from '../model/roles.js';
import type { Role } from '../model/types.js';
import type { NodeFacts } from '../render/containerd.js';
import type { HostFacts } from './types.js';

/**
 * Kernel settings a Kubernetes node wants to set or read. In a network namespace (a container, a lab host) some
 * are read-only: preflight reports them, and the phases configure around them (as kind does), never pretending
 * they were applied.
 */
export const WATCHED_SYSCTLS = ['net.netfilter.nf_conntrack_max', 'net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables'] as const;

/** Bit of CAP_SYS_RESOURCE in CapEff: without it no process may lower an OOM score (runc's -998 for sandboxes). */
const CAP_SYS_RESOURCE = 24n;

/** The commands preflight looks for (which of them a host's roles need: requiredCommands). */
export const PROBED_COMMANDS = [
  'sh',
  'ip',
  'sha256sum',
  'stat',
  'mv',
  'mkdir',
  'chmod',
  'chown',
  'cat',
  'tar',
  'awk',
  'openssl',
  'systemctl',
  'curl',
  'diff',
  'iptables',
  'haproxy',
  'apt-get',
  'dnf',
  'yum',
] as const;

/** One round trip: everything preflight needs to know about a host, in sections. */
export const PROBE_SCRIPT = [
  'echo "@@uname"; uname -s -m',
  'echo "@@os"; (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || echo unknown',
  'echo "@@mem"; grep MemTotal /proc/meminfo',
  'echo "@@addr"; ip -o -4 addr show',
  'echo "@@route"; ip -4 route show default',
  `echo "@@commands"; for c in ${PROBED_COMMANDS.join(' ')}; do command -v "$c" >/dev/null 2>&1 && echo "$c"; done`,
  'echo "@@cgroup"; cat /proc/self/cgroup',
  'echo "@@capeff"; grep CapEff /proc/self/status',
  'echo "@@swap"; tail -n +2 /proc/swaps | wc -l',
  'echo "@@modules"; grep -qw overlay /proc/filesystems && echo overlay; [ -d /proc/sys/net/bridge ] && echo br_netfilter',
  `echo "@@sysctl"; for k in ${WATCHED_SYSCTLS.join(' ')}; do f=/proc/sys/$(echo "$k" | tr . /); ` +
    'if [ -e "$f" ]; then echo "$k $(stat -c %a "$f")"; else echo "$k missing"; fi; done',
  'true',
].join('; ');

/** One round trip: what a node's container runtime and kubelet are configured from (render/containerd.ts). */
export const NODE_PROBE_SCRIPT = [
  'echo "@@cgroup"; cat /proc/self/cgroup',
  'echo "@@swap"; tail -n +2 /proc/swaps | wc -l',
  'echo "@@capeff"; grep CapEff /proc/self/status',
  'echo "@@init"; if [ -d /run/systemd/system ]; then echo systemd; else echo other; fi',
  'echo "@@conntrack"; stat -c %a /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo missing',
  'echo "@@resolv"; if [ -s /run/systemd/resolve/resolv.conf ]; then echo /run/systemd/resolve/resolv.conf; else echo /etc/resolv.conf; fi',
  'true',
].join('; ');

export function parseNodeFacts(out: string): NodeFacts {
  const s = parseSections(out);
  const caps = parseCapabilities(s.capeff ?? []);
  return {
    cgroup: parseCgroups(s.cgroup ?? []),
    systemd: s.init?.[0] === 'systemd',
    swap: Number(s.swap?.[0] ?? 0) > 0,
    // Unknown counts as missing: restricting OOM scores is harmless where it was not needed.
    sysResource: caps.known && caps.sysResource,
    // The kernel shows a setting it will not take from this network namespace as read-only (0444).
    ...(s.conntrack?.[0] !== undefined ? { conntrackMaxWritable: /^[0-7]*[2367][0-7]{2}$/.test(s.conntrack[0]) } : {}),
    ...(s.resolv?.[0] !== undefined ? { resolvConf: s.resolv[0] } : {}),
  };
}

export function parseSections(out: string): Record<string, string[]> {
  const sections: Record<string, string[]> = {};
  let current = '';
  for (const line of out.split('\n')) {
    if (line.startsWith('@@')) {
      current = line.slice(2).trim();
      sections[current] = [];
    } else if (current && line.trim()) sections[current]!.push(line.trim());
  }
  return sections;
}

export interface Interface4 {
  name: string;
  address: string;
  prefix: number;
}

/** `ip -o -4 addr show` lines: "3: eth1    inet 192.168.56.11/24 brd ... scope global eth1". */
export function parseAddresses(lines: string[]): Interface4[] {
  const out: Interface4[] = [];
  for (const l of lines) {
    const m = /^\d+:\s+([^\s@]+)(?:@\S+)?\s+inet\s+(\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(l);
    if (m) out.push({ name: m[1]!, address: m[2]!, prefix: Number(m[3]) });
  }
  return out;
}

/** `ip -4 route show default`: "default via 10.0.2.2 dev eth0 ...". */
export function parseDefaultRoute(lines: string[]): { via?: string; dev: string } | undefined {
  for (const l of lines) {
    const m = /^default(?:\s+via\s+(\S+))?\s+dev\s+(\S+)/.exec(l);
    if (m) return { via: m[1], dev: m[2]! };
  }
  return undefined;
}

/** Memory the seed asks for: 2 GiB for control planes and workers, 1 GiB for every other host. */
export function requiredMemoryMiB(roles: readonly Role[]): number {
  return roles.includes('controlplane') || roles.includes('worker') ? 2048 : 1024;
}

/** /proc/meminfo reports less than the machine's nominal size (kernel reservations): allow 10%. */
export const MEMORY_TOLERANCE = 0.9;

export function requiredCommands(roles: readonly Role[]): string[][] {
  // Each inner list: any one of them will do.
  const need: string[][] = [['sh'], ['ip'], ['sha256sum'], ['stat'], ['mv'], ['mkdir'], ['chmod'], ['chown'], ['cat'], ['systemctl']];
  // Release archives are unpacked, and their checksums looked up with awk (activities/binaries.ts).
  if (roles.includes('etcd') || runsKubelet(roles)) need.push(['tar'], ['awk']);
  // Keys are made, requests signed and CAs kept with openssl on the hosts themselves (pki/openssl.ts).
  if (roles.some((r) => r !== 'loadbalancer')) need.push(['openssl']);
  if (roles.includes('loadbalancer')) need.push(['haproxy', 'apt-get', 'dnf', 'yum']);
  // Readiness is checked with curl (/readyz, /healthz); cluster objects are applied after a `kubectl diff`, which
  // needs diff; kube-proxy and flanneld program the node with iptables.
  if (runsKubelet(roles) || roles.includes('admin')) need.push(['curl']);
  if (roles.includes('controlplane')) need.push(['diff']);
  if (runsKubelet(roles)) need.push(['iptables']);
  return need;
}

/**
 * `/proc/self/cgroup`: "0::/path" alone is the unified (v2) hierarchy; "N:controller:/path" lines are v1, with a
 * "0::" line too when a v2 hierarchy is mounted beside them (hybrid).
 */
export function parseCgroups(lines: string[]): HostFacts['cgroup'] {
  const v1 = lines.some((l) => /^\d+:[^:]+:/.test(l) && !l.startsWith('0::'));
  const v2 = lines.some((l) => l.startsWith('0::'));
  return v1 ? { version: 1, hybrid: v2 } : { version: 2, hybrid: false };
}

/** "CapEff:\t000001fffeffffff": whether CAP_SYS_RESOURCE is effective. */
export function parseCapabilities(lines: string[]): HostFacts['capabilities'] {
  const hex = /CapEff:\s*([0-9a-f]+)/i.exec(lines[0] ?? '')?.[1];
  if (!hex) return { sysResource: false, known: false };
  return { sysResource: ((BigInt(`0x${hex}`) >> CAP_SYS_RESOURCE) & 1n) === 1n, known: true };
}

/** "net.ipv4.ip_forward 644" / "... missing": which watched settings cannot be written here, and which are absent. */
export function parseSysctls(lines: string[]): Pick<HostFacts, 'readOnlySysctls' | 'missingSysctls'> {
  const readOnlySysctls: string[] = [];
  const missingSysctls: string[] = [];
  for (const l of lines) {
    const [key, mode] = l.split(/\s+/);
    if (!key || !mode) continue;
    if (mode === 'missing') missingSysctls.push(key);
    else if ((parseInt(mode, 8) & 0o200) === 0) readOnlySysctls.push(key);
  }
  return { readOnlySysctls, missingSysctls };
}

export interface PreflightFindings {
  facts: HostFacts;
  /** Problems that stop the bring-up (unless the policy turns memory into a warning). */
  errors: string[];
  memoryShort?: string;
  notes: string[];
  /** The planned address is not on any interface of the host: a configuration error. */
  addressMissing?: string;
}

/** The host as preflight sees it: its name, its planned address and its roles. */
export interface ProbedHost {
  name: string;
  address: string;
  roles: readonly Role[];
}

export function evaluateProbe(host: ProbedHost, out: string): PreflightFindings {
  const s = parseSections(out);
  const [osName = 'unknown', arch = 'unknown'] = (s.uname?.[0] ?? '').split(/\s+/);
  const memKiB = Number(/(\d+)/.exec(s.mem?.[0] ?? '')?.[1] ?? 0);
  const memoryMiB = Math.floor(memKiB / 1024);
  const addrs = parseAddresses(s.addr ?? []);
  const route = parseDefaultRoute(s.route ?? []);
  const infra = addrs.find((a) => a.address === host.address);
  const defaultAddr = route ? addrs.find((a) => a.name === route.dev) : undefined;
  const commands = new Set(s.commands ?? []);
  const errors: string[] = [];
  const notes: string[] = [];

  const facts: HostFacts = {
    os: `${s.os?.[0] ?? 'unknown'} (${osName})`,
    arch,
    memoryMiB,
    infraInterface: infra?.name ?? '',
    defaultRouteInterface: route?.dev,
    defaultRouteAddress: defaultAddr?.address,
    defaultNicIsNotInfra: !!route && !!infra && route.dev !== infra.name,
    cgroup: parseCgroups(s.cgroup ?? []),
    capabilities: parseCapabilities(s.capeff ?? []),
    swapDevices: Number(s.swap?.[0] ?? 0),
    modules: { overlay: (s.modules ?? []).includes('overlay'), brNetfilter: (s.modules ?? []).includes('br_netfilter') },
    ...parseSysctls(s.sysctl ?? []),
  };

  let addressMissing: string | undefined;
  if (!infra) {
    const seen = addrs
      .filter((a) => a.name !== 'lo')
      .map((a) => `${a.name} ${a.address}/${a.prefix}`)
      .join(', ');
    addressMissing =
      `the planned address ${host.address} is not on any interface of ${host.name} (it has: ${seen || 'none'}). ` +
      `Fix hosts[].address of ${host.name} in the cluster file to the address of its infrastructure NIC.`;
  }
  if (osName !== 'Linux') errors.push(`${host.name} runs ${osName}; hardway supports Linux hosts only.`);
  if (!['x86_64', 'aarch64'].includes(arch)) errors.push(`${host.name} is ${arch}; hardway supports x86_64 and aarch64.`);
  for (const anyOf of requiredCommands(host.roles)) {
    if (!anyOf.some((c) => commands.has(c))) {
      errors.push(`${host.name} lacks the command ${anyOf.join(' or ')}; install it and run up again.`);
    }
  }
  const required = requiredMemoryMiB(host.roles);
  let memoryShort: string | undefined;
  if (memoryMiB < required * MEMORY_TOLERANCE) {
    memoryShort = `${host.name} has ${memoryMiB} MiB of memory; its roles (${host.roles.join(', ')}) need ${required} MiB.`;
  }
  if (facts.defaultNicIsNotInfra) {
    notes.push(
      `default route leaves through ${route!.dev}${defaultAddr ? ` (${defaultAddr.address})` : ''}, not the ` +
        `infrastructure NIC ${infra!.name} (${host.address}): every service binds and advertises on ${host.address}`,
    );
  }
  if (runsKubelet(host.roles)) notes.push(...nodeLimitNotes(facts));
  return { facts, errors, memoryShort, notes, addressMissing };
}

/** What a Kubernetes node on this host has to be configured around: facts, said once, in preflight. */
function nodeLimitNotes(f: HostFacts): string[] {
  const notes: string[] = [];
  if (f.cgroup.version === 1) {
    notes.push(`cgroup v1${f.cgroup.hybrid ? ' (with a unified hierarchy beside it)' : ''}: a kubelet 1.35+ needs failCgroupV1: false`);
  }
  if (f.swapDevices > 0) {
    notes.push(`swap is on (${f.swapDevices} device(s)): the kubelet runs with failSwapOn: false and gives pods no swap (NoSwap)`);
  }
  const missing = [...(f.modules.overlay ? [] : ['overlay']), ...(f.modules.brNetfilter ? [] : ['br_netfilter'])];
  if (missing.length) notes.push(`kernel modules not loaded yet: ${missing.join(', ')} (the runtime phase loads them)`);
  if (f.capabilities.known && !f.capabilities.sysResource) {
    notes.push('no CAP_SYS_RESOURCE: OOM scores cannot be lowered (containerd needs restrict_oom_score_adj)');
  }
  if (f.readOnlySysctls.length) {
    notes.push(
      `read-only here (a network namespace or container): ${f.readOnlySysctls.join(', ')}` +
        (f.readOnlySysctls.includes('net.netfilter.nf_conntrack_max') ? ' (kube-proxy needs conntrack.maxPerCore: 0)' : ''),
    );
  }
  return notes;
}
