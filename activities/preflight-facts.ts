// Pure: turns the output of the preflight probe into facts and findings. Tested without a host.
import type { Role } from '../model/types.js';
import type { HostFacts } from './types.js';

/** One round trip: everything preflight needs to know about a host, in sections. */
export const PROBE_SCRIPT = [
  'echo "@@uname"; uname -s -m',
  'echo "@@os"; (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || echo unknown',
  'echo "@@mem"; grep MemTotal /proc/meminfo',
  'echo "@@addr"; ip -o -4 addr show',
  'echo "@@route"; ip -4 route show default',
  `echo "@@commands"; for c in ${[
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
    'systemctl',
    'curl',
    'haproxy',
    'apt-get',
    'dnf',
    'yum',
  ].join(' ')}; do command -v "$c" >/dev/null 2>&1 && echo "$c"; done`,
  'true',
].join('; ');

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
  if (roles.includes('etcd')) need.push(['tar']);
  if (roles.includes('loadbalancer')) need.push(['haproxy', 'apt-get', 'dnf', 'yum']);
  return need;
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
  return { facts, errors, memoryShort, notes, addressMissing };
}
