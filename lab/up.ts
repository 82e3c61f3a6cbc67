// Bringing a lab up (idempotent: converges whatever exists towards the spec; repairs a half-made lab).
import { access, constants, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ClusterSpec } from '../model/types.js';
import { labClusterSpec, labNetwork, writeClusterFile } from './clusterfile.js';
import { teardownHost, teardownState } from './down.js';
import { hostMountsComplete, setupHostMounts } from './mounts.js';
import {
  createHostNamespaces,
  ensureNetns,
  ensurePrivateNsDir,
  hostNamespaceInodes,
  hostNamespacesExist,
  netnsExists,
} from './namespaces.js';
import { bridgeFirewallRules, ensureBridge, ensureHostLinks, ensureIptablesRule, interfaceHolding, linkExists } from './network.js';
import { ensureHostDirs } from './hostfs.js';
import { ensureKeyPair, knownHostsText, publicKey, writeIfChanged } from './keys.js';
import { binariesDir, bridgeName, checkName, hostRoot, labFiles, netnsName, nsFiles, systemctlScript, vethName } from './paths.js';
import { killProcessesInNamespaces } from './processes.js';
import { ensureSshd, hostKeyPub, SSHD } from './sshd.js';
import { loadState, saveState, type LabHostState, type LabState } from './state.js';
import { assertLabSupported } from './support.js';

export interface LabUpOptions {
  dir: string;
  spec: ClusterSpec;
  log?: (line: string) => void;
}

const TOOLS = ['/usr/bin/unshare', '/usr/bin/nsenter', SSHD, '/usr/bin/ssh-keygen', '/usr/bin/python3'];

async function checkTools(): Promise<void> {
  const missing: string[] = [];
  for (const t of [...TOOLS, systemctlScript()]) {
    try {
      await access(t, constants.X_OK);
    } catch {
      missing.push(t);
    }
  }
  for (const t of ['ip', 'mount', 'umount', 'hostname', 'cp']) {
    if (
      !(await Promise.any(['/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((d) => access(`${d}/${t}`, constants.X_OK))).then(
        () => true,
        () => false,
      ))
    )
      missing.push(t);
  }
  if (missing.length) {
    throw new Error(
      `lab: missing ${missing.join(', ')}; run scripts/setup.sh (it installs openssh-server, iproute2, python3 and unpacks systemctl into the cache). Nothing was created.`,
    );
  }
}

function desiredState(dir: string, spec: ClusterSpec): LabState {
  checkName('cluster', spec.name);
  const net = labNetwork(spec);
  const files = labFiles(dir);
  const names = new Set<string>();
  const hosts: LabHostState[] = spec.hosts.map((h) => {
    checkName('host', h.name);
    if (names.has(h.name)) throw new Error(`lab: host name ${h.name} appears twice`);
    names.add(h.name);
    const ns = nsFiles(dir, h.name);
    return {
      name: h.name,
      address: h.address,
      netns: netnsName(spec.name, h.name),
      veth: vethName(spec.name, h.name),
      mntNs: ns.mnt,
      utsNs: ns.uts,
      root: hostRoot(dir, h.name),
    };
  });
  return {
    version: 1,
    dir,
    cluster: spec.name,
    network: net.cidr,
    bridge: { name: bridgeName(spec.name), address: net.gateway, prefix: net.prefix },
    iptables: [],
    hosts,
    identityFile: files.identity,
    knownHostsFile: files.knownHosts,
    clusterFile: files.clusterFile,
  };
}

export async function labUp(o: LabUpOptions): Promise<LabState> {
  assertLabSupported();
  const log = o.log ?? (() => undefined);
  const dir = resolve(o.dir);
  const want = desiredState(dir, o.spec);
  await checkTools();
  const files = labFiles(dir);

  // Converge from what an earlier `lab up` in this DIR made.
  let prior = await loadState(dir);
  if (prior && (prior.cluster !== want.cluster || prior.network !== want.network || prior.bridge.name !== want.bridge.name)) {
    log(`lab in ${dir} was for cluster ${prior.cluster} (${prior.network}): removing it first`);
    await teardownState(prior, log);
    prior = undefined;
  }
  if (prior) {
    for (const old of prior.hosts) {
      const now = want.hosts.find((h) => h.name === old.name);
      if (!now || now.address !== old.address || now.netns !== old.netns) {
        log(`${old.name}: no longer in the spec as it was: removing it`);
        await teardownHost(prior, old, log);
      }
    }
  }
  const ours = (netns: string) => prior?.hosts.some((h) => h.netns === netns) ?? false;

  // Refuse to adopt kernel objects that this DIR's state does not record (another lab, or something else).
  for (const h of want.hosts) {
    if (!ours(h.netns) && (await netnsExists(h.netns))) {
      throw new Error(
        `lab: network namespace ${h.netns} already exists but ${files.state} does not record it (another lab with cluster name ${want.cluster}?). Remove that lab, or \`ip netns delete ${h.netns}\` if it is a leftover.`,
      );
    }
  }
  if (!prior && (await linkExists(want.bridge.name))) {
    throw new Error(
      `lab: bridge ${want.bridge.name} already exists but ${files.state} does not record it (another lab with cluster name ${want.cluster}?).`,
    );
  }
  const holder = await interfaceHolding(want.bridge.address);
  if (holder && holder !== want.bridge.name) {
    throw new Error(
      `lab: ${want.bridge.address} (first address of ${want.network}) is already on interface ${holder}; choose another infrastructure network.`,
    );
  }

  // Record everything before creating it.
  want.iptables = await bridgeFirewallRules(want.bridge.name);
  const recorded: LabState = { ...want, iptables: [...(prior?.iptables ?? [])] };
  for (const r of want.iptables) if (!recorded.iptables.some((x) => x.join('\0') === r.join('\0'))) recorded.iptables.push(r);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await saveState(recorded);

  await ensureKeyPair(files.identity, 'hardway-lab');
  const clientKey = await publicKey(files.identityPub);
  await ensurePrivateNsDir(files.nsDir);
  await mkdir(files.hostsDir, { recursive: true, mode: 0o755 });

  await ensureBridge(recorded);
  for (const rule of recorded.iptables) await ensureIptablesRule(rule);

  const results = await Promise.allSettled(recorded.hosts.map((h) => upHost(recorded, h, clientKey, files.nsDir, log)));
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${recorded.hosts[i]!.name}: ${(r.reason as Error).message ?? String(r.reason)}`] : [],
  );
  if (failed.length) throw new Error(`lab up failed (run it again to repair, or \`lab down\`):\n${failed.join('\n')}`);

  const entries = [];
  for (const h of recorded.hosts) entries.push({ name: h.name, address: h.address, key: await publicKey(hostKeyPub(h)) });
  if (await writeIfChanged(files.knownHosts, knownHostsText(entries), 0o644)) log(`wrote ${files.knownHosts}`);
  const spec = await labClusterSpec(o.spec, {
    network: labNetwork(o.spec),
    identityFile: files.identity,
    knownHostsFile: files.knownHosts,
    binariesDir: binariesDir(),
  });
  if (await writeClusterFile(files.clusterFile, spec)) log(`wrote ${files.clusterFile}`);
  return recorded;
}

async function upHost(s: LabState, h: LabHostState, clientKey: string, nsDir: string, log: (l: string) => void): Promise<void> {
  const { seeded } = await ensureHostDirs(h.root, h.name);
  if (seeded) log(`${h.name}: seeded ${h.root}`);
  const newNet = await ensureNetns(h.netns);
  if (newNet) log(`${h.name}: network namespace ${h.netns}`);
  await ensureHostLinks(s, h);
  if (newNet || !(await hostNamespacesExist(h)) || !(await hostMountsComplete(h))) {
    // Missing or half-made: start the host's mount/UTS namespaces over (ending anything left inside them).
    const stale = await hostNamespaceInodes(h);
    await killProcessesInNamespaces(stale);
    await createHostNamespaces(h);
    await setupHostMounts(h, { nsDir, systemctl: systemctlScript() });
    log(`${h.name}: hostname, mount namespace (own /etc /var /opt /usr/local/bin /run /root /tmp), systemctl`);
  }
  const sshd = await ensureSshd(h, clientKey);
  if (sshd !== 'running') log(`${h.name}: sshd ${sshd} on ${h.address}:22`);
}
