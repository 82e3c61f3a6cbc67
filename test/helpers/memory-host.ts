// In-memory hosts for activity tests: a HostShell with files (content, mode, owner), a few directories, systemd
// services with start counters, and a small interpreter for exactly the commands the activities run. An unknown
// command throws, and so does a command sent through the wrong door (a change through exec(), a read through
// change()): a test never passes by accident, and a dry run can trust that exec() never changes a host.
//
// A MemoryLab holds several hosts (HostShells): etcdctl on one member asks the others, as the real one does. It also
// holds a tiny Kubernetes API (MemoryApiServer) that the hosts reach the way the real one is reached: curl and kubectl
// get an answer only from a kube-apiserver that runs on a control plane (directly, or behind the load balancer's
// haproxy) with etcd's quorum; kubectl authenticates with its kubeconfig's client certificate and is authorized by
// RBAC objects stored there. Node status, the CoreDNS Deployment's replicas and flanneld's lease follow from the
// services the hosts run (kubelet, containerd, controller manager, scheduler, flanneld).
import { createHash, X509Certificate } from 'node:crypto';
import { posix } from 'node:path';
import {
  fileAction,
  type ChangeOptions,
  type ExecOptions,
  type FileAction,
  type FileOptions,
  type HostShell,
  type HostShells,
} from '../../activities/host-shell.js';
import { NODE_PROBE_SCRIPT, PROBED_COMMANDS, PROBE_SCRIPT } from '../../activities/preflight-facts.js';
import { KERNEL_STATE_SCRIPT } from '../../activities/kernel.js';
import { containerInventoryScript } from '../../activities/reset.js';
import { CONTAINERD_BIN_DIR, CONTAINERD_ROOT_DIR, CONTAINERD_SOCKET } from '../../model/paths.js';
import type { HostTarget } from '../../activities/types.js';
import { cidrContains, formatIPv4, parseCidr } from '../../model/cidr.js';
import { CommandFailed, ConnectionFailed } from '../../remote/errors.js';
import type { ExecResult } from '../../remote/exec.js';
import { certificatePublicKeyPem, pemDigest } from '../../pki/openssl.js';
import { FIELD_MANAGER } from '../../render/cluster-objects.js';
import { memoryAuthority, memoryKeyPem, memoryRequest, memorySign, spkiPem } from './memory-openssl.js';

export interface MemoryFile {
  content: Buffer;
  mode: number;
  owner: string;
  group: string;
}

export interface MemoryService {
  enabled: boolean;
  active: boolean;
  /** `systemctl start` count. */
  starts: number;
  /** `systemctl restart` count. */
  restarts: number;
  /** `systemctl reload` count (absent until the first). */
  reloads?: number;
  /** `systemctl stop` count (absent until the first). */
  stops?: number;
  /** What the running process loaded at its last (re)start: its unit file and, for haproxy, its config. */
  running?: { unit?: string; config?: string };
}

export interface NetworkInterface {
  name: string;
  address: string;
  prefix: number;
}

export interface MemoryHostOptions {
  name: string;
  address: string;
  os?: string;
  arch?: string;
  memoryMiB?: number;
  /** Default: eth0 10.0.2.15/24 (the NAT NIC with the default route) and eth1 with the host's address. */
  interfaces?: NetworkInterface[];
  defaultRoute?: { via: string; dev: string };
  /** Commands the probe finds (haproxy is added when installed). Default: what a Debian host has. */
  commands?: string[];
  /** /etc/hosts as the OS made it. */
  etcHosts?: string;
  /** /etc/resolv.conf as the OS made it (default: the VirtualBox NAT's resolver); null: the host has none. */
  resolvConf?: string | null;
}

/** One entry of a host's log: what the activity asked, in order. */
export interface LogEntry {
  kind: 'exec' | 'change' | 'putFile' | 'checkFile' | 'readFile';
  what: string;
}

interface Handler {
  /** A regular expression, or the exact command. */
  pattern: RegExp | string;
  /** Does the command change the host? Then it must come through change(), else through exec(). */
  mutates: boolean;
  run(m: RegExpMatchArray, input: Buffer | undefined): ExecResult;
}

/** iptables-save's view of one family: table -> chains (name, policy: "-" for a user chain) and rules, in order. */
export type Netfilter = Record<string, { chains: [name: string, policy: string][]; rules: string[] }>;

const BUILT_IN_CHAINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
};

/** What a fresh host's firewall has: the operator's rule letting SSH in, and nothing else. */
function freshNetfilter(): Record<'iptables' | 'ip6tables', Netfilter> {
  const table = (name: string, rules: string[] = []) => ({
    chains: BUILT_IN_CHAINS[name]!.map((c) => [c, 'ACCEPT'] as [string, string]),
    rules,
  });
  return {
    iptables: { filter: table('filter', ['-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT']), nat: table('nat') },
    ip6tables: { filter: table('filter') },
  };
}

/** The glob `pattern` (only `*`, within one path segment) as a regular expression. */
const globRegExp = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);

const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
const fail = (code: number, stderr: string, stdout = ''): ExecResult => ({ code, stdout, stderr });
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Splits a simple command line into words: plain words and '...' quoting (with the '\'' idiom), as shellQuote writes them. */
export function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unbalanced quote in ${line}`);
      cur += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '\\' && line[i + 1] === "'") {
      cur += "'";
      i++;
      inWord = true;
    } else if (c === ' ') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** A flag's value in a unit's command line (`--name=value`). */
function flag(unit: string, name: string): string | undefined {
  return new RegExp(`(?:^|\\s)--${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}=(\\S+)`).exec(unit)?.[1];
}

/** What a fresh Debian host has of the commands preflight looks for: all but haproxy, dnf and yum. */
const DEBIAN_COMMANDS: string[] = PROBED_COMMANDS.filter((c) => !['haproxy', 'dnf', 'yum'].includes(c));

export class MemoryHost implements HostShell {
  readonly name: string;
  readonly address: string;
  readonly files = new Map<string, MemoryFile>();
  /** Directories hardway cares about, with their mode. */
  readonly dirs = new Map<string, number>();
  readonly services = new Map<string, MemoryService>();
  readonly log: LogEntry[] = [];
  daemonReloads = 0;
  os: string;
  arch: string;
  memoryMiB: number;
  interfaces: NetworkInterface[];
  defaultRoute: { via: string; dev: string } | undefined;
  commands: Set<string>;
  /** `haproxy -c` accepts a config when this says so (default: it has a frontend). */
  haproxyAccepts: (config: string) => boolean = (c) => c.includes('frontend ');
  /** Does the etcd on this host answer (when it runs)? */
  etcdAnswers = true;
  /** The lab this host is part of (etcdctl asks the other members; curl fetches from its `http`). */
  lab: MemoryLab | undefined;
  /** What the node probe finds: cgroup v1 (hybrid) or v2, systemd as PID 1, CAP_SYS_RESOURCE. */
  node = { cgroupV1: false, systemd: true, sysResource: true };
  /** Image references in containerd's k8s.io namespace. */
  readonly images = new Set<string>();
  /** containerd's containers by "<namespace>/<id>", with a running task or not (the pods that ran here). */
  readonly containers = new Map<string, { task: boolean }>();
  /** Mounts beyond the host's own (/, /proc, /sys, /run, /var), in mount order: pod volumes, root file systems, netns. */
  readonly mounts: string[] = [];
  /** Network devices beyond `interfaces` and flannel.1: the CNI bridge cni0 once a pod ran. */
  readonly links = new Set<string>();
  /** The firewall per family, as iptables-save prints it; kube-proxy, the kubelet and flanneld add their chains at start. */
  netfilter = freshNetfilter();
  /** flanneld's VXLAN device (flannel.1) once it has its lease: the address it sends from. */
  vxlan: { local: string } | undefined;
  /** Swap devices, kernel modules, and the node's kernel settings (value, writable here?). */
  kernel = {
    swapDevices: 0,
    modules: { overlay: true, br_netfilter: true } as Record<string, boolean>,
    sysctls: {
      'net.ipv4.ip_forward': { value: '0', writable: true },
      'net.bridge.bridge-nf-call-iptables': { value: '1', writable: true },
      'net.bridge.bridge-nf-call-ip6tables': { value: '1', writable: true },
    } as Record<string, { value: string; writable: boolean }>,
  };
  private readonly extra: Handler[] = [];

  constructor(o: MemoryHostOptions) {
    this.name = o.name;
    this.address = o.address;
    this.os = o.os ?? 'Debian GNU/Linux 12 (bookworm)';
    this.arch = o.arch ?? 'x86_64';
    this.memoryMiB = o.memoryMiB ?? 4096;
    this.interfaces = o.interfaces ?? [
      { name: 'eth0', address: '10.0.2.15', prefix: 24 },
      { name: 'eth1', address: o.address, prefix: 24 },
    ];
    this.defaultRoute = o.defaultRoute ?? { via: '10.0.2.2', dev: 'eth0' };
    this.commands = new Set(o.commands ?? DEBIAN_COMMANDS);
    this.write('/etc/hosts', o.etcHosts ?? `127.0.0.1\tlocalhost\n127.0.1.1\t${o.name}\n`, 0o644);
    if (o.resolvConf !== null) this.write('/etc/resolv.conf', o.resolvConf ?? 'nameserver 10.0.2.3\n', 0o644);
  }

  // ---- direct access for tests ----------------------------------------------------------------------------------

  /** Puts a file on the host as the OS (or an operator) would, without logging it. */
  write(path: string, content: string | Buffer, mode = 0o644, owner = 'root', group = 'root'): void {
    this.files.set(path, { content: Buffer.isBuffer(content) ? content : Buffer.from(content), mode, owner, group });
  }

  text(path: string): string | undefined {
    return this.files.get(path)?.content.toString('utf8');
  }

  service(name: string): MemoryService {
    let s = this.services.get(name);
    if (!s) this.services.set(name, (s = { enabled: false, active: false, starts: 0, restarts: 0 }));
    return s;
  }

  /** A programmable command: tried before the built-in ones. */
  handle(pattern: RegExp | string, mutates: boolean, run: (m: RegExpMatchArray, input: Buffer | undefined) => ExecResult): void {
    this.extra.unshift({ pattern, mutates, run });
  }

  /** A copy with the same state (files, directories, services, counters) and an empty log. */
  clone(): MemoryHost {
    const c = new MemoryHost({
      name: this.name,
      address: this.address,
      os: this.os,
      arch: this.arch,
      memoryMiB: this.memoryMiB,
      interfaces: this.interfaces.map((i) => ({ ...i })),
      commands: [...this.commands],
    });
    if (this.defaultRoute) c.defaultRoute = { ...this.defaultRoute };
    else c.defaultRoute = undefined;
    c.files.clear();
    for (const [p, f] of this.files) c.files.set(p, { ...f, content: Buffer.from(f.content) });
    for (const [p, m] of this.dirs) c.dirs.set(p, m);
    for (const [n, sv] of this.services) c.services.set(n, { ...sv, ...(sv.running ? { running: { ...sv.running } } : {}) });
    c.daemonReloads = this.daemonReloads;
    c.haproxyAccepts = this.haproxyAccepts;
    c.etcdAnswers = this.etcdAnswers;
    c.node = { ...this.node };
    c.kernel = structuredClone(this.kernel);
    for (const i of this.images) c.images.add(i);
    c.vxlan = this.vxlan ? { ...this.vxlan } : undefined;
    for (const [k, v] of this.containers) c.containers.set(k, { ...v });
    c.mounts.push(...this.mounts);
    for (const l of this.links) c.links.add(l);
    c.netfilter = structuredClone(this.netfilter);
    c.extra.push(...this.extra);
    return c;
  }

  /** Everything a change could touch, in a stable text form: equal snapshots mean an untouched host. */
  snapshot(): string {
    const files = [...this.files]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([p, f]) => `${p} ${sha256(f.content)} ${f.mode.toString(8)} ${f.owner}:${f.group}`);
    const dirs = [...this.dirs].sort(([a], [b]) => a.localeCompare(b)).map(([p, m]) => `${p}/ ${m.toString(8)}`);
    const services = [...this.services].sort(([a], [b]) => a.localeCompare(b)).map(([n, s]) => `${n} ${JSON.stringify(s)}`);
    const images = [...this.images].sort().map((i) => `image ${i}`);
    return [
      ...files,
      ...dirs,
      ...services,
      ...images,
      ...(this.vxlan ? [`flannel.1 local ${this.vxlan.local}`] : []),
      ...[...this.containers].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `container ${k}${v.task ? ' task' : ''}`),
      ...this.mounts.map((m) => `mount ${m}`),
      ...[...this.links].sort().map((l) => `link ${l}`),
      this.iptablesSave('iptables'),
      this.iptablesSave('ip6tables'),
      `daemon-reloads ${this.daemonReloads}`,
      `commands ${[...this.commands].sort().join(',')}`,
    ].join('\n');
  }

  /** The log's entries of one kind, e.g. every change() command. */
  logged(kind: LogEntry['kind']): string[] {
    return this.log.filter((e) => e.kind === kind).map((e) => e.what);
  }

  // ---- HostShell --------------------------------------------------------------------------------------------------

  /** The host is off the network: every call fails as SSH to an unreachable host does. */
  down = false;

  private reachable(): void {
    if (this.down) throw new ConnectionFailed(this.name, `connect ECONNREFUSED ${this.address}:22`, { code: 'ECONNREFUSED' });
  }

  async exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.reachable();
    this.log.push({ kind: 'exec', what: cmd });
    return this.run(cmd, false, opts.input, opts.allowExitCodes);
  }

  async change(cmd: string, opts: ChangeOptions = {}): Promise<void> {
    this.reachable();
    this.log.push({ kind: 'change', what: cmd });
    this.run(cmd, true, opts.input, opts.allowExitCodes);
  }

  async readFile(path: string): Promise<Buffer | null> {
    this.reachable();
    this.log.push({ kind: 'readFile', what: path });
    const f = this.files.get(path);
    return f ? Buffer.from(f.content) : null;
  }

  async checkFile(path: string, content: string | Buffer, opts: FileOptions): Promise<FileAction> {
    this.reachable();
    this.log.push({ kind: 'checkFile', what: path });
    return this.action(path, content, opts);
  }

  async putFile(path: string, content: string | Buffer, opts: FileOptions): Promise<{ changed: boolean }> {
    this.reachable();
    const action = this.action(path, content, opts);
    this.log.push({ kind: 'putFile', what: `${path} (${action})` });
    if (action === 'unchanged') return { changed: false };
    const f = this.files.get(path);
    const body = action === 'metadata' && f ? f.content : Buffer.isBuffer(content) ? content : Buffer.from(content);
    this.write(path, body, parseInt(opts.mode, 8), opts.owner ?? 'root', opts.group ?? 'root');
    return { changed: true };
  }

  private action(path: string, content: string | Buffer, opts: FileOptions): FileAction {
    const f = this.files.get(path);
    if (!f) return fileAction({ path, exists: false }, content, opts);
    return fileAction(
      { path, exists: true, sha256: sha256(f.content), mode: f.mode, owner: f.owner, group: f.group, type: 'regular file' },
      content,
      opts,
    );
  }

  // ---- the interpreter --------------------------------------------------------------------------------------------

  private run(cmd: string, viaChange: boolean, input: string | Buffer | undefined, allow: number[] = []): ExecResult {
    const buf = input === undefined ? undefined : Buffer.isBuffer(input) ? input : Buffer.from(input);
    for (const h of [...this.extra, ...this.handlers]) {
      const m =
        typeof h.pattern === 'string'
          ? cmd === h.pattern
            ? (Object.assign([cmd], { index: 0, input: cmd }) as RegExpMatchArray)
            : null
          : cmd.match(h.pattern);
      if (!m) continue;
      if (h.mutates && !viaChange) throw new Error(`${this.name}: a command that changes the host came through exec(): ${cmd}`);
      if (!h.mutates && viaChange) throw new Error(`${this.name}: a command that only reads came through change(): ${cmd}`);
      const r = h.run(m, buf);
      if (r.code !== 0 && !allow.includes(r.code)) {
        throw new CommandFailed(this.name, { command: cmd, exitCode: r.code, stderr: r.stderr, stdout: r.stdout });
      }
      return r;
    }
    throw new Error(`${this.name}: the memory host does not know this command: ${cmd}`);
  }

  private unitFile(name: string): string | undefined {
    return this.text(`/etc/systemd/system/${name}.service`) ?? this.text(`/lib/systemd/system/${name}.service`);
  }

  /** containerd answers when its service runs and its binary is there: the version its stamp records. */
  private containerdVersion(): string | undefined {
    if (!this.services.get('containerd')?.active || !this.files.has('/usr/local/bin/ctr')) return undefined;
    return this.text('/var/lib/hardway/releases/containerd')?.split(' ')[0]?.replace(/^v/, '');
  }

  /** A memory "image archive" is JSON: {"references": [...]}. */
  private importArchive(content: string | undefined): ExecResult {
    if (content === undefined) return fail(1, 'ctr: open archive: no such file or directory');
    if (!this.containerdVersion()) return fail(1, 'ctr: failed to dial "/run/containerd/containerd.sock": connection refused');
    let refs: string[];
    try {
      refs = (JSON.parse(content) as { references: string[] }).references;
    } catch {
      return fail(1, 'ctr: unrecognized image format');
    }
    for (const r of refs) this.images.add(r);
    return ok(refs.map((r) => `unpacking ${r} (sha256:...)...done\n`).join(''));
  }

  private readonly handlers: Handler[] = [
    { pattern: PROBE_SCRIPT, mutates: false, run: () => ok(this.probe()) },
    // pki/openssl.ts, done in memory (test/helpers/memory-openssl.ts).
    {
      pattern: /^if \[ -f (\S+) \]; then echo "key \$\(stat [\s\S]*?; if \[ -f (\S+) \]; then echo "cert [\s\S]*$/,
      mutates: false,
      run: (m) => {
        const key = this.text(words(m[1]!)[0]!);
        const cert = this.text(words(m[2]!)[0]!);
        const mode = this.files.get(words(m[1]!)[0]!)?.mode.toString(8);
        return ok(
          `${key ? `key ${mode} ${pemDigest(spkiPem(key))}` : 'key none'}\n` +
            `${cert ? `cert ${pemDigest(certificatePublicKeyPem(cert))}` : 'cert none'}\n`,
        );
      },
    },
    {
      pattern:
        /^\[ -f (\S+) \] \|\| \(umask 077 && mkdir -p \S+ && openssl genpkey (?:-algorithm RSA -pkeyopt rsa_keygen_bits:\d+|-algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve) -out \S+ 2>\/dev\/null && mv -f \S+ \S+\)$/,
      mutates: true,
      run: (m) => {
        const path = words(m[1]!)[0]!;
        if (!this.files.has(path)) this.write(path, memoryKeyPem(), 0o600);
        return ok();
      },
    },
    {
      pattern: /^echo '@@key [^']*'; if \[ -f [\s\S]*; fi$/,
      mutates: false,
      run: (m) => {
        let out = '';
        for (const part of m[0].split(/; (?=echo '@@key )/)) {
          const path = /^echo '@@key ([^']*)'/.exec(part)![1]!;
          const f = this.files.get(path);
          out += `@@key ${path}\n${f ? `${f.mode.toString(8)}\n${spkiPem(f.content.toString())}` : ''}`;
        }
        return ok(out);
      },
    },
    {
      pattern: /^openssl req -new -key (\S+) -subj ('[^']*'|\S+) -sha256 -utf8$/,
      mutates: false,
      run: (m) => {
        const key = this.text(words(m[1]!)[0]!);
        if (!key) return fail(1, `Could not open file or uri for loading private key from ${m[1]}`);
        return ok(memoryRequest(key, words(m[2]!)[0]!));
      },
    },
    {
      pattern:
        /^set -eu\nd=\$\(mktemp -d\)\ntrap [^\n]*\ncat > "\$d\/ext" <<'HARDWAY_EXT'\n([\s\S]*?)\nHARDWAY_EXT\ncat > "\$d\/req"\nopenssl x509 -req -in "\$d\/req" -CA (\S+) -CAkey (\S+) -set_serial 0x[0-9a-f]+ -days (\d+) -sha256 -extfile "\$d\/ext" -extensions v3$/,
      mutates: false,
      run: (m, input) => {
        const certPem = this.text(words(m[2]!)[0]!);
        const keyPem = this.text(words(m[3]!)[0]!);
        if (!certPem || !keyPem || !input) return fail(1, 'x509: missing CA certificate, CA key or request');
        return ok(memorySign(input.toString(), { certPem, keyPem }, Number(m[4]), m[1]!));
      },
    },
    {
      pattern:
        /^set -eu\nd=\$\(mktemp -d\)\ntrap [^\n]*\ncat > "\$d\/cnf" <<'HARDWAY_EXT'\n[\s\S]*?\nHARDWAY_EXT\nopenssl req -x509 -new -key (\S+) -subj ('[^']*'|\S+) -utf8 -days (\d+) -sha256 -set_serial 0x[0-9a-f]+ -config "\$d\/cnf" -extensions v3 -out \S+\nchmod 0644 \S+ && mv -f \S+ (\S+)$/,
      mutates: true,
      run: (m) => {
        const keyPem = this.text(words(m[1]!)[0]!);
        if (!keyPem) return fail(1, 'req: cannot load the key');
        this.write(words(m[4]!)[0]!, memoryAuthority(keyPem, words(m[2]!)[0]!, Number(m[3])), 0o644);
        return ok();
      },
    },
    {
      pattern: /^chmod 0600 (\S+)$/,
      mutates: true,
      run: (m) => {
        const f = this.files.get(words(m[1]!)[0]!);
        if (!f) return fail(1, `chmod: cannot access '${m[1]}': No such file or directory`);
        f.mode = 0o600;
        return ok();
      },
    },
    {
      pattern: NODE_PROBE_SCRIPT,
      mutates: false,
      run: () =>
        ok(
          [
            '@@cgroup',
            ...(this.node.cgroupV1 ? ['12:memory:/', '1:name=systemd:/', '0::/'] : ['0::/']),
            '@@capeff',
            `CapEff:\t${this.node.sysResource ? '000001ffffffffff' : '000001fffeffffff'}`,
            '@@init',
            this.node.systemd ? 'systemd' : 'other',
            '@@swap',
            String(this.kernel.swapDevices),
            '',
          ].join('\n'),
        ),
    },
    {
      pattern: KERNEL_STATE_SCRIPT,
      mutates: false,
      run: () => {
        const k = this.kernel;
        const lines = [`@@overlay ${k.modules['overlay'] ? 1 : 0}`, `@@br_netfilter ${k.modules['br_netfilter'] ? 1 : 0}`];
        for (const [key, s] of Object.entries(k.sysctls)) {
          const bridge = key.startsWith('net.bridge.');
          lines.push(
            bridge && !k.modules['br_netfilter'] ? `@@sysctl ${key} - missing` : `@@sysctl ${key} ${s.value} ${s.writable ? 'rw' : 'ro'}`,
          );
        }
        return ok(`${lines.join('\n')}\n`);
      },
    },
    {
      pattern: /^modprobe \S+(?: && modprobe \S+)*$/,
      mutates: true,
      run: (m) => {
        for (const x of m[0].matchAll(/modprobe (\S+)/g)) this.kernel.modules[x[1]!] = true;
        return ok();
      },
    },
    {
      pattern: /^sysctl -q -w (\S+)$/,
      mutates: true,
      run: (m) => {
        const [key, value] = words(m[1]!)[0]!.split('=') as [string, string];
        const s = this.kernel.sysctls[key];
        if (!s) return fail(255, `sysctl: cannot stat /proc/sys/${key.replaceAll('.', '/')}: No such file or directory`);
        if (!s.writable) return fail(255, `sysctl: permission denied on key "${key}"`);
        s.value = value;
        return ok();
      },
    },
    {
      pattern: /^test -d (\S+)(?: && test -d (\S+))*$/,
      mutates: false,
      run: (m) => {
        const paths = [...m[0].matchAll(/test -d (\S+)/g)].map((x) => words(x[1]!)[0]!);
        return paths.every((p) => this.dirs.has(p)) ? ok() : fail(1, '');
      },
    },
    {
      pattern: /^mkdir -p ((?:'?\/\S+ )*'?\/\S+)$/,
      mutates: true,
      run: (m) => {
        for (const p of words(m[1]!)) if (!this.dirs.has(p)) this.dirs.set(p, 0o755);
        return ok();
      },
    },
    {
      pattern: /^\/usr\/local\/bin\/ctr --address \S+ version$/,
      mutates: false,
      run: () => {
        const v = this.containerdVersion();
        const client = 'Client:\n  Version:  1.6.20\n  Go version: go1.19\n\n';
        return v ? ok(`${client}Server:\n  Version:  ${v}\n  UUID: 0\n`) : fail(1, `${client}ctr: connection refused`);
      },
    },
    {
      pattern: /^\/usr\/local\/bin\/ctr --address \S+ plugins ls$/,
      mutates: false,
      run: () =>
        this.containerdVersion()
          ? ok(
              'TYPE                            ID       PLATFORMS      STATUS\nio.containerd.grpc.v1           cri      linux/amd64    ok\n',
            )
          : fail(1, 'ctr: connection refused'),
    },
    {
      pattern: /^\/usr\/local\/bin\/ctr --address \S+ -n k8s.io images ls -q$/,
      mutates: false,
      run: () => (this.containerdVersion() ? ok([...this.images].map((i) => `${i}\n`).join('')) : fail(1, 'ctr: connection refused')),
    },
    {
      pattern: /^curl -fsSL --retry 3 (\S+)$/,
      mutates: false,
      run: (m) => {
        const url = words(m[1]!)[0]!;
        const body = this.lab?.http.get(url);
        return body === undefined ? fail(22, `curl: (22) The requested URL returned error: 404 (${url})`) : ok(body);
      },
    },
    {
      // activities/runtime.ts: an image archive from a mirror, checked, imported, removed.
      pattern:
        /^set -eu\nmkdir -p \/var\/tmp\/hardway-images && cd \S+\ncurl -fsSL --retry 3 -o \S+ (\S+)\n[\s\S]*images import \S+\n[\s\S]*$/,
      mutates: true,
      run: (m) => this.importArchive(this.lab?.http.get(words(m[1]!)[0]!)),
    },
    {
      pattern: /^\/usr\/local\/bin\/ctr --address \S+ -n k8s.io images import (\S+) && rm -f \S+$/,
      mutates: true,
      run: (m) => {
        const path = words(m[1]!)[0]!;
        const r = this.importArchive(this.text(path));
        if (r.code === 0) this.files.delete(path);
        return r;
      },
    },
    { pattern: /^uname -m$/, mutates: false, run: () => ok(`${this.arch}\n`) },
    {
      pattern: /^test -x \S+(?: && test -x \S+)*$/,
      mutates: false,
      run: (m) => {
        const paths = [...m[0].matchAll(/test -x (\S+)/g)].map((x) => words(x[1]!)[0]!);
        return paths.every((p) => ((this.files.get(p)?.mode ?? 0) & 0o111) !== 0) ? ok() : fail(1, '');
      },
    },
    {
      // activities/binaries.ts: download, verify, unpack, install, stamp.
      pattern: /^set -eu\nmkdir -p (\S+) && cd \S+\ncurl -fsSL[\s\S]*$/,
      mutates: true,
      run: (m) => {
        if (!this.commands.has('curl') || !this.commands.has('tar')) return fail(127, 'curl or tar: not found');
        for (const line of m[0].split('\n')) {
          const inst = /^install -o root -g root -m 0755 \S+ (\S+) && mv -f \S+ (\S+)$/.exec(line);
          if (inst) this.write(words(inst[2]!)[0]!, `#!/bin/sh\n# ${posix.basename(words(inst[2]!)[0]!)} (memory host)\n`, 0o755);
          const stamp = /^mkdir -p \/var\/lib\/hardway\/releases && echo (.+) > (\S+)$/.exec(line);
          if (stamp) this.write(words(stamp[2]!)[0]!, `${words(stamp[1]!).join(' ')}\n`, 0o644);
        }
        return ok();
      },
    },
    {
      pattern: /^\[ -d (\S+) \] && \[ "\$\(stat -c %a \S+\)" = 700 \]$/,
      mutates: false,
      run: (m) => (this.dirs.get(words(m[1]!)[0]!) === 0o700 ? ok() : fail(1, '')),
    },
    {
      // etcd's data of a membership: there once etcd has run here (the memory host's etcd keeps it until a reset).
      pattern: /^\[ -d (\S+)\/member \]$/,
      mutates: false,
      run: (m) => (this.dirs.has(words(m[1]!)[0]!) && (this.services.get('etcd')?.starts ?? 0) > 0 ? ok() : fail(1, '')),
    },
    {
      pattern: /^mkdir -p (\S+) && chmod 0700 \S+$/,
      mutates: true,
      run: (m) => {
        this.dirs.set(words(m[1]!)[0]!, 0o700);
        return ok();
      },
    },
    {
      // activities/host-shell.ts readTexts: each regular file that is there, after its marker line.
      // (?:\S+ )*\S+, not (?:\S+ ?)+: that one backtracks exponentially on a long line that does not match.
      pattern: /^for p in ((?:\S+ )*\S+); do if \[ -f "\$p" \]; then echo "@@hardway-file \$p"; cat -- "\$p"; echo; fi; done$/,
      mutates: false,
      run: (m) => {
        let out = '';
        for (const p of words(m[1]!)) {
          const f = this.files.get(p);
          if (f) out += `@@hardway-file ${p}\n${f.content.toString()}\n`;
        }
        return ok(out);
      },
    },
    {
      pattern: /^sha256sum ((?:\S+ )*\S+)$/,
      mutates: false,
      run: (m) => {
        let out = '';
        let err = '';
        for (const p of words(m[1]!)) {
          const f = this.files.get(p);
          if (f) out += `${sha256(f.content)}  ${p}\n`;
          else err += `sha256sum: ${p}: No such file or directory\n`;
        }
        return err ? fail(1, err, out) : ok(out);
      },
    },
    {
      pattern: /^systemctl daemon-reload$/,
      mutates: true,
      run: () => {
        this.daemonReloads++;
        return ok();
      },
    },
    {
      // As systemd prints it (a few of its many properties): an unknown unit is "not-found" with no UnitFileState.
      pattern: /^systemctl show (\S+)$/,
      mutates: false,
      run: (m) => {
        const name = words(m[1]!)[0]!;
        const s = this.services.get(name);
        const known = this.unitFile(name) !== undefined;
        return ok(
          [
            `Id=${name}.service`,
            `LoadState=${known ? 'loaded' : 'not-found'}`,
            `ActiveState=${s?.active ? 'active' : 'inactive'}`,
            `SubState=${s?.active ? 'running' : 'dead'}`,
            `UnitFileState=${known ? (s?.enabled ? 'enabled' : 'disabled') : ''}`,
            `MainPID=${s?.active ? 4242 : 0}`,
            '',
          ].join('\n'),
        );
      },
    },
    {
      pattern: /^systemctl enable (\S+)$/,
      mutates: true,
      run: (m) => {
        const name = words(m[1]!)[0]!;
        if (this.unitFile(name) === undefined) return fail(1, `Failed to enable unit: Unit file ${name}.service does not exist.`);
        this.service(name).enabled = true;
        return ok();
      },
    },
    {
      pattern: /^systemctl reload (\S+)$/,
      mutates: true,
      run: (m) => {
        const name = words(m[1]!)[0]!;
        const s = this.services.get(name);
        if (!s?.active) return fail(1, `Job for ${name}.service failed: the unit is not active.`);
        s.reloads = (s.reloads ?? 0) + 1;
        s.running = { ...s.running, ...(name === 'haproxy' ? { config: this.text('/etc/haproxy/haproxy.cfg') } : {}) };
        return ok();
      },
    },
    {
      pattern: /^systemctl (start|restart) (\S+)$/,
      mutates: true,
      run: (m) => {
        const name = words(m[2]!)[0]!;
        const unit = this.unitFile(name);
        if (unit === undefined) return fail(5, `Failed to ${m[1]} ${name}.service: Unit ${name}.service not found.`);
        const s = this.service(name);
        if (m[1] === 'start') s.starts++;
        else s.restarts++;
        s.active = true;
        s.running = { unit, ...(name === 'haproxy' ? { config: this.text('/etc/haproxy/haproxy.cfg') } : {}) };
        if (name === 'flanneld') this.flanneldStarted();
        this.addChainsOf(name);
        return ok();
      },
    },
    {
      pattern: /^curl -sS --max-time 5 --cacert (\S+) --cert (\S+) --key (\S+) (\S+)\/version$/,
      mutates: false,
      run: (m) => {
        const [ca, cert, key, url] = [m[1]!, m[2]!, m[3]!, m[4]!].map((w) => words(w)[0]!) as [string, string, string, string];
        const missing = [ca, cert, key].find((p) => !this.files.has(p));
        if (missing) return fail(58, `curl: (58) could not load ${missing}`);
        const target = this.lab?.byUrl(url) ?? (url.includes(`//${this.address}:`) ? this : undefined);
        if (!target?.etcdRuns()) return fail(7, `curl: (7) Failed to connect to ${url}`);
        return ok('{"etcdserver":"3.6.16","etcdcluster":"3.6.0"}');
      },
    },
    {
      pattern: /^ETCDCTL_API=3 (\S+)\/etcdctl --endpoints (\S+) --cacert \S+ --cert \S+ --key \S+ (endpoint health|member list) -w json$/,
      mutates: false,
      run: (m) => {
        if (!this.files.has(`${m[1]}/etcdctl`)) return fail(127, 'etcdctl: not found');
        const urls = words(m[2]!)[0]!.split(',');
        const members = urls.map((u) => ({ url: u, host: this.lab?.byUrl(u) ?? (u.includes(`//${this.address}:`) ? this : undefined) }));
        if (m[3] === 'endpoint health') {
          const health = members.map(({ url, host }) => ({
            endpoint: url,
            health: !!host?.etcdRuns(),
            took: '1ms',
            ...(host?.etcdRuns() ? {} : { error: 'context deadline exceeded' }),
          }));
          return { code: health.every((h) => h.health) ? 0 : 1, stdout: JSON.stringify(health), stderr: '' };
        }
        // Every member that joined, healthy or not (as etcd lists them), as long as a quorum answers.
        const joined = members.filter(({ host }) => host?.services.get('etcd')?.running);
        if (members.filter(({ host }) => host?.etcdRuns()).length * 2 <= members.length) return fail(1, 'context deadline exceeded');
        const names = joined.map(({ host }) => ({ name: host!.etcdName() }));
        return ok(JSON.stringify({ header: {}, members: names }));
      },
    },
    {
      pattern: /^getent ahostsv4 ([^|]+) \| awk '\$2=="STREAM"\{print \$1, \$3\}'$/,
      mutates: false,
      run: (m) => {
        const lines = (this.text('/etc/hosts') ?? '')
          .split('\n')
          .map((l) => l.split('#')[0]!.trim().split(/\s+/))
          .filter((f) => f.length >= 2 && /^\d+\.\d+\.\d+\.\d+$/.test(f[0]!));
        let out = '';
        for (const name of m[1]!.trim().split(/\s+/)) {
          const hit = lines.find((f) => f.slice(1).includes(name));
          if (hit) out += `${hit[0]} ${name}\n`;
        }
        return ok(out); // the pipeline's status is awk's
      },
    },
    {
      pattern: /^command -v haproxy$/,
      mutates: false,
      run: () => (this.commands.has('haproxy') ? ok('/usr/sbin/haproxy\n') : fail(1, '')),
    },
    {
      pattern: /^if command -v apt-get >\/dev\/null; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy; [\s\S]*fi$/,
      mutates: true,
      run: () => {
        if (!['apt-get', 'dnf', 'yum'].some((c) => this.commands.has(c))) return fail(3, 'no package manager to install haproxy');
        // As the Debian package does: binary, unit, a default config, enabled and started.
        this.commands.add('haproxy');
        this.write('/usr/sbin/haproxy', '#!/bin/sh\n# haproxy (memory host)\n', 0o755);
        this.write('/lib/systemd/system/haproxy.service', '[Service]\nExecStart=/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg\n');
        this.write('/etc/haproxy/haproxy.cfg', 'global\n    log /dev/log local0\n');
        const s = this.service('haproxy');
        s.enabled = true;
        s.active = true;
        s.starts++;
        s.running = { unit: this.unitFile('haproxy'), config: this.text('/etc/haproxy/haproxy.cfg') };
        return ok();
      },
    },
    {
      pattern: /^haproxy -c -f (\S+)$/,
      mutates: false,
      run: (m) => {
        if (!this.commands.has('haproxy')) return fail(127, 'haproxy: not found');
        const cfg = this.text(words(m[1]!)[0]!);
        if (cfg === undefined) return fail(1, `[ALERT] Could not open configuration file ${m[1]} : No such file or directory`);
        return this.haproxyAccepts(cfg) ? ok('Configuration file is valid\n') : fail(1, '[ALERT] config : parsing error');
      },
    },
    {
      pattern: /^rm -f (\S+)$/,
      mutates: true,
      run: (m) => {
        this.files.delete(words(m[1]!)[0]!);
        return ok();
      },
    },
    {
      // cp -p keeps the file (mode too) and copies it; mv -f moves it.
      pattern: /^(cp -p|mv -f) (\S+) (\S+)$/,
      mutates: true,
      run: (m) => {
        const [tool, from, to] = [m[1]!.slice(0, 2), words(m[2]!)[0]!, words(m[3]!)[0]!];
        const f = this.files.get(from);
        if (!f) return fail(1, `${tool}: cannot stat '${from}': No such file or directory`);
        this.files.set(to, tool === 'cp' ? { ...f } : f);
        if (tool === 'mv') this.files.delete(from);
        return ok();
      },
    },
    {
      pattern: /^ss -Hltn 'sport = :(\d+)'$/,
      mutates: false,
      run: (m) => {
        const s = this.services.get('haproxy');
        const bind = s?.active ? /bind (\S+)/.exec(s.running?.config ?? '')?.[1] : undefined;
        return ok(bind?.endsWith(`:${m[1]}`) ? `LISTEN 0      4096   ${bind}      0.0.0.0:*\n` : '');
      },
    },
    // ---- Kubernetes: the control plane's, the nodes' and the add-ons' commands ----------------------------------
    // ---- reset (activities/reset.ts) ---------------------------------------------------------------------------
    {
      pattern: /^systemctl (stop|disable) (\S+)$/,
      mutates: true,
      run: (m) => {
        const name = words(m[2]!)[0]!;
        if (m[1] === 'disable') {
          if (this.unitFile(name) === undefined) return fail(1, `Failed to disable unit: Unit file ${name}.service does not exist.`);
          this.service(name).enabled = false;
          return ok();
        }
        if (this.unitFile(name) === undefined && !this.services.get(name)?.active)
          return fail(5, `Failed to stop ${name}.service: Unit ${name}.service not loaded.`);
        const s = this.service(name);
        s.active = false;
        s.stops = (s.stops ?? 0) + 1;
        return ok();
      },
    },
    {
      pattern: containerInventoryScript(`${CONTAINERD_BIN_DIR}/ctr`, CONTAINERD_SOCKET),
      mutates: false,
      // The socket is there while containerd runs.
      run: () => {
        if (!this.containerdVersion()) return ok();
        const byNs = new Map<string, string[]>();
        for (const [key, c] of this.containers) {
          const [ns, id] = key.split('/') as [string, string];
          const lines = byNs.get(ns) ?? [];
          byNs.set(ns, lines);
          if (c.task) lines.push(`task ${ns} ${id}`);
        }
        for (const key of this.containers.keys()) {
          const [ns, id] = key.split('/') as [string, string];
          byNs.get(ns)!.push(`container ${ns} ${id}`);
        }
        return ok(
          [...byNs.values()]
            .flat()
            .map((l) => `${l}\n`)
            .join(''),
        );
      },
    },
    {
      // activities/reset.ts deleteEach: each id; a failure counts only while the id is still listed.
      pattern:
        /^rc=0; for id in (.+); do (\S+) --address (\S+) -n (\S+) (tasks|containers) delete (?:-f )?"\$id" >\/dev\/null 2>&1 \|\| \{ .+ \}; done; exit \$rc$/,
      mutates: true,
      run: (m) => {
        if (words(m[2]!)[0] !== `${CONTAINERD_BIN_DIR}/ctr` || !this.containerdVersion())
          return fail(1, `ctr: failed to dial "${words(m[3]!)[0]}": connection refused`);
        const ns = words(m[4]!)[0]!;
        const left: string[] = [];
        for (const id of words(m[1]!)) {
          const c = this.containers.get(`${ns}/${id}`);
          if (m[5] === 'tasks') {
            if (c?.task) c.task = false; // killed and deleted; a task already gone is no longer listed
          } else if (c && !c.task) this.containers.delete(`${ns}/${id}`);
          else if (c) left.push(`containers ${id} in ${ns}: not deleted`); // a running task keeps its container
        }
        return left.length ? fail(1, left.join('\n')) : ok();
      },
    },
    { pattern: 'cat /proc/self/mountinfo', mutates: false, run: () => ok(this.mountinfo()) },
    {
      pattern: /^umount (\S+)$/,
      mutates: true,
      run: (m) => {
        const mp = words(m[1]!)[0]!;
        const at = this.mounts.lastIndexOf(mp);
        if (at < 0) return fail(32, `umount: ${mp}: not mounted.`);
        if (this.mounts.some((o) => o.startsWith(`${mp}/`))) return fail(32, `umount: ${mp}: target is busy.`);
        this.mounts.splice(at, 1);
        return ok();
      },
    },
    {
      pattern: 'ip -o link show',
      mutates: false,
      run: () => {
        const names = ['lo', ...this.interfaces.map((i) => i.name), ...(this.vxlan ? ['flannel.1'] : []), ...this.links];
        return ok(
          names
            .map((n, i) => `${i + 1}: ${n}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\\    link/ether\n`)
            .join(''),
        );
      },
    },
    {
      pattern: /^ip link delete (\S+)$/,
      mutates: true,
      run: (m) => {
        const dev = words(m[1]!)[0]!;
        if (dev === 'flannel.1' && this.vxlan) this.vxlan = undefined;
        else if (!this.links.delete(dev)) return fail(1, `Cannot find device "${dev}"`);
        return ok();
      },
    },
    {
      pattern: /^(iptables|ip6tables)-save$/,
      mutates: false,
      run: (m) => (this.commands.has('iptables') ? ok(this.iptablesSave(m[1] as 'iptables')) : fail(127, `sh: 1: ${m[1]}-save: not found`)),
    },
    {
      pattern: /^(iptables|ip6tables)-restore -w 5$/,
      mutates: true,
      run: (m, input) => {
        const family = m[1] as 'iptables' | 'ip6tables';
        let table: { name: string; chains: [string, string][]; rules: string[] } | undefined;
        for (const line of (input?.toString() ?? '').split('\n')) {
          if (line.startsWith('*')) table = { name: line.slice(1), chains: [], rules: [] };
          else if (line.startsWith(':') && table) {
            const [name, policy] = line.slice(1).split(' ') as [string, string];
            table.chains.push([name, policy]);
          } else if (line.startsWith('-A ') && table) {
            const chain = line.split(' ')[1]!;
            if (!table.chains.some(([c]) => c === chain)) return fail(1, `${family}-restore: line: Chain '${chain}' does not exist`);
            table.rules.push(line);
          } else if (line === 'COMMIT' && table) {
            this.netfilter[family][table.name] = { chains: table.chains, rules: table.rules };
            table = undefined;
          }
        }
        return ok();
      },
    },
    {
      // Which of the paths exist, and what the unquoted patterns match (as the host's shell expands them).
      pattern:
        /^for p in (.+); do if \[ -d "\$p" \] && \[ ! -L "\$p" \]; then echo "d \$p"; elif \[ -e "\$p" \] \|\| \[ -L "\$p" \]; then echo "f \$p"; fi; done$/,
      mutates: false,
      run: (m) => {
        const paths = words(m[1]!).flatMap((w) => (w.includes('*') ? this.glob(w) : [w]));
        return ok(
          paths
            .filter((p) => this.isDir(p) || this.files.has(p))
            .map((p) => `${this.isDir(p) ? 'd' : 'f'} ${p}\n`)
            .join(''),
        );
      },
    },
    {
      pattern: /^\[ -e (\S+) \] \|\| \[ -L \S+ \]$/,
      mutates: false,
      run: (m) => {
        const p = words(m[1]!)[0]!;
        return this.isDir(p) || this.files.has(p) ? ok() : fail(1, '');
      },
    },
    {
      pattern: /^for d in (.+); do if \[ -d "\$d" \]; then echo "@@dir \$d"; ls -A1 -- "\$d"; fi; done$/,
      mutates: false,
      run: (m) =>
        ok(
          words(m[1]!)
            .filter((d) => this.isDir(d))
            .map(
              (d) =>
                `@@dir ${d}\n${this.children(d)
                  .map((c) => `${c}\n`)
                  .join('')}`,
            )
            .join(''),
        ),
    },
    {
      pattern: /^rm -rf -- (.+)$/,
      mutates: true,
      run: (m) => {
        for (const p of words(m[1]!)) {
          this.keepParents(p);
          for (const f of [...this.files.keys()]) if (f === p || f.startsWith(`${p}/`)) this.files.delete(f);
          for (const d of [...this.dirs.keys()]) if (d === p || d.startsWith(`${p}/`)) this.dirs.delete(d);
          // containerd's images live in its root directory.
          if (CONTAINERD_ROOT_DIR === p || CONTAINERD_ROOT_DIR.startsWith(`${p}/`)) this.images.clear();
        }
        return ok();
      },
    },
    {
      // A directory that is a mount point: is it empty; empty it (it stays, as a mount point does).
      pattern: /^\[ -z "\$\(ls -A (\S+)\)" \]$/,
      mutates: false,
      run: (m) => (this.children(words(m[1]!)[0]!).length === 0 ? ok() : fail(1, '')),
    },
    {
      pattern: /^find (.+) -mindepth 1 -maxdepth 1 -exec rm -rf -- \{\} \+$/,
      mutates: true,
      run: (m) => {
        for (const d of words(m[1]!)) {
          if (!this.isDir(d)) return fail(1, `find: '${d}': No such file or directory`);
          this.dirs.set(d, this.dirs.get(d) ?? 0o755);
          for (const f of [...this.files.keys()]) if (f.startsWith(`${d}/`)) this.files.delete(f);
          for (const x of [...this.dirs.keys()]) if (x.startsWith(`${d}/`)) this.dirs.delete(x);
        }
        return ok();
      },
    },
    {
      pattern: /^rmdir -- (.+)$/,
      mutates: true,
      run: (m) => {
        for (const d of words(m[1]!)) {
          if (!this.isDir(d)) return fail(1, `rmdir: failed to remove '${d}': No such file or directory`);
          if (this.children(d).length) return fail(1, `rmdir: failed to remove '${d}': Directory not empty`);
          this.keepParents(d);
          this.dirs.delete(d);
        }
        return ok();
      },
    },
    { pattern: /^cat (\S+)$/, mutates: false, run: (m) => this.cat(words(m[1]!)[0]!) },
    {
      // activities/kubectl.ts apiReady: the API's /readyz, anonymous, with the cluster CA.
      pattern: /^curl -sS --max-time 5 --cacert (\S+) (\S+\/readyz'?)$/,
      mutates: false,
      run: (m) => {
        const [ca, url] = [words(m[1]!)[0]!, words(m[2]!)[0]!.replace(/\/readyz$/, '')];
        if (!this.files.has(ca)) return fail(77, `curl: (77) error setting certificate file: ${ca}`);
        const a = this.lab?.apiAt(url) ?? { error: 'refused' as const };
        if ('error' in a) {
          const at = /^https?:\/\/([^/]+)/.exec(url)?.[1] ?? url;
          return a.error === 'refused'
            ? fail(7, `curl: (7) Failed to connect to ${at.replace(':', ' port ')} after 0 ms: Couldn't connect to server`)
            : fail(52, 'curl: (52) Empty reply from server');
        }
        // Not ready: HTTP 500 with the failing checks (curl without -f exits 0).
        return a.ready ? ok('ok') : ok('[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\nreadyz check failed\n');
      },
    },
    {
      // kube-controller-manager (10257) and kube-scheduler (10259) serve their health on the loopback.
      pattern: /^curl -sk --max-time 5 https:\/\/127\.0\.0\.1:(10257|10259)\/healthz$/,
      mutates: false,
      run: (m) => {
        const name = m[1] === '10257' ? 'kube-controller-manager' : 'kube-scheduler';
        return this.controllerHealthy(name)
          ? ok('ok')
          : fail(7, `curl: (7) Failed to connect to 127.0.0.1 port ${m[1]} after 0 ms: Couldn't connect to server`);
      },
    },
    {
      pattern: /^curl -s --max-time 5 http:\/\/127\.0\.0\.1:10248\/healthz$/,
      mutates: false,
      run: () => (this.kubeletRuns() ? ok('ok') : fail(7, '')),
    },
    {
      // activities/kubectl.ts applyObjects: the one kubectl command that changes the cluster.
      pattern: /^(\S+\/kubectl) --kubeconfig=(\S+) --request-timeout=\S+ (apply .+)$/,
      mutates: true,
      run: (m, input) => this.kubectl(m[0], m[1]!, words(m[2]!)[0]!, words(m[3]!), input),
    },
    {
      // activities/nodes.ts nodeState: a Node read with the client certificate, the HTTP status on the last line.
      pattern: /^curl -sS --max-time 10 --cacert (\S+) --cert (\S+) --key (\S+) -w '\\n%\{http_code\}' (\S+)\/api\/v1\/nodes\/(\S+)$/,
      mutates: false,
      run: (m) => {
        const [ca, cert, key, url, node] = [m[1]!, m[2]!, m[3]!, m[4]!, m[5]!].map((w) => words(w)[0]!) as [
          string,
          string,
          string,
          string,
          string,
        ];
        const c = this.apiClient(url, ca, cert, key);
        if ('error' in c) return /refused/.test(c.error) ? fail(7, `curl: (7) ${c.error}`) : fail(52, `curl: (52) ${c.error}`);
        if (!c.api.can(c.who, 'get', '', 'nodes')) return ok(`{"kind":"Status","reason":"Forbidden"}\n403`);
        const obj = this.lab!.view('Node', node);
        return obj ? ok(`${JSON.stringify(obj)}\n200`) : ok(`{"kind":"Status","reason":"NotFound"}\n404`);
      },
    },
    {
      pattern: /^(\S+\/kubectl) --kubeconfig=(\S+) (?:--request-timeout=\S+ )?((?:diff|get|auth|-n) .+)$/,
      mutates: false,
      run: (m, input) => this.kubectl(m[0], m[1]!, words(m[2]!)[0]!, words(m[3]!), input),
    },
    {
      // activities/addons.ts coreDnsActivity: the node's resolvers.
      pattern: /^grep -E '\^\\s\*nameserver\\s' (\S+)$/,
      mutates: false,
      run: (m) => {
        const path = words(m[1]!)[0]!;
        const text = this.text(path);
        if (text === undefined) return fail(2, `grep: ${path}: No such file or directory`);
        const hits = text.split('\n').filter((l) => /^\s*nameserver\s/.test(l));
        return hits.length ? ok(hits.map((l) => `${l}\n`).join('')) : fail(1, '');
      },
    },
    {
      // activities/nodes.ts kubeletActivity: the other network configurations in the CNI directory.
      pattern: /^ls -1 (\S+) 2>\/dev\/null \| grep -v '([^']*)' \|\| true$/,
      mutates: false,
      run: (m) => {
        const skip = new RegExp(m[2]!);
        return ok(
          this.ls(words(m[1]!)[0]!)
            .filter((f) => !skip.test(f))
            .map((f) => `${f}\n`)
            .join(''),
        );
      },
    },
    {
      pattern: /^ip -d -o link show (\S+)$/,
      mutates: false,
      run: (m) => {
        const dev = words(m[1]!)[0]!;
        if (dev !== 'flannel.1' || !this.vxlan) return fail(1, `Device "${dev}" does not exist.`);
        const under = this.interfaces.find((i) => i.address === this.vxlan!.local)?.name ?? 'eth1';
        return ok(
          `5: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default \\    ` +
            `link/ether 8e:2f:1a:00:00:01 brd ff:ff:ff:ff:ff:ff promiscuity 0 minmtu 68 maxmtu 65535 \\    ` +
            `vxlan id 1 local ${this.vxlan.local} dev ${under} srcport 0 0 dstport 8472 nolearning ttl auto ageing 300\n`,
        );
      },
    },
  ];

  /** A directory: made by mkdir, or holding files (parents exist as long as what is in them does). */
  isDir(path: string): boolean {
    const prefix = `${path.replace(/\/+$/, '')}/`;
    return this.dirs.has(path) || [...this.files.keys(), ...this.dirs.keys()].some((p) => p.startsWith(prefix));
  }

  /** The names directly in a directory, files and directories, sorted (ls -A1). */
  children(dir: string): string[] {
    const prefix = `${dir.replace(/\/+$/, '')}/`;
    const names = [...this.files.keys(), ...this.dirs.keys()]
      .filter((p) => p.startsWith(prefix))
      .map((p) => p.slice(prefix.length).split('/')[0]!);
    return [...new Set(names)].sort();
  }

  /** What a shell expands `pattern` to: the files and directories it matches, sorted. */
  private glob(pattern: string): string[] {
    const re = globRegExp(pattern);
    const all = new Set<string>();
    for (const p of [...this.files.keys(), ...this.dirs.keys()]) {
      const parts = p.split('/');
      for (let i = 2; i <= parts.length; i++) all.add(parts.slice(0, i).join('/'));
    }
    return [...all].filter((p) => re.test(p)).sort();
  }

  /** Before something in a directory goes, the directory stays on its own (a real file system keeps it). */
  private keepParents(path: string): void {
    const parts = path.split('/');
    for (let i = 2; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (this.isDir(d) && !this.dirs.has(d)) this.dirs.set(d, 0o755);
    }
  }

  /** /proc/self/mountinfo: the host's own mounts, then `mounts` (spaces escaped as the kernel does). */
  private mountinfo(): string {
    const own = ['/', '/proc', '/sys', '/run', '/var'];
    return [...own, ...this.mounts]
      .map((mp, i) => `${i + 20} ${i ? 20 : 1} 0:${i + 30} / ${mp.replace(/ /g, '\\040')} rw,relatime shared:${i + 1} - tmpfs tmpfs rw\n`)
      .join('');
  }

  iptablesSave(family: 'iptables' | 'ip6tables'): string {
    const out = [`# Generated by ${family}-save v1.8.9 (nf_tables) (memory host)`];
    for (const [name, t] of Object.entries(this.netfilter[family])) {
      out.push(`*${name}`, ...t.chains.map(([c, p]) => `:${c} ${p} [0:0]`), ...t.rules, 'COMMIT');
    }
    out.push(`# Completed (memory host)`, '');
    return out.join('\n');
  }

  /** A chain (a user chain, with its rules) in a table, made with the table's built-in chains when the table is new. */
  private addChain(family: 'iptables' | 'ip6tables', table: string, chain: string, rules: string[] = []): void {
    const t = (this.netfilter[family][table] ??= {
      chains: BUILT_IN_CHAINS[table]!.map((c) => [c, 'ACCEPT'] as [string, string]),
      rules: [],
    });
    if (!t.chains.some(([c]) => c === chain)) t.chains.push([chain, '-']);
    for (const r of rules) if (!t.rules.includes(r)) t.rules.push(r);
  }

  /** The chains the node agents make when they start (kube-proxy in iptables mode, the kubelet's canary, flanneld). */
  private addChainsOf(service: string): void {
    const both = ['iptables', 'ip6tables'] as const;
    if (service === 'kubelet')
      for (const f of both) for (const t of ['mangle', 'nat', 'filter']) this.addChain(f, t, 'KUBE-KUBELET-CANARY');
    if (service === 'kube-proxy') {
      for (const f of both) for (const t of ['mangle', 'nat', 'filter']) this.addChain(f, t, 'KUBE-PROXY-CANARY');
      this.addChain('iptables', 'nat', 'KUBE-SERVICES', [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      ]);
      this.addChain('iptables', 'nat', 'KUBE-POSTROUTING', [
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      ]);
      this.addChain('iptables', 'nat', 'KUBE-SVC-NPX46M4PTMTKRN6Y', [
        '-A KUBE-SERVICES -d 10.32.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -j KUBE-SVC-NPX46M4PTMTKRN6Y',
      ]);
      this.addChain('iptables', 'filter', 'KUBE-FORWARD', [
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
      ]);
    }
    if (service === 'flanneld') {
      this.addChain('iptables', 'filter', 'FLANNEL-FWD', [
        '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
        '-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
      ]);
      this.addChain('iptables', 'nat', 'FLANNEL-POSTRTG', ['-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG']);
    }
  }

  etcdRuns(): boolean {
    return !this.down && !!this.services.get('etcd')?.active && this.etcdAnswers;
  }

  etcdName(): string {
    return /--name (\S+)/.exec(this.services.get('etcd')?.running?.unit ?? '')?.[1] ?? this.name;
  }

  // ---- Kubernetes ---------------------------------------------------------------------------------------------------

  /** The unit a service runs (what it loaded at its last start), when it is active on a reachable host. */
  private runningUnit(name: string): string | undefined {
    const s = this.services.get(name);
    return !this.down && s?.active ? s.running?.unit : undefined;
  }

  private cat(path: string): ExecResult {
    const text = this.text(path);
    return text === undefined ? fail(1, `cat: ${path}: No such file or directory`) : ok(text);
  }

  /** The names of the files directly in a directory, sorted (ls -1). */
  private ls(dir: string): string[] {
    const prefix = `${dir.replace(/\/+$/, '')}/`;
    return [...this.files.keys()]
      .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
      .map((p) => p.slice(prefix.length))
      .sort();
  }

  /**
   * The kube-apiserver running here: its port, whether /readyz passes (its etcd servers hold a quorum), its service
   * range and client CA. None when it is not running, or when a file its unit names is missing (it exits at start).
   */
  apiServer(): { port: number; ready: boolean; serviceRange?: string; clientCa?: string } | undefined {
    const unit = this.runningUnit('kube-apiserver');
    if (unit === undefined) return undefined;
    const files = [...unit.matchAll(/--([a-z-]+)=(\/\S+)/g)].filter(([, f]) => f !== 'audit-log-path').map(([, , p]) => p!);
    if (files.some((p) => !this.files.has(p))) return undefined;
    const audit = flag(unit, 'audit-log-path');
    if (audit && !this.dirs.has(posix.dirname(audit))) return undefined;
    const etcd = (flag(unit, 'etcd-servers') ?? '').split(',').filter(Boolean);
    const healthy = etcd.filter((u) => this.lab?.byUrl(u)?.etcdRuns()).length;
    return {
      port: Number(flag(unit, 'secure-port') ?? 6443),
      ready: etcd.length > 0 && healthy * 2 > etcd.length,
      ...(flag(unit, 'service-cluster-ip-range') ? { serviceRange: flag(unit, 'service-cluster-ip-range')! } : {}),
      ...(flag(unit, 'client-ca-file') ? { clientCa: this.text(flag(unit, 'client-ca-file')!) } : {}),
    };
  }

  /**
   * kubectl's (or a component's) view of the API with `kubeconfig` on this host: who its client certificate says it
   * is, or the error kubectl prints (no such kubeconfig, unreadable certificate, unreachable or unready API,
   * a certificate the API server's client CA did not sign).
   */
  kubeClient(kubeconfig: string): { who: Identity; api: MemoryApiServer; server: MemoryHost } | { error: string } {
    const text = this.text(kubeconfig);
    if (text === undefined) return { error: `error: stat ${kubeconfig}: no such file or directory` };
    const field = (name: string) => {
      const v = new RegExp(`^\\s*${name}: (.+)$`, 'm').exec(text)?.[1]?.trim();
      if (v === undefined) return undefined;
      try {
        return JSON.parse(v) as string;
      } catch {
        return v;
      }
    };
    const [url, ca, cert, key] = ['server', 'certificate-authority', 'client-certificate', 'client-key'].map(field);
    if (!url) return { error: 'error: no server found for cluster' };
    return this.apiClient(url, ca, cert, key);
  }

  /** A client of the API at `url` with these files (kubectl's kubeconfig, or curl's --cacert/--cert/--key). */
  apiClient(
    url: string,
    ca: string | undefined,
    cert: string | undefined,
    key: string | undefined,
  ): { who: Identity; api: MemoryApiServer; server: MemoryHost } | { error: string } {
    for (const [what, p] of [
      ['certificate-authority', ca],
      ['client-cert', cert],
      ['client-key', key],
    ] as const) {
      if (p !== undefined && !this.files.has(p))
        return { error: `error: unable to read ${what} ${p} due to open ${p}: no such file or directory` };
    }
    const at = /^https?:\/\/([^/]+)/.exec(url)?.[1] ?? url;
    const a = this.lab?.apiAt(url) ?? { error: 'refused' as const };
    if ('error' in a) {
      return {
        error:
          a.error === 'refused'
            ? `The connection to the server ${at} was refused - did you specify the right host or port?`
            : 'Unable to connect to the server: EOF',
      };
    }
    if (!a.ready) return { error: 'Error from server: etcdserver: request timed out' };
    let who: Identity = { user: 'system:anonymous', groups: ['system:unauthenticated'] };
    if (cert !== undefined) {
      const x = new X509Certificate(this.text(cert)!);
      const clientCa = a.host.apiServer()?.clientCa;
      if (!clientCa || !x.verify(new X509Certificate(clientCa).publicKey))
        return { error: 'error: You must be logged in to the server (Unauthorized)' };
      const attrs = x.subject.split('\n').map((l) => l.split('=') as [string, string]);
      who = {
        user: attrs.find(([k]) => k === 'CN')?.[1] ?? '',
        groups: [...attrs.filter(([k]) => k === 'O').map(([, v]) => v), 'system:authenticated'],
      };
    }
    return { who, api: this.lab!.api, server: a.host };
  }

  /** kube-controller-manager or kube-scheduler runs here and reaches the API with its kubeconfig. */
  controllerHealthy(name: 'kube-controller-manager' | 'kube-scheduler'): boolean {
    const unit = this.runningUnit(name);
    const kubeconfig = unit === undefined ? undefined : flag(unit, 'kubeconfig');
    return kubeconfig !== undefined && !('error' in this.kubeClient(kubeconfig));
  }

  /** The kubelet runs here (and stays up: it needs containerd). */
  kubeletRuns(): boolean {
    return this.runningUnit('kubelet') !== undefined && this.containerdVersion() !== undefined;
  }

  /** The name the kubelet here registers as (--hostname-override, else the host's name), once it ran. */
  kubeletNodeName(): string | undefined {
    const unit = this.services.get('kubelet')?.running?.unit;
    return unit === undefined ? undefined : (flag(unit, 'hostname-override') ?? this.name);
  }

  /** The Ready condition the kubelet here posts for its Node (none before it ever ran). */
  nodeReady(): { type: 'Ready'; status: string; reason: string; message: string } | undefined {
    const unit = this.services.get('kubelet')?.running?.unit;
    if (unit === undefined) return undefined;
    const kubeconfig = flag(unit, 'kubeconfig');
    if (!this.kubeletRuns() || kubeconfig === undefined || 'error' in this.kubeClient(kubeconfig)) {
      return { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };
    }
    // containerd reports the network ready once its CNI directory holds a configuration (flannel's waits for flanneld).
    const confDir = /conf_dir = "([^"]+)"/.exec(this.text('/etc/containerd/config.toml') ?? '')?.[1] ?? '/etc/cni/net.d';
    if (!this.ls(confDir).some((f) => /\.(conf|conflist|json)$/.test(f))) {
      return {
        type: 'Ready',
        status: 'False',
        reason: 'KubeletNotReady',
        message:
          'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
      };
    }
    return { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
  }

  /** flanneld holds its lease: it runs, and wrote its subnet file. */
  flannelLeased(): boolean {
    const unit = this.runningUnit('flanneld');
    return unit !== undefined && this.files.has(flag(unit, 'subnet-file') ?? '/run/flannel/subnet.env');
  }

  /**
   * flanneld (--kube-subnet-mgr) at start: reads its network config, finds its Node (NODE_NAME) through its kubeconfig,
   * takes the Node's podCIDR as its lease, writes the subnet file, brings up flannel.1 on --iface and annotates the
   * Node with its public IP. Without a network config, an API that lets it in, or a podCIDR, it has no lease.
   */
  private flanneldStarted(): void {
    const unit = this.services.get('flanneld')?.running?.unit ?? '';
    const subnetFile = flag(unit, 'subnet-file') ?? '/run/flannel/subnet.env';
    this.files.delete(subnetFile);
    this.vxlan = undefined;
    const node = /NODE_NAME=(\S+)/.exec(unit)?.[1];
    const kubeconfig = flag(unit, 'kubeconfig-file');
    let network: string | undefined;
    try {
      network = (JSON.parse(this.text(flag(unit, 'net-config-path') ?? '/etc/kube-flannel/net-conf.json') ?? '') as { Network?: string })
        .Network;
    } catch {
      return;
    }
    if (!node || !kubeconfig || !network) return;
    const c = this.kubeClient(kubeconfig);
    if ('error' in c || !c.api.can(c.who, 'get', '', 'nodes') || !c.api.can(c.who, 'patch', '', 'nodes/status')) return;
    const podCidr = (c.api.get('Node', node)?.['spec'] as { podCIDR?: string } | undefined)?.podCIDR;
    if (!podCidr) return;
    const sub = parseCidr(podCidr);
    this.write(
      subnetFile,
      `FLANNEL_NETWORK=${network}\nFLANNEL_SUBNET=${formatIPv4(sub.network + 1)}/${sub.prefix}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n`,
      0o644,
    );
    const iface = flag(unit, 'iface');
    this.vxlan = { local: this.interfaces.find((i) => i.address === iface || i.name === iface)?.address ?? this.address };
    c.api.annotate('Node', node, {
      'flannel.alpha.coreos.com/backend-type': 'vxlan',
      'flannel.alpha.coreos.com/public-ip': flag(unit, 'public-ip') ?? this.vxlan.local,
    });
  }

  /** kubectl: exactly the command lines of activities/kubectl.ts and its callers. */
  private kubectl(cmd: string, bin: string, kubeconfig: string, args: string[], input: Buffer | undefined): ExecResult {
    const unknown = () => {
      throw new Error(`${this.name}: the memory host does not know this kubectl command: ${cmd}`);
    };
    if (((this.files.get(bin)?.mode ?? 0) & 0o111) === 0) return fail(127, `sh: 1: ${bin}: not found`);
    const verb = args[0] === '-n' ? args[2] : args[0];
    // kubectl diff exits 1 for differences, and above 1 for its own errors.
    const errorCode = verb === 'diff' ? 2 : 1;
    const c = this.kubeClient(kubeconfig);
    if ('error' in c) return fail(errorCode, `${c.error}\n`);
    const { api, who } = c;
    const lab = this.lab!;

    if (verb === 'diff' || verb === 'apply') {
      if (args.slice(1).join(' ') !== `--server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f -`) unknown();
      // kubectl diff runs the host's diff on the live and merged objects.
      if (verb === 'diff' && !this.commands.has('diff'))
        return fail(2, 'error: failed to run "diff": executable file not found in $PATH\n');
      let items: KubeObject[];
      try {
        const doc = JSON.parse(input?.toString() ?? '') as KubeObject & { items?: KubeObject[] };
        items = doc.kind === 'List' ? (doc.items ?? []) : [doc];
      } catch (e) {
        return fail(errorCode, `error: error parsing STDIN: ${(e as Error).message}\n`);
      }
      const checked = items.map((o) => api.check(o, who, c.server.apiServer()?.serviceRange));
      const bad = checked.find((x) => 'error' in x);
      if (bad && 'error' in bad) return fail(errorCode, `${bad.error}\n`);
      const objects = checked as { object: KubeObject; file: string }[];
      if (verb === 'apply') {
        return ok(objects.map(({ object }) => `${api.apply(object)} serverside-applied\n`).join(''));
      }
      let out = '';
      for (const { object, file } of objects) {
        const live = api.live(file);
        const merged = api.merged(object);
        if (live && canonical(live) === canonical(merged)) continue;
        out += unifiedDiff(`/tmp/LIVE-1/${file}`, `/tmp/MERGED-1/${file}`, live ? pretty(live) : '', pretty(merged));
      }
      return out ? fail(1, '', out) : ok();
    }

    if (verb === 'get') {
      // [-n NAMESPACE] get KIND NAME -o json|jsonpath=TEMPLATE
      const ns = args[0] === '-n' ? args[1]! : 'default';
      const [, kindWord, name, o, format] = args[0] === '-n' ? args.slice(2) : args;
      const kind = kindOf(kindWord ?? '');
      if (!kind || !name || o !== '-o' || !format || !(format === 'json' || format.startsWith('jsonpath='))) return unknown();
      const t = KINDS[kind]!;
      const group = t.apiVersion.includes('/') ? t.apiVersion.split('/')[0]! : '';
      const what = `${t.resource}${group ? `.${group}` : ''} "${name}"`;
      if (!api.can(who, 'get', group, t.resource)) {
        return fail(
          1,
          `Error from server (Forbidden): ${what} is forbidden: ${forbidden(who, 'get', group, t.resource, t.namespaced ? ns : undefined)}\n`,
        );
      }
      const obj = lab.view(kind, name, t.namespaced ? ns : undefined);
      if (!obj) return fail(1, `Error from server (NotFound): ${what} not found\n`);
      return ok(format === 'json' ? `${JSON.stringify(obj, null, 4)}\n` : jsonpath(obj, format.slice('jsonpath='.length)));
    }

    if (verb === 'auth' && args[1] === 'can-i' && args.length === 5 && args[4] === '--all-namespaces') {
      const allowed = api.can(who, args[2]!, '*', args[3]!);
      return allowed ? ok('yes\n') : fail(1, '', 'no\n');
    }
    return unknown();
  }

  private probe(): string {
    const ifaces = [{ name: 'lo', address: '127.0.0.1', prefix: 8 }, ...this.interfaces];
    return [
      '@@uname',
      `Linux ${this.arch}`,
      '@@os',
      this.os,
      '@@mem',
      `MemTotal:       ${this.memoryMiB * 1024} kB`,
      '@@addr',
      ...ifaces.map(
        (i, n) =>
          `${n + 1}: ${i.name}    inet ${i.address}/${i.prefix} scope global ${i.name}\\       valid_lft forever preferred_lft forever`,
      ),
      '@@route',
      ...(this.defaultRoute ? [`default via ${this.defaultRoute.via} dev ${this.defaultRoute.dev}`] : []),
      '@@commands',
      ...[...this.commands],
      '@@swap',
      String(this.kernel.swapDevices),
      '@@modules',
      ...Object.entries(this.kernel.modules)
        .filter(([, on]) => on)
        .map(([m]) => m),
      '',
    ].join('\n');
  }
}

// ---- the cluster's API -----------------------------------------------------------------------------------------------

export type KubeObject = Record<string, unknown>;

/** Who a client certificate says it is to the API server: CN the user, O the groups. */
export interface Identity {
  user: string;
  groups: string[];
}

/** The kinds the API serves: what hardway applies and reads. */
const KINDS: Record<string, { apiVersion: string; resource: string; namespaced: boolean }> = {
  Namespace: { apiVersion: 'v1', resource: 'namespaces', namespaced: false },
  Node: { apiVersion: 'v1', resource: 'nodes', namespaced: false },
  ServiceAccount: { apiVersion: 'v1', resource: 'serviceaccounts', namespaced: true },
  ConfigMap: { apiVersion: 'v1', resource: 'configmaps', namespaced: true },
  Service: { apiVersion: 'v1', resource: 'services', namespaced: true },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', resource: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', resource: 'clusterrolebindings', namespaced: false },
  Deployment: { apiVersion: 'apps/v1', resource: 'deployments', namespaced: true },
};
const BUILT_IN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** The kind kubectl means by a word of `kubectl get` (node, nodes, deployment, ...). */
const kindOf = (word: string): string | undefined =>
  Object.entries(KINDS).find(([k, t]) => [k.toLowerCase(), t.resource].includes(word.toLowerCase()))?.[0];

const isObject = (v: unknown): v is KubeObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const metaOf = (o: KubeObject) => (isObject(o['metadata']) ? o['metadata'] : {}) as { name?: string; namespace?: string };

/** Server-side apply's merge, near enough: maps merge key by key, lists and values are replaced. */
function mergeObjects(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return structuredClone(over);
  const out: KubeObject = structuredClone(base);
  for (const [k, v] of Object.entries(over)) out[k] = mergeObjects(out[k], v);
  return out;
}

/** JSON with sorted keys: equal texts, equal objects. */
const canonical = (v: unknown): string | undefined =>
  JSON.stringify(v, (_k, x: unknown) => (isObject(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
const pretty = (v: unknown): string => `${JSON.stringify(JSON.parse(canonical(v) ?? 'null'), null, 2)}\n`;

/** What `diff -u -N` prints for two texts (one hunk around what differs), under kubectl diff's header line. */
function unifiedDiff(from: string, to: string, a: string, b: string): string {
  const x = a ? a.replace(/\n$/, '').split('\n') : [];
  const y = b.replace(/\n$/, '').split('\n');
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const removed = x.slice(head, x.length - tail);
  const added = y.slice(head, y.length - tail);
  return [
    `diff -u -N ${from} ${to}`,
    `--- ${from}\t2025-01-01 00:00:00.000000000 +0000`,
    `+++ ${to}\t2025-01-01 00:00:00.000000000 +0000`,
    `@@ -${x.length ? head + 1 : 0},${removed.length} +${head + 1},${added.length} @@`,
    ...removed.map((l) => `-${l}`),
    ...added.map((l) => `+${l}`),
    '',
  ].join('\n');
}

/** kubectl's -o jsonpath for simple field paths: "{.a.b} {.c}" (a missing field prints nothing). */
function jsonpath(obj: KubeObject, template: string): string {
  return template.replace(/\{\.([^}]*)\}/g, (_m, path: string) => {
    let v: unknown = obj;
    for (const k of path.split('.')) v = isObject(v) ? v[k] : undefined;
    return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

const forbidden = (who: Identity, verb: string, group: string, resource: string, namespace?: string): string =>
  `User "${who.user}" cannot ${verb} resource "${resource}" in API group "${group}" ${namespace ? `in the namespace "${namespace}"` : 'at the cluster scope'}`;

interface StoredObject {
  /** The fields other managers own (a kubelet, flanneld, an operator; put() in a test). */
  others: KubeObject;
  /** What hardway's field manager applied last. */
  applied?: KubeObject;
  /** metadata.generation: 1 when created, one more for each change of the spec. */
  generation: number;
}

/**
 * The cluster's objects, as the lab's API servers share them (they share etcd): server-side apply by hardway's field
 * manager over what other managers set, RBAC (system:masters, ClusterRoleBindings to cluster-admin or to a stored
 * ClusterRole), and the validation that matters to hardway (a Node's pod range and a Service's cluster IP are
 * immutable once set; the cluster IP is in the API server's service range).
 */
export class MemoryApiServer {
  /** By kubectl diff's name of an object: "<group>.<version>.<Kind>.<namespace>.<name>". */
  readonly objects = new Map<string, StoredObject>();

  static fileOf(kind: string, name: string, namespace?: string): string {
    return `${(KINDS[kind]?.apiVersion ?? 'v1').replace('/', '.')}.${kind}.${namespace ?? ''}.${name}`;
  }

  private static fileOfObject(o: KubeObject): string {
    const kind = String(o['kind']);
    const m = metaOf(o);
    return MemoryApiServer.fileOf(kind, m.name ?? '', KINDS[kind]?.namespaced ? (m.namespace ?? 'default') : undefined);
  }

  /** An object as the API has it (every manager's fields), without status. */
  live(file: string): KubeObject | undefined {
    const rec = this.objects.get(file);
    return rec ? (mergeObjects(rec.others, rec.applied ?? {}) as KubeObject) : undefined;
  }

  get(kind: string, name: string, namespace?: string): KubeObject | undefined {
    return this.live(MemoryApiServer.fileOf(kind, name, namespace));
  }

  /** What the object would be after hardway applies `o` (the fields hardway no longer applies are gone). */
  merged(o: KubeObject): KubeObject {
    return mergeObjects(this.objects.get(MemoryApiServer.fileOfObject(o))?.others ?? {}, o) as KubeObject;
  }

  /** Checks an object of kubectl's stdin (kind, namespace, authorization, validation): normalised, or kubectl's error. */
  check(o: KubeObject, who: Identity, serviceRange?: string): { object: KubeObject; file: string } | { error: string } {
    const kind = String(o['kind']);
    const m = metaOf(o);
    const t = KINDS[kind];
    if (!t || t.apiVersion !== o['apiVersion']) {
      return {
        error: `error: resource mapping not found for name: "${m.name}" namespace: "${m.namespace ?? ''}" from "STDIN": no matches for kind "${kind}" in version "${String(o['apiVersion'])}"\nensure CRDs are installed first`,
      };
    }
    if (!m.name) return { error: 'error: error validating "STDIN": metadata.name: Required value' };
    const namespace = t.namespaced ? (m.namespace ?? 'default') : undefined;
    const object = structuredClone(o);
    const meta = metaOf(object);
    if (namespace) meta.namespace = namespace;
    else delete meta.namespace;
    const group = t.apiVersion.includes('/') ? t.apiVersion.split('/')[0]! : '';
    if (!this.can(who, 'patch', group, t.resource)) {
      return {
        error: `Error from server (Forbidden): ${t.resource}${group ? `.${group}` : ''} "${m.name}" is forbidden: ${forbidden(who, 'patch', group, t.resource, namespace)}`,
      };
    }
    if (namespace && !BUILT_IN_NAMESPACES.includes(namespace) && !this.get('Namespace', namespace)) {
      return { error: `Error from server (NotFound): namespaces "${namespace}" not found` };
    }
    const file = MemoryApiServer.fileOf(kind, m.name, namespace);
    const live = this.live(file);
    const next = this.merged(object);
    const spec = (x: KubeObject | undefined) => (isObject(x?.['spec']) ? x['spec'] : {}) as { podCIDR?: string; clusterIP?: string };
    if (kind === 'Node' && spec(live).podCIDR && spec(next).podCIDR !== spec(live).podCIDR) {
      return {
        error: `The Node "${m.name}" is invalid: spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid`,
      };
    }
    const ip = spec(next).clusterIP;
    if (kind === 'Service' && ip && ip !== 'None') {
      if (spec(live).clusterIP && spec(live).clusterIP !== ip) {
        return {
          error: `The Service "${m.name}" is invalid: spec.clusterIPs[0]: Invalid value: []string{"${ip}"}: may not change once set`,
        };
      }
      if (serviceRange && !cidrContains(serviceRange, ip)) {
        return {
          error: `The Service "${m.name}" is invalid: spec.clusterIPs: Invalid value: ["${ip}"]: failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${serviceRange}`,
        };
      }
    }
    return { object, file };
  }

  /** Server-side apply by hardway (a checked object): kubectl's name of what it applied, e.g. deployment.apps/coredns. */
  apply(o: KubeObject): string {
    const file = MemoryApiServer.fileOfObject(o);
    const rec = this.objects.get(file) ?? { others: {}, generation: 0 };
    const before = this.live(file);
    rec.applied = structuredClone(o);
    this.objects.set(file, rec);
    this.bump(rec, before, this.live(file)!);
    const kind = String(o['kind']);
    const group = KINDS[kind]!.apiVersion.includes('/') ? `.${KINDS[kind]!.apiVersion.split('/')[0]}` : '';
    return `${kind.toLowerCase()}${group}/${metaOf(o).name}`;
  }

  /** Stores an object as another manager would (a kubelet registering its Node, an operator's kubectl create). */
  put(o: KubeObject): void {
    const file = MemoryApiServer.fileOfObject(o);
    const rec = this.objects.get(file) ?? { others: {}, generation: 0 };
    const before = this.live(file);
    rec.others = structuredClone(o);
    this.objects.set(file, rec);
    this.bump(rec, before, this.live(file)!);
  }

  /** Another manager's annotations on an object (flanneld's on its Node). */
  annotate(kind: string, name: string, annotations: Record<string, string>, namespace?: string): void {
    const rec = this.objects.get(MemoryApiServer.fileOf(kind, name, namespace));
    if (rec) rec.others = mergeObjects(rec.others, { metadata: { annotations } }) as KubeObject;
  }

  delete(kind: string, name: string, namespace?: string): boolean {
    return this.objects.delete(MemoryApiServer.fileOf(kind, name, namespace));
  }

  private bump(rec: StoredObject, before: KubeObject | undefined, after: KubeObject): void {
    if (!before) rec.generation = 1;
    else if (canonical(before['spec']) !== canonical(after['spec'])) rec.generation++;
  }

  /** May `who` do `verb` on `resource` of API group `group` (cluster-wide)? "*" asks for everything. */
  can(who: Identity, verb: string, group: string, resource: string): boolean {
    if (who.groups.includes('system:masters')) return true;
    const covers = (list: unknown, want: string) => Array.isArray(list) && (list.includes('*') || list.includes(want));
    for (const file of this.objects.keys()) {
      const b = this.live(file)!;
      if (b['kind'] !== 'ClusterRoleBinding') continue;
      const subjects = (b['subjects'] ?? []) as { kind: string; name: string }[];
      if (!subjects.some((s) => (s.kind === 'User' && s.name === who.user) || (s.kind === 'Group' && who.groups.includes(s.name))))
        continue;
      const role = (b['roleRef'] as { name?: string } | undefined)?.name ?? '';
      const rules = (
        role === 'cluster-admin' ? [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] : (this.get('ClusterRole', role)?.['rules'] ?? [])
      ) as { apiGroups?: string[]; resources?: string[]; verbs?: string[] }[];
      if (rules.some((r) => covers(r.apiGroups, group) && covers(r.resources, resource) && covers(r.verbs, verb))) return true;
    }
    return false;
  }

  clone(): MemoryApiServer {
    const c = new MemoryApiServer();
    for (const [f, rec] of this.objects) c.objects.set(f, structuredClone(rec));
    return c;
  }

  snapshot(): string {
    return [...this.objects.keys()]
      .sort()
      .map((f) => `${f} generation ${this.objects.get(f)!.generation} ${canonical(this.live(f))}`)
      .join('\n');
  }
}

/** Several memory hosts, reachable by the targets of the activities' inputs. */
export class MemoryLab implements HostShells {
  readonly hosts = new Map<string, MemoryHost>();
  /** What `curl URL` on any host gets (a mirror's files). */
  readonly http = new Map<string, string>();
  /** The cluster's objects, whichever API server is asked. */
  api = new MemoryApiServer();

  constructor(hosts: (MemoryHost | MemoryHostOptions)[] = []) {
    for (const h of hosts) this.add(h instanceof MemoryHost ? h : new MemoryHost(h));
  }

  add(h: MemoryHost): MemoryHost {
    h.lab = this;
    this.hosts.set(h.name, h);
    return h;
  }

  host(name: string): MemoryHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no memory host ${name}`);
    return h;
  }

  shell(target: HostTarget): HostShell {
    const h = this.host(target.name);
    if (h.address !== target.address) throw new Error(`target ${target.name} has address ${target.address}, the host has ${h.address}`);
    return h;
  }

  /** A copy of every host (see MemoryHost.clone) and of the cluster's objects. */
  clone(): MemoryLab {
    const c = new MemoryLab([...this.hosts.values()].map((h) => h.clone()));
    c.api = this.api.clone();
    return c;
  }

  /** Forgets every host's log. */
  clearLogs(): void {
    for (const h of this.hosts.values()) h.log.length = 0;
  }

  byUrl(url: string): MemoryHost | undefined {
    const m = /^https?:\/\/([^:/]+)/.exec(url);
    return [...this.hosts.values()].find((h) => h.address === m?.[1]);
  }

  /**
   * The kube-apiserver that answers at `url`: one listening there, or one behind the haproxy listening there (haproxy
   * sends connections only to servers whose /readyz passes, and closes them when there is none).
   */
  apiAt(url: string, depth = 0): { host: MemoryHost; ready: boolean } | { error: 'refused' | 'empty' } {
    const m = /^https:\/\/([^:/]+)(?::(\d+))?/.exec(url);
    const h = [...this.hosts.values()].find((x) => x.address === m?.[1] && !x.down);
    if (!m || !h) return { error: 'refused' };
    const port = Number(m[2] ?? 443);
    const api = h.apiServer();
    if (api?.port === port) return { host: h, ready: api.ready };
    const haproxy = h.services.get('haproxy');
    const config = haproxy?.active ? (haproxy.running?.config ?? '') : '';
    const bind = /^\s*bind (\S+)/m.exec(config)?.[1];
    if (depth > 0 || !bind || ![`${h.address}:${port}`, `*:${port}`, `0.0.0.0:${port}`, `:${port}`].includes(bind))
      return { error: 'refused' };
    for (const s of config.matchAll(/^\s*server \S+ (\S+)/gm)) {
      const b = this.apiAt(`https://${s[1]}`, depth + 1);
      if (!('error' in b) && b.ready) return b;
    }
    return { error: 'empty' };
  }

  /** An object as `kubectl get` shows it: with its generation, and the status the cluster's components give it. */
  view(kind: string, name: string, namespace?: string): KubeObject | undefined {
    const file = MemoryApiServer.fileOf(kind, name, namespace);
    const live = this.api.live(file);
    if (!live) return undefined;
    const generation = this.api.objects.get(file)!.generation;
    const out: KubeObject = { ...live, metadata: { ...metaOf(live), generation } };
    if (kind === 'Node') {
      const ready = this.kubeletOf(name)?.nodeReady();
      out['status'] = ready ? { conditions: [ready] } : {};
    }
    if (kind === 'Deployment') out['status'] = this.deploymentStatus(live, generation);
    return out;
  }

  /** The host whose kubelet registers as the Node `name`. */
  kubeletOf(name: string): MemoryHost | undefined {
    return [...this.hosts.values()].find((h) => h.kubeletNodeName() === name);
  }

  /**
   * A Deployment's status: observed once a controller manager runs; its replicas ready once a scheduler runs and a
   * Ready node without a NoSchedule taint has its pod network (flanneld's lease).
   */
  private deploymentStatus(d: KubeObject, generation: number): KubeObject {
    const hosts = [...this.hosts.values()];
    if (!hosts.some((h) => h.controllerHealthy('kube-controller-manager'))) return {};
    const replicas = Number((d['spec'] as { replicas?: number } | undefined)?.replicas ?? 1);
    const schedulable = [...this.api.objects.keys()]
      .map((f) => this.api.live(f)!)
      .filter((n) => n['kind'] === 'Node')
      .filter((n) => !((n['spec'] as { taints?: { effect: string }[] } | undefined)?.taints ?? []).some((t) => t.effect === 'NoSchedule'))
      .map((n) => this.kubeletOf(metaOf(n).name ?? ''))
      .filter((h) => h?.nodeReady()?.status === 'True' && h.flannelLeased());
    const running = schedulable.length > 0 && hosts.some((h) => h.controllerHealthy('kube-scheduler'));
    return {
      observedGeneration: generation,
      replicas,
      ...(running
        ? { updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas }
        : { unavailableReplicas: replicas }),
    };
  }

  snapshot(): string {
    return [...[...this.hosts.values()].map((h) => `## ${h.name}\n${h.snapshot()}`), `## API\n${this.api.snapshot()}`].join('\n');
  }
}

/** A lab with one fresh memory host per planned host. */
export function labFor(
  plan: { hosts: { name: string; address: string }[] },
  o: Partial<Omit<MemoryHostOptions, 'name' | 'address'>> = {},
): MemoryLab {
  return new MemoryLab(plan.hosts.map((h) => ({ ...o, name: h.name, address: h.address })));
}

/** One step's run in runPhases: its report, or the error it threw. */
export interface StepRun {
  activity: string;
  host: string;
  report?: { changed: string[]; notes: string[]; attempt: number };
  error?: unknown;
}

/**
 * Runs every step of `phases` for every host, in order and one at a time (outside Temporal: attempt 1), as a
 * bring-up does. Stops at the first failure unless `keepGoing`.
 */
export async function runPhases<P>(
  plan: P,
  phases: readonly { steps: readonly { activity: string; hosts(plan: P): string[]; input(plan: P, host: string): unknown }[] }[],
  activities: object,
  o: { keepGoing?: boolean } = {},
): Promise<StepRun[]> {
  const runs: StepRun[] = [];
  for (const phase of phases) {
    for (const step of phase.steps) {
      for (const host of step.hosts(plan)) {
        const fn = (activities as Record<string, (input: unknown) => Promise<StepRun['report']>>)[step.activity];
        if (!fn) throw new Error(`no activity ${step.activity}`);
        try {
          runs.push({ activity: step.activity, host, report: await fn(step.input(plan, host)) });
        } catch (error) {
          runs.push({ activity: step.activity, host, error });
          if (!o.keepGoing) throw error;
        }
      }
    }
  }
  return runs;
}
