// The lab's links: a bridge in the machine's namespace for the infrastructure network, and per host
//   eth1  veth into that bridge, with the host's infrastructure address
//   eth0  a dummy (or ifb) NIC with 10.0.2.15/24 and the default route via 10.0.2.2 (like Vagrant's NAT NIC): it
//         reaches nothing, so a tool that picks the first NIC or the default-route NIC picks wrongly, for real.
import { readFile } from 'node:fs/promises';
import { run, runOk } from './exec.js';
import type { LabHostState, LabState } from './state.js';

export const NAT_ADDRESS = '10.0.2.15';
export const NAT_PREFIX = 24;
export const NAT_GATEWAY = '10.0.2.2';

interface IpAddrInfo {
  ifname: string;
  operstate?: string;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

async function ipJson(argv: string[]): Promise<IpAddrInfo[]> {
  const r = await run(['ip', '-j', ...argv]);
  if (r.code !== 0 || !r.stdout.trim()) return [];
  return JSON.parse(r.stdout) as IpAddrInfo[];
}

export async function linkExists(name: string, netns?: string): Promise<boolean> {
  const pre = netns ? ['-n', netns] : [];
  return (await run(['ip', ...pre, 'link', 'show', 'dev', name])).code === 0;
}

async function hasAddress(dev: string, addr: string, prefix: number, netns?: string): Promise<boolean> {
  const pre = netns ? ['-n', netns] : [];
  const info = await ipJson([...pre, 'addr', 'show', 'dev', dev]);
  return info.some((i) => (i.addr_info ?? []).some((a) => a.family === 'inet' && a.local === addr && a.prefixlen === prefix));
}

/** Which interface of the machine already holds `addr`, if any. */
export async function interfaceHolding(addr: string): Promise<string | undefined> {
  const info = await ipJson(['addr', 'show']);
  return info.find((i) => (i.addr_info ?? []).some((a) => a.family === 'inet' && a.local === addr))?.ifname;
}

export async function ensureBridge(s: LabState): Promise<void> {
  const { name, address, prefix } = s.bridge;
  if (!(await linkExists(name))) await runOk(['ip', 'link', 'add', 'name', name, 'type', 'bridge']);
  if (!(await hasAddress(name, address, prefix))) await runOk(['ip', 'addr', 'add', `${address}/${prefix}`, 'dev', name]);
  await runOk(['ip', 'link', 'set', 'dev', name, 'up']);
}

export async function deleteLink(name: string): Promise<void> {
  if (await linkExists(name)) await runOk(['ip', 'link', 'delete', 'dev', name]);
}

/** With br_netfilter loaded, bridged frames traverse iptables FORWARD: make sure lab traffic is accepted. */
export async function bridgeFirewallRules(bridge: string): Promise<string[][]> {
  let callIptables = '0';
  try {
    callIptables = (await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8')).trim();
  } catch {
    return []; // br_netfilter not loaded: bridged traffic does not see iptables
  }
  if (callIptables !== '1') return [];
  const usable = await run(['iptables', '-S', 'FORWARD']).then(
    (r) => r.code === 0,
    () => false,
  );
  if (!usable) return []; // no iptables command: nothing can filter the bridge from here
  return [['FORWARD', '-i', bridge, '-o', bridge, '-m', 'comment', '--comment', 'hardway lab', '-j', 'ACCEPT']];
}

export async function ensureIptablesRule(rule: string[]): Promise<void> {
  if ((await run(['iptables', '-C', ...rule])).code === 0) return;
  const [chain, ...rest] = rule;
  if (!chain) return;
  await runOk(['iptables', '-I', chain, '1', ...rest]);
}

export async function deleteIptablesRule(rule: string[]): Promise<void> {
  const present = () =>
    run(['iptables', '-C', ...rule]).then(
      (r) => r.code === 0,
      () => false,
    );
  while (await present()) await runOk(['iptables', '-D', ...rule]);
}

/** Links inside a host's network namespace (which must exist). */
export async function ensureHostLinks(s: LabState, h: LabHostState): Promise<void> {
  const ns = h.netns;
  const inNs = (argv: string[]) => runOk(['ip', '-n', ns, ...argv]);
  await inNs(['link', 'set', 'dev', 'lo', 'up']);

  // eth0: the NAT-like NIC that reaches nothing.
  if (!(await linkExists('eth0', ns))) {
    // A dummy NIC; kernels without the dummy driver get an ifb device, which equally drops all it is given.
    const dummy = await run(['ip', '-n', ns, 'link', 'add', 'name', 'eth0', 'type', 'dummy']);
    if (dummy.code !== 0) await inNs(['link', 'add', 'name', 'eth0', 'type', 'ifb']);
  }
  if (!(await hasAddress('eth0', NAT_ADDRESS, NAT_PREFIX, ns))) await inNs(['addr', 'add', `${NAT_ADDRESS}/${NAT_PREFIX}`, 'dev', 'eth0']);
  await inNs(['link', 'set', 'dev', 'eth0', 'up']);

  // eth1: veth into the bridge.
  const hostEnd = await linkExists('eth1', ns);
  const rootEnd = await linkExists(h.veth);
  if (!hostEnd || !rootEnd) {
    if (rootEnd) await runOk(['ip', 'link', 'delete', 'dev', h.veth]);
    if (hostEnd) await inNs(['link', 'delete', 'dev', 'eth1']);
    await runOk(['ip', 'link', 'add', 'name', h.veth, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns]);
  }
  await runOk(['ip', 'link', 'set', 'dev', h.veth, 'master', s.bridge.name]);
  await runOk(['ip', 'link', 'set', 'dev', h.veth, 'up']);
  if (!(await hasAddress('eth1', h.address, s.bridge.prefix, ns)))
    await inNs(['addr', 'add', `${h.address}/${s.bridge.prefix}`, 'dev', 'eth1']);
  await inNs(['link', 'set', 'dev', 'eth1', 'up']);

  // Default route via the NAT NIC, as on a Vagrant box.
  await inNs(['route', 'replace', 'default', 'via', NAT_GATEWAY, 'dev', 'eth0']);
}
