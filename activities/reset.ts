// reset/host: one host back to its state before hardway (`hardway reset`, and the cleaning of a removed worker), from
// its footprint (model/footprint.ts): what hardway put there. In this order:
//   1. the kubelet stopped and disabled, so that it restarts no pod;
//   2. every containerd task killed and deleted, then every container, in every namespace, by id through ctr (never
//      a process by name: on a shared machine another host's processes may have the same names);
//   3. the other services stopped and disabled, node agents first, etcd last;
//   4. the mounts below the footprint's mount prefixes unmounted, deepest first (pod volumes, root file systems, the
//      pods' network namespaces), as /proc/self/mountinfo lists them on the host;
//   5. cni0 and flannel.1 deleted; the iptables and ip6tables chains of kube-proxy, flannel and the CNI plugins
//      removed with every rule that jumps to them (iptables-save, filtered, restored: only the tables that had any);
//   6. files, binaries, unit files (then a daemon-reload), hardway's directories and its services' data (one that is
//      a mount point, a disk of its own for /var/lib/kubelet say, is emptied and stays); the files hardway had renamed
//      aside renamed back; the directories it may have made removed when nothing else is in them;
//   7. the cluster's block taken out of /etc/hosts, every other line kept.
// Every part looks first and changes only what is there: a second run, or a run on a host hardway never set up,
// changes nothing. A marked file someone else has replaced (haproxy.cfg, ~/.kube/config) stays, and so does the
// package service that runs on it. The report's notes say what stays (the CAs unless asked, live kernel settings until a reboot, ...).
//
// It removes exactly the paths the footprint names, on the host the target names, and nothing by wildcard outside the
// footprint's own patterns: it does not know, and need not know, how the host's file system is laid out.
import { shellQuote as q } from '../remote/exec.js';
import type { HostFootprint } from '../model/footprint.js';
import { removeHostsBlock } from '../render/hosts-file.js';
import { ConfigurationError, NotReady } from './errors.js';
import type { HostShell, HostShells } from './host-shell.js';
import { unitState } from './service.js';
import { runStep, type StepContext } from './step.js';
import type { ResetHostInput, StepReport } from './types.js';

const STOP_TIMEOUT_MS = 120_000;
/** ActiveState values of a unit that has a process (or is getting one). */
const RUNNING_STATES = ['active', 'activating', 'deactivating', 'reloading'];
const ENABLED_STATES = ['enabled', 'enabled-runtime'];

const under = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir.replace(/\/+$/, '')}/`);
const depth = (path: string): number => path.split('/').length;

/**
 * The marked files (model/footprint.ts) that are there but no longer hardway's: someone replaced them. Kept, and so is
 * a package's service that runs on one of them.
 */
async function foreignFiles(sh: HostShell, fp: HostFootprint): Promise<Set<string>> {
  const foreign = new Set<string>();
  for (const m of fp.markedFiles) {
    const text = (await sh.readFile(m.path))?.toString('utf8');
    if (text !== undefined && !(text.split('\n')[0] ?? '').startsWith(m.header)) foreign.add(m.path);
  }
  return foreign;
}

async function stopAndDisable(sh: HostShell, name: string, ctx: Pick<StepContext, 'changed'>): Promise<void> {
  const { enabled, active } = unitState((await sh.exec(`systemctl show ${q(name)}`, { allowExitCodes: [0, 1, 3, 4] })).stdout);
  if (RUNNING_STATES.includes(active)) {
    await sh.change(`systemctl stop ${q(name)}`, { timeoutMs: STOP_TIMEOUT_MS });
    ctx.changed(`stopped ${name}`);
  }
  if (ENABLED_STATES.includes(enabled)) {
    await sh.change(`systemctl disable ${q(name)}`);
    ctx.changed(`disabled ${name}`);
  }
}

/**
 * One read: every task and container of every containerd namespace, as "task <namespace> <id>" and "container
 * <namespace> <id>" lines. Nothing (exit 0) when ctr or the socket is not there; exit 3 when containerd does not answer.
 */
export function containerInventoryScript(ctr: string, socket: string): string {
  const c = `${q(ctr)} --address ${q(socket)}`;
  return (
    `[ -x ${q(ctr)} ] && [ -S ${q(socket)} ] || exit 0; ns=$(${c} namespaces ls -q) || exit 3; ` +
    `for n in $ns; do ${c} -n "$n" tasks ls -q | sed "s/^/task $n /"; ${c} -n "$n" containers ls -q | sed "s/^/container $n /"; done`
  );
}

/** The inventory's lines, grouped by namespace (in the order listed). */
export function parseContainerInventory(out: string): Map<string, { tasks: string[]; containers: string[] }> {
  const byNs = new Map<string, { tasks: string[]; containers: string[] }>();
  for (const line of out.split('\n')) {
    const [kind, ns, id] = line.trim().split(/\s+/);
    if (!ns || !id || (kind !== 'task' && kind !== 'container')) continue;
    const e = byNs.get(ns) ?? { tasks: [], containers: [] };
    byNs.set(ns, e);
    (kind === 'task' ? e.tasks : e.containers).push(id);
  }
  return byNs;
}

async function removeContainers(sh: HostShell, fp: HostFootprint, ctx: StepContext): Promise<void> {
  if (!fp.containers) return;
  const { ctr, socket } = fp.containers;
  const r = await sh.exec(containerInventoryScript(ctr, socket), { allowExitCodes: [0, 3], timeoutMs: 60_000 });
  if (r.code === 3) {
    ctx.notes.push(
      `containerd does not answer on ${socket} (${r.stderr.trim().split('\n').pop() ?? ''}): its containers, if any, were not removed`,
    );
    return;
  }
  const c = `${q(ctr)} --address ${q(socket)}`;
  for (const [ns, { tasks, containers }] of parseContainerInventory(r.stdout)) {
    if (tasks.length) {
      ctx.progress(`killing ${tasks.length} containerd tasks in ${ns}`);
      // --force: SIGKILL, wait for the task to exit, delete it.
      await sh.change(deleteEach(c, ns, 'tasks', '-f', tasks), {
        timeoutMs: STOP_TIMEOUT_MS,
        summary: `kill and delete ${tasks.length} containerd tasks in namespace ${ns}`,
      });
      ctx.changed(...tasks.map((t) => `killed and deleted task ${ns}/${t}`));
    }
    if (containers.length) {
      await sh.change(deleteEach(c, ns, 'containers', '', containers), {
        timeoutMs: STOP_TIMEOUT_MS,
        summary: `delete ${containers.length} containerd containers in namespace ${ns}`,
      });
      ctx.changed(...containers.map((x) => `deleted container ${ns}/${x}`));
    }
  }
}

/**
 * `ctr KIND delete` of each id, where a failure counts only while the id is still listed: a task or container may go
 * on its own meanwhile (a killed task's shim deletes it), and ctr then fails for that id alone.
 */
export function deleteEach(ctr: string, ns: string, kind: 'tasks' | 'containers', flags: string, ids: readonly string[]): string {
  const n = `${ctr} -n ${q(ns)} ${kind}`;
  return (
    `rc=0; for id in ${ids.map(q).join(' ')}; do ${n} delete${flags ? ` ${flags}` : ''} "$id" >/dev/null 2>&1 || ` +
    `{ ${n} ls -q | grep -qxF "$id" && { echo "${kind} $id in ${ns}: not deleted" >&2; rc=1; }; }; done; exit $rc`
  );
}

/** A mount point of /proc/self/mountinfo (its fifth field), with the kernel's octal escapes undone. */
export function mountPoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\([0-7]{3})/g, (_x, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/** The mounts to take down: below one of `prefixes`, deepest first, and of one mount point the latest first. */
export function mountsToUnmount(mountinfo: string, prefixes: readonly string[]): string[] {
  const listed = mountPoints(mountinfo);
  return listed
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => prefixes.some((p) => m.startsWith(p)))
    .sort((a, b) => depth(b.m) - depth(a.m) || b.i - a.i)
    .map(({ m }) => m);
}

async function unmount(sh: HostShell, fp: HostFootprint, ctx: StepContext): Promise<void> {
  if (fp.mountPrefixes.length === 0) return;
  const { stdout } = await sh.exec('cat /proc/self/mountinfo');
  for (const m of mountsToUnmount(stdout, fp.mountPrefixes)) {
    await sh.change(`umount ${q(m)}`, { timeoutMs: 60_000 });
    ctx.changed(`unmounted ${m}`);
  }
}

/** The names of `ip -o link show`'s devices ("3: eth1@if4: <...>" is eth1). */
export function linkNames(out: string): string[] {
  return out
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n);
}

async function deleteInterfaces(sh: HostShell, fp: HostFootprint, ctx: StepContext): Promise<void> {
  if (fp.interfaces.length === 0) return;
  const r = await sh.exec('ip -o link show', { allowExitCodes: [0, 127] });
  if (r.code !== 0) return; // no iproute2: no device of hardway's either
  const present = new Set(linkNames(r.stdout));
  for (const dev of fp.interfaces.filter((d) => present.has(d))) {
    await sh.change(`ip link delete ${q(dev)}`);
    ctx.changed(`deleted network device ${dev}`);
  }
}

/**
 * iptables-save's output without the chains whose names begin with one of `prefixes`, nor any rule that jumps (-j) or
 * goes (-g) to one: only the tables that had any, each whole (iptables-restore replaces each table it is given).
 */
export function withoutChains(
  save: string,
  prefixes: readonly string[],
): { restore: string; chains: string[]; rules: number; tables: string[] } {
  const ours = (name: string | undefined) => !!name && prefixes.some((p) => name.startsWith(p));
  const chains: string[] = [];
  const tables: string[] = [];
  let rules = 0;
  const out: string[] = [];
  let table: { name: string; lines: string[]; changed: boolean } | undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) {
      table = { name: line.slice(1).trim(), lines: [line], changed: false };
      continue;
    }
    if (!table) continue; // comments before the first table
    if (line.startsWith(':')) {
      const name = line.slice(1).split(/\s+/)[0];
      if (ours(name)) {
        chains.push(`${table.name}/${name}`);
        table.changed = true;
        continue;
      }
    } else if (line.startsWith('-A ')) {
      const w = line.split(/\s+/);
      const target = w.findIndex((x) => x === '-j' || x === '-g');
      if (ours(w[1]) || (target > 0 && ours(w[target + 1]))) {
        if (!ours(w[1])) rules++;
        table.changed = true;
        continue;
      }
    }
    table.lines.push(line);
    if (line === 'COMMIT') {
      if (table.changed) {
        tables.push(table.name);
        out.push(...table.lines);
      }
      table = undefined;
    }
  }
  return { restore: out.length ? `${out.join('\n')}\n` : '', chains, rules, tables };
}

async function removeChains(sh: HostShell, fp: HostFootprint, ctx: StepContext): Promise<void> {
  if (fp.iptablesChainPrefixes.length === 0) return;
  for (const bin of ['iptables', 'ip6tables']) {
    const saved = await sh.exec(`${bin}-save`, { allowExitCodes: [0, 127] });
    if (saved.code !== 0) continue; // not installed: nothing can have made chains with it
    const { restore, chains, rules, tables } = withoutChains(saved.stdout, fp.iptablesChainPrefixes);
    if (!restore) continue;
    await sh.change(`${bin}-restore -w 5`, {
      input: restore,
      timeoutMs: 60_000,
      summary: `${bin}-restore ${tables.join(', ')} without the chains ${fp.iptablesChainPrefixes.map((p) => `${p}*`).join(', ')}`,
    });
    ctx.changed(
      `removed ${chains.length} ${bin} chains (${fp.iptablesChainPrefixes.map((p) => `${p}*`).join(', ')})` +
        `${rules ? ` and ${rules} rules that jump to them` : ''} from ${tables.join(', ')}`,
    );
  }
}

/** Shell patterns of the footprint: paths with `*` only, expanded by the host's shell. */
const SAFE_PATTERN = /^\/[A-Za-z0-9/._*-]+$/;

/** One read: which of `paths` exist ("f <path>" or "d <path>"), and every match of `patterns`. */
export function existingScript(paths: readonly string[], patterns: readonly string[]): string {
  const bad = patterns.find((p) => !SAFE_PATTERN.test(p));
  if (bad !== undefined) throw new ConfigurationError(`the footprint's pattern ${JSON.stringify(bad)} is not a plain path pattern`);
  return (
    `for p in ${[...paths.map(q), ...patterns].join(' ')}; do ` +
    'if [ -d "$p" ] && [ ! -L "$p" ]; then echo "d $p"; elif [ -e "$p" ] || [ -L "$p" ]; then echo "f $p"; fi; done'
  );
}

/** One read: the entries of each directory of `dirs` that exists, after a "@@dir <path>" line. */
export function listingScript(dirs: readonly string[]): string {
  return `for d in ${dirs.map(q).join(' ')}; do if [ -d "$d" ]; then echo "@@dir $d"; ls -A1 -- "$d"; fi; done`;
}

export function parseListing(out: string): Map<string, string[]> {
  const dirs = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('@@dir ')) dirs.set(line.slice('@@dir '.length), (cur = []));
    else if (line && cur) cur.push(line);
  }
  return dirs;
}

/** A path a reset may remove: absolute, normalised, and below a top-level directory (never "/" or "/etc" itself). */
function checkRemovable(path: string): void {
  const parts = path.split('/');
  if (!path.startsWith('/') || parts.length < 3 || parts.slice(1).some((p) => p === '' || p === '.' || p === '..')) {
    throw new ConfigurationError(`the footprint names ${JSON.stringify(path)}, which a reset does not remove`);
  }
}

async function removeFiles(sh: HostShell, fp: HostFootprint, foreign: Set<string>, ctx: StepContext): Promise<void> {
  const units = fp.services.flatMap((s) => (s.unitPath ? [s.unitPath] : []));
  const withLeftovers = (ps: readonly string[]) => ps.flatMap((p) => [p, `${p}${fp.leftoverSuffix}`]);
  const marked = fp.markedFiles.map((m) => m.path);
  const candidates = [
    ...new Set([
      ...withLeftovers([...fp.binaries, ...fp.files, ...units]),
      ...fp.markedFiles.map((m) => `${m.path}${fp.leftoverSuffix}`),
      ...marked,
      ...fp.markedFiles.map((m) => `${m.path}${fp.earlierCopySuffix}`),
      ...fp.directories,
      ...fp.emptyDirectories,
      ...fp.kept.flatMap((k) => k.paths ?? []),
    ]),
  ];
  const patterns = [...fp.patterns, ...fp.renamedAside.map((r) => `${r.dir}/*${r.suffix}`)];
  for (const p of [...candidates, ...patterns]) checkRemovable(p);
  const listed = (await sh.exec(existingScript(candidates, patterns))).stdout;
  const found = new Map<string, 'f' | 'd'>();
  for (const line of listed.split('\n')) {
    const m = /^([fd]) (.+)$/.exec(line);
    if (m) found.set(m[2]!, m[1] as 'f' | 'd');
  }
  const exists = (p: string) => found.has(p);
  const isAside = (p: string) =>
    fp.renamedAside.some((r) => p.startsWith(`${r.dir}/`) && p.endsWith(r.suffix) && !p.slice(r.dir.length + 1).includes('/'));

  // Files hardway renamed aside come back under their names, unless a file has that name again.
  const renamed: [from: string, to: string][] = [];
  for (const { dir, suffix } of fp.renamedAside) {
    for (const p of found.keys()) {
      if (!p.startsWith(`${dir}/`) || !p.endsWith(suffix) || p.slice(dir.length + 1).includes('/') || candidates.includes(p)) continue;
      const to = p.slice(0, -suffix.length);
      const taken = await sh.exec(`[ -e ${q(to)} ] || [ -L ${q(to)} ]`, { allowExitCodes: [0, 1] });
      if (taken.code === 0) ctx.notes.push(`left ${p} renamed aside: ${to} exists`);
      else renamed.push([p, to]);
    }
  }

  // hardway's whole directories first; then each file, binary and unit that is not inside one of them.
  const keptPaths = new Set(fp.kept.flatMap((k) => k.paths ?? []));
  const dirs = fp.directories.filter(exists);
  const inDir = (p: string) => dirs.some((d) => under(p, d));
  const markedOurs = marked.filter((p) => exists(p) && !inDir(p) && !foreign.has(p));
  for (const m of fp.markedFiles.filter((x) => foreign.has(x.path))) {
    ctx.notes.push(`kept ${m.path}: it is not hardway’s any more (its first line is not "${m.header}…")`);
  }
  // The file that was there before hardway first replaced it comes back, unless someone has replaced hardway's since.
  const restored: [from: string, to: string][] = [];
  for (const m of fp.markedFiles) {
    const copy = `${m.path}${fp.earlierCopySuffix}`;
    if (!exists(copy)) continue;
    if (foreign.has(m.path)) ctx.notes.push(`kept ${copy} beside ${m.path}, which is not hardway’s any more`);
    else restored.push([copy, m.path]);
  }
  renamed.push(...restored);
  // What the footprint's own patterns matched (the host's shell expanded them).
  const matched = [...found.keys()].filter((p) => !candidates.includes(p) && !isAside(p));
  const single = [
    ...new Set([
      ...withLeftovers([...fp.files, ...fp.binaries, ...units]).filter(exists),
      ...fp.markedFiles.map((m) => `${m.path}${fp.leftoverSuffix}`).filter(exists),
      ...markedOurs,
      ...matched,
    ]),
  ].filter((p) => !inDir(p) && !keptPaths.has(p));
  // A directory that is a mount point (a disk of its own for /var/lib/kubelet, or a bind mount) cannot go: what is
  // in it goes, and it stays, empty (as kubeadm reset cleans it). Only one that holds something counts as a change.
  const mounted = new Set(mountPoints((await sh.exec('cat /proc/self/mountinfo')).stdout));
  const emptied: string[] = [];
  for (const d of dirs.filter((x) => mounted.has(x))) {
    const r = await sh.exec(`[ -z "$(ls -A ${q(d)})" ]`, { allowExitCodes: [0, 1] });
    if (r.code === 1) emptied.push(d);
    else ctx.notes.push(`kept ${d}/: a mount point (empty)`);
  }
  const gone = [...dirs.filter((d) => !mounted.has(d)), ...single];
  if (emptied.length) {
    await sh.change(`find ${emptied.map(q).join(' ')} -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +`, {
      timeoutMs: 10 * 60_000,
      summary: `empty ${emptied.join(', ')} (mount points: kept)`,
    });
    ctx.changed(...emptied.map((d) => `emptied ${d}/ (a mount point: kept)`));
  }

  // The directories that may hold others' files: removed when nothing but what goes now is in them, deepest first.
  const maybe = fp.emptyDirectories.filter((d) => found.get(d) === 'd');
  const listing = maybe.length ? parseListing((await sh.exec(listingScript(maybe))).stdout) : new Map<string, string[]>();
  const removedDirs: string[] = [];
  const leaving = (p: string) => gone.some((g) => under(p, g)) || removedDirs.includes(p) || renamed.some(([from]) => from === p);
  for (const d of [...maybe].sort((a, b) => depth(b) - depth(a))) {
    const left = (listing.get(d) ?? []).filter((e) => !leaving(`${d}/${e}`));
    if (left.length === 0 && !renamed.some(([, to]) => under(to, d))) removedDirs.push(d);
    // Said unless what stays is what the footprint keeps anyway (the CAs in /var/lib/hardway).
    else if (!left.every((e) => [...keptPaths].some((k) => under(k, `${d}/${e}`))))
      ctx.notes.push(`kept ${d}/: not empty (${left.slice(0, 5).join(', ')}${left.length > 5 ? ', …' : ''})`);
  }

  if (gone.length) {
    ctx.progress(`removing ${gone.length} paths`);
    await sh.change(`rm -rf -- ${gone.map(q).join(' ')}`, {
      timeoutMs: 10 * 60_000,
      summary: `remove ${gone.length} files and directories of hardway’s`,
    });
    ctx.changed(...dirs.filter((d) => !mounted.has(d)).map((d) => `removed ${d}/`), ...single.map((f) => `removed ${f}`));
  }
  for (const [from, to] of renamed) {
    await sh.change(`mv -f ${q(from)} ${q(to)}`);
    ctx.changed(
      restored.some(([f]) => f === from)
        ? `restored ${to} (the file there before hardway)`
        : `restored ${to} (hardway had renamed it aside)`,
    );
  }
  if (units.some((u) => gone.includes(u))) await sh.change('systemctl daemon-reload');
  if (removedDirs.length) {
    await sh.change(`rmdir -- ${removedDirs.map(q).join(' ')}`);
    ctx.changed(...removedDirs.map((d) => `removed ${d}/ (empty)`));
  }
  for (const k of fp.kept) {
    const there = (k.paths ?? []).filter(exists);
    if (there.length) ctx.notes.push(`kept ${k.what}: ${k.why}`);
  }
}

async function removeHostsBlockFrom(sh: HostShell, fp: HostFootprint, ctx: StepContext): Promise<void> {
  const { path, cluster } = fp.hostsBlock;
  const current = (await sh.readFile(path))?.toString('utf8');
  if (current === undefined) return;
  const next = removeHostsBlock(current, cluster);
  if (next === current) return;
  await sh.putFile(path, next, { mode: '0644', owner: 'root', group: 'root' });
  ctx.changed(`removed the block of cluster ${cluster} from ${path}`);
}

export function resetHostActivity(shells: HostShells) {
  return (input: ResetHostInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const fp = input.footprint;
      if (fp.host !== input.target.name) {
        throw new ConfigurationError(`the footprint of ${fp.host} was sent to ${input.target.name}`);
      }
      const sh = shells.shell(input.target);
      const foreign = await foreignFiles(sh, fp);
      const services = fp.services.filter((s) => {
        if (!s.config || !foreign.has(s.config)) return true;
        ctx.notes.push(`left ${s.name} as it is: it runs on ${s.config}, which is not hardway’s any more`);
        return false;
      });
      const [first, ...rest] = services;
      // The kubelet first: once it is down, nothing starts the pods again while their containers go.
      if (first?.name === 'kubelet') await stopAndDisable(sh, first.name, ctx);
      await removeContainers(sh, fp, ctx);
      for (const s of first?.name === 'kubelet' ? rest : services) await stopAndDisable(sh, s.name, ctx);
      await unmount(sh, fp, ctx);
      await deleteInterfaces(sh, fp, ctx);
      await removeChains(sh, fp, ctx);
      await removeFiles(sh, fp, foreign, ctx);
      await removeHostsBlockFrom(sh, fp, ctx);
      // What stays is worth saying where there was something of hardway's (this run or an earlier attempt of it).
      if (ctx.changes().length > 0) {
        for (const k of fp.kept.filter((x) => !x.paths)) ctx.notes.push(`kept ${k.what}: ${k.why}`);
      } else if (ctx.notes.length === 0) {
        ctx.notes.push('nothing of hardway’s on this host');
      }
    });
}
