// Bringing a lab up (idempotent: converges whatever exists towards the spec; repairs a half-made lab).
import { access, constants, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ClusterSpec } from '../model/types.js';
import { cgroupBases, cgroupHierarchies, cgroupLayout, ensureCgroup, type CgroupLayout } from './cgroups.js';
import { labClusterSpec, labNetwork, writeClusterFile } from './clusterfile.js';
import { teardownHost, teardownState } from './down.js';
import { initInHostNamespaces, liveInit, startInit } from './init.js';
import { acquireLabLock } from './lock.js';
import { desiredMirror, mirrorRunning, startMirror, stopMirror, type MirrorOptions } from './mirror.js';
import { hostMountsComplete, setupHostMounts } from './mounts.js';
import { compiledSystemctl } from './systemctl-app.js';
import { ensureKernelLimits } from './kernel-limits.js';
import {
  boundNamespaceInode,
  createHostNamespaces,
  ensureNetns,
  ensurePrivateNsDir,
  hostNamespaceInodes,
  hostNamespacesExist,
  netnsExists,
  netnsPath,
} from './namespaces.js';
import { bridgeFirewallRules, ensureBridge, ensureHostLinks, ensureIptablesRule, interfaceHolding, linkExists } from './network.js';
import { ensureHostDirs } from './hostfs.js';
import { ensureKeyPair, knownHostsText, publicKey, writeIfChanged } from './keys.js';
import {
  binariesDir,
  bridgeName,
  checkName,
  hostCgroup,
  hostRoot,
  labCgroup,
  labFiles,
  labId,
  netnsName,
  nsFiles,
  systemctlScript,
  vethName,
} from './paths.js';
import { killProcessesInNamespaces } from './processes.js';
import { ensureSshd, HOST_ENV, hostKeyPub, SSHD, SSHD_PIDFILE } from './sshd.js';
import { loadState, saveState, type LabHostState, type LabState } from './state.js';
import { assertLabSupported } from './support.js';

export interface LabUpOptions {
  dir: string;
  spec: ClusterSpec;
  log?: (line: string) => void;
  /** The binary mirror on the bridge address (default: the cache's mirror/ directory on port 8088). */
  mirror?: MirrorOptions;
  /** How long to wait for another `lab up`/`lab down` on the same directory (default 5 minutes). */
  lockTimeoutMs?: number;
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

function desiredState(dir: string, spec: ClusterSpec, hierarchies: string[]): LabState {
  checkName('cluster', spec.name);
  const id = labId(dir);
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
      netns: netnsName(id, spec.name, h.name),
      veth: vethName(id, h.name),
      mntNs: ns.mnt,
      utsNs: ns.uts,
      root: hostRoot(dir, h.name),
      cgroup: hostCgroup(id, h.name),
    };
  });
  return {
    version: 2,
    id,
    dir,
    cluster: spec.name,
    network: net.cidr,
    bridge: { name: bridgeName(id), address: net.gateway, prefix: net.prefix },
    iptables: [],
    hosts,
    cgroup: { path: labCgroup(id), hierarchies },
    identityFile: files.identity,
    knownHostsFile: files.knownHosts,
    clusterFile: files.clusterFile,
  };
}

export async function labUp(o: LabUpOptions): Promise<LabState> {
  assertLabSupported();
  const log = o.log ?? (() => undefined);
  const dir = resolve(o.dir);
  const hierarchies = await cgroupHierarchies();
  const want = desiredState(dir, o.spec, await cgroupBases(hierarchies));
  await checkTools();
  const mirror = await desiredMirror(want, o.mirror);
  const release = await acquireLabLock(dir, 'up', { log, timeoutMs: o.lockTimeoutMs });
  try {
    return await up(o.spec, want, { layout: await cgroupLayout(hierarchies), mirror, log });
  } finally {
    await release();
  }
}

interface UpContext {
  layout: CgroupLayout;
  mirror: LabState['mirror'];
  log: (line: string) => void;
}

async function up(inputSpec: ClusterSpec, want: LabState, ctx: UpContext): Promise<LabState> {
  const { log } = ctx;
  const dir = want.dir;
  const files = labFiles(dir);

  // Converge from what an earlier `lab up` in this DIR made.
  let prior = await loadState(dir);
  if (prior && (prior.cluster !== want.cluster || prior.network !== want.network || prior.bridge.name !== want.bridge.name)) {
    log(
      prior.id
        ? `lab in ${dir} was for cluster ${prior.cluster} (${prior.network}): removing it first`
        : `lab in ${dir} was made by an earlier hardway (no lab id, PID or cgroup namespaces): removing it first`,
    );
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

  // Refuse to adopt kernel objects that this DIR's state does not record (a leftover, or something else).
  for (const h of want.hosts) {
    if (!ours(h.netns) && (await netnsExists(h.netns))) {
      throw new Error(
        `lab: network namespace ${h.netns} already exists but ${files.state} does not record it (a leftover of a lab in ${dir}?). Remove it with \`ip netns delete ${h.netns}\` if so.`,
      );
    }
  }
  if (!prior && (await linkExists(want.bridge.name))) {
    throw new Error(
      `lab: bridge ${want.bridge.name} already exists but ${files.state} does not record it (a leftover of a lab in ${dir}?).`,
    );
  }
  const holder = await interfaceHolding(want.bridge.address);
  if (holder && holder !== want.bridge.name) {
    throw new Error(
      `lab: ${want.bridge.address} (first address of ${want.network}) is already on interface ${holder}; choose another infrastructure network.`,
    );
  }

  // Record everything before creating it (the inits and the mirror as they run now, to be replaced below).
  want.iptables = await bridgeFirewallRules(want.bridge.name);
  const recorded: LabState = {
    ...want,
    iptables: [...(prior?.iptables ?? [])],
    hosts: want.hosts.map((h) => {
      const init = prior?.hosts.find((p) => p.netns === h.netns)?.init;
      return init === undefined ? h : { ...h, init };
    }),
    cgroup: { path: want.cgroup.path, hierarchies: [...new Set([...(prior?.cgroup.hierarchies ?? []), ...want.cgroup.hierarchies])] },
    ...(prior?.mirror ? { mirror: prior.mirror } : {}),
  };
  for (const r of want.iptables) if (!recorded.iptables.some((x) => x.join('\0') === r.join('\0'))) recorded.iptables.push(r);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await saveState(recorded);

  await ensureKeyPair(files.identity, 'hardway-lab');
  const clientKey = await publicKey(files.identityPub);
  await ensurePrivateNsDir(files.nsDir);
  await mkdir(files.hostsDir, { recursive: true, mode: 0o755 });

  for (const c of await ensureKernelLimits(recorded.hosts.length)) log(`raised ${c} (the lab's hosts share this kernel)`);
  await ensureBridge(recorded);
  for (const rule of recorded.iptables) await ensureIptablesRule(rule);
  await ensureCgroup(recorded.cgroup.hierarchies, recorded.cgroup.path); // before the hosts' cgroups, which copy its cpuset

  const results = await Promise.allSettled(recorded.hosts.map((h) => upHost(recorded, h, clientKey, files.nsDir, ctx)));
  await saveState(recorded); // the inits that run now
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${recorded.hosts[i]!.name}: ${(r.reason as Error).message ?? String(r.reason)}`] : [],
  );
  if (failed.length) throw new Error(`lab up failed (run it again to repair, or \`lab down\`):\n${failed.join('\n')}`);

  await convergeMirror(recorded, ctx);

  const entries = [];
  for (const h of recorded.hosts) entries.push({ name: h.name, address: h.address, key: await publicKey(hostKeyPub(h)) });
  if (await writeIfChanged(files.knownHosts, knownHostsText(entries), 0o644)) log(`wrote ${files.knownHosts}`);
  const spec = await labClusterSpec(inputSpec, {
    network: labNetwork(inputSpec),
    identityFile: files.identity,
    knownHostsFile: files.knownHosts,
    binariesDir: binariesDir(),
    ...(recorded.mirror?.pid ? { mirror: { url: recorded.mirror.url, directory: recorded.mirror.directory } } : {}),
  });
  if (await writeClusterFile(files.clusterFile, spec)) log(`wrote ${files.clusterFile}`);
  return recorded;
}

/** Keeps a running mirror that serves what it should; otherwise stops it and starts the one wanted (if any). */
async function convergeMirror(s: LabState, ctx: UpContext): Promise<void> {
  const want = ctx.mirror;
  const running = s.mirror && (await mirrorRunning(s.mirror)) ? s.mirror : undefined;
  const same = (a: LabState['mirror'], b: LabState['mirror']) =>
    !!a && !!b && a.url === b.url && a.address === b.address && a.port === b.port && a.directory === b.directory;
  if (running && same(running, want)) return;
  if (running) {
    await stopMirror(running);
    ctx.log(`mirror on ${running.url} stopped`);
  }
  if (!want) {
    if (s.mirror) {
      delete s.mirror;
      await saveState(s);
    }
    return;
  }
  s.mirror = { ...want };
  await saveState(s);
  s.mirror.pid = await startMirror(s.dir, want);
  await saveState(s);
  ctx.log(`mirror: serving ${want.directory} on ${want.url} (pid ${s.mirror.pid})`);
}

async function upHost(s: LabState, h: LabHostState, clientKey: string, nsDir: string, ctx: UpContext): Promise<void> {
  const { log } = ctx;
  const { seeded } = await ensureHostDirs(h.root, h.name);
  if (seeded) log(`${h.name}: seeded ${h.root}`);
  const newNet = await ensureNetns(h.netns);
  if (newNet) log(`${h.name}: network namespace ${h.netns}`);
  await ensureHostLinks(s, h);
  if (await ensureCgroup(s.cgroup.hierarchies, h.cgroup))
    log(`${h.name}: cgroup ${h.cgroup} in ${s.cgroup.hierarchies.length} hierarchies`);

  let init = await liveInit(s, h);
  const healthy =
    !newNet &&
    init !== undefined &&
    (await hostNamespacesExist(h)) &&
    (await initInHostNamespaces(init, {
      net: await boundNamespaceInode(netnsPath(h.netns)),
      mnt: await boundNamespaceInode(h.mntNs),
    })) &&
    (await hostMountsComplete(s, h, init, ctx.layout));
  if (!healthy || init === undefined) {
    // Missing or half-made: start the host over (ending anything left inside it: killing its init ends its PID namespace).
    const stale = await hostNamespaceInodes(h, init);
    await killProcessesInNamespaces(stale);
    await createHostNamespaces(h);
    await setupHostMounts(h, { nsDir, systemctl: await compiledSystemctl(systemctlScript()) });
    await rm(join(h.root, SSHD_PIDFILE), { force: true });
    init = await startInit(s, h, ctx.layout, HOST_ENV);
    log(
      `${h.name}: hostname, mount namespace (own /etc /var /opt /usr/local/bin /usr/local/sbin /run /root /tmp), systemctl, PID and cgroup namespaces (init pid ${init})`,
    );
  }
  h.init = init;
  const sshd = await ensureSshd(s, h, init, clientKey);
  if (sshd !== 'running') log(`${h.name}: sshd ${sshd} on ${h.address}:22`);
}
