// The lab, for real: three hosts in namespaces on this machine, reached over SSH with pinned host keys; a second lab
// of two hosts beside it. Needs Linux and root (scripts/setup.sh installs sshd, iproute2, python3 and the daemonless
// systemctl).
// Run: node --import tsx --test test/e2e/lab.test.ts
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { labDown, labExec, labMirrorUrl, labStatus, labUp, type LabState } from '../../lab/index.js';
import type { ClusterSpec } from '../../model/types.js';
import { labTestSpec } from '../helpers/lab-spec.js';
import { knownFingerprint, processStartTime, readKnownHosts, sshRun, type KnownHost } from '../helpers/lab.js';

const SUBNET = '192.168.57';
const cluster = `lt${process.pid.toString(36)}`;
const top = mkdtempSync(join(tmpdir(), 'hardway-lab-test-'));
const dir = join(top, 'lab');
const HOSTS = [
  { name: 'alpha', address: `${SUBNET}.11` },
  { name: 'beta', address: `${SUBNET}.12` },
  { name: 'gamma', address: `${SUBNET}.13` },
];
/** What lab A's binary mirror serves. */
const mirrorDir = join(top, 'mirror');
const MIRRORED = `hardway mirror probe ${randomBytes(4).toString('hex')}\n`;

type Host = { name: string; address: string };

function clusterSpec(name: string, subnet: string, hosts: Host[]): ClusterSpec {
  return labTestSpec(
    name,
    subnet,
    hosts.map((h, i) => ({ ...h, roles: i === 0 ? ['etcd', 'controlplane'] : ['worker'] })),
  );
}

const spec = clusterSpec(cluster, SUBNET, HOSTS);

/** Lab B: beside lab A, in its own directory and subnet, with the same cluster name and the same host names. */
const SUBNET_B = '192.168.59';
const dirB = join(top, 'lab-b');
const HOSTS_B = [
  { name: 'alpha', address: `${SUBNET_B}.11` },
  { name: 'beta', address: `${SUBNET_B}.12` },
];
const specB = clusterSpec(cluster, SUBNET_B, HOSTS_B);
const noMirror = { directory: join(top, 'no-such-mirror') };

let state: LabState;
let known: KnownHost[];
let key: Buffer;
/** Machine pids of processes started over SSH inside lab A's hosts (lab down must end them). */
const startedInside: number[] = [];

function ssh(host: Host, command: string, input?: string) {
  return sshRun({ address: host.address, privateKey: key, expectFingerprint: knownFingerprint(known, host.address) }, command, input);
}

async function sshOk(host: Host, command: string): Promise<string> {
  const r = await ssh(host, command);
  assert.equal(r.code, 0, `${host.name}: ${command} -> exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The lab's state file as it is now. */
function stateOf(d: string): LabState {
  return JSON.parse(readFileSync(join(d, 'state.json'), 'utf8')) as LabState;
}

function nsInode(pid: number, kind: string): number | undefined {
  try {
    return Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${kind}`))?.[1]);
  } catch {
    return undefined;
  }
}

/** The machine's pid of the process that is `nsPid` in the PID namespace of `init`. */
function machinePidOf(init: number, nsPid: number): number | undefined {
  const pidNs = nsInode(init, 'pid');
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || nsInode(Number(p), 'pid') !== pidNs) continue;
    try {
      const nspid = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1]?.split(/\s+/);
      if (Number(nspid?.at(-1)) === nsPid) return Number(p);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/** Every live process whose net, mnt, uts or pid namespace is one of `inodes`, with its command line. */
function processesIn(inodes: Set<number>): string[] {
  const out: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    for (const kind of ['net', 'mnt', 'uts', 'pid']) {
      try {
        const ino = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${p}/ns/${kind}`))?.[1]);
        if (inodes.has(ino)) {
          out.push(`${p}: ${readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ')}`);
          break;
        }
      } catch {
        /* gone, or a zombie */
      }
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

function httpStatus(address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path: '/', timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Python: connect to ADDR:22, optionally bound to a device; prints ok/fail. */
const PROBE = `
import socket, sys
s = socket.socket(); s.settimeout(1.5)
if sys.argv[2] != '-': s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[2].encode())
try:
    s.connect((sys.argv[1], 22)); print('ok')
except OSError as e:
    print('fail', e)
`;

/** `hardway lab exec ...` through the real command line. */
const client = fileURLToPath(new URL('../../client.ts', import.meta.url));
function hardwayLabExec(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', client, 'lab', 'exec', '--dir', dir, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** The cgroup hierarchies of the machine (the directories under /sys/fs/cgroup). */
function hierarchies(): string[] {
  return readdirSync('/sys/fs/cgroup').filter((c) => statSync(join('/sys/fs/cgroup', c)).isDirectory());
}

/** This test process's own cgroup in the v1 hierarchy of `controller` (e.g. /process_api/<id> for memory here). */
function ownCgroup(controller: string): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes(controller));
  return line?.split(':')[2] ?? '/';
}

/** Where a lab's cgroups lie in a hierarchy: below the cgroup of the process that made the lab. */
const base = (c: string): string => join('/sys/fs/cgroup', c, ownCgroup(c));

before(async () => {
  mkdirSync(mirrorDir, { recursive: true });
  writeFileSync(join(mirrorDir, 'probe.txt'), MIRRORED);
  state = await labUp({ dir, spec, mirror: { directory: mirrorDir } });
  known = readKnownHosts(join(dir, 'known_hosts'));
  key = readFileSync(join(dir, 'id_ed25519'));
});

after(async () => {
  await labDown(dirB).catch((e: Error) => console.error(`lab down (B): ${e.message}`));
  await labDown(dir).catch((e: Error) => console.error(`lab down: ${e.message}`));
  rmSync(top, { recursive: true, force: true });
});

describe('lab', { timeout: 120_000 }, () => {
  it('refuses clearly, and makes nothing, when not root', () => {
    const probeDir = join(dir, '..', 'not-root');
    const script = `import('${new URL('../../lab/index.ts', import.meta.url).href}').then((m) => m.labUp({ dir: ${JSON.stringify(probeDir)}, spec: ${JSON.stringify(spec)} })).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); });`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      uid: 65534,
      gid: 65534,
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 3, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stderr, /needs root/);
    assert.equal(existsSync(probeDir), false);
  });

  it('writes cluster.yaml with the lab SSH settings, key pair and known_hosts by address and name', () => {
    const written = parse(readFileSync(join(dir, 'cluster.yaml'), 'utf8')) as ClusterSpec;
    assert.equal(written.name, cluster);
    assert.deepEqual(
      written.hosts.map((h) => [h.name, h.address]),
      HOSTS.map((h) => [h.name, h.address]),
    );
    assert.deepEqual(written.ssh, {
      user: 'root',
      port: 22,
      identityFile: join(dir, 'id_ed25519'),
      knownHostsFile: join(dir, 'known_hosts'),
    });
    assert.equal(written.networks.infrastructure, `${SUBNET}.0/24`);
    assert.equal(statSync(join(dir, 'id_ed25519')).mode & 0o077, 0, 'private key is 0600');
    assert.ok(existsSync(join(dir, 'id_ed25519.pub')));
    for (const h of HOSTS) {
      assert.equal(knownFingerprint(known, h.address), knownFingerprint(known, h.name));
      assert.equal(known.filter((k) => k.names.includes(h.address)).length, 1);
    }
    assert.equal(new Set(HOSTS.map((h) => knownFingerprint(known, h.address))).size, HOSTS.length, 'one host key per host');
  });

  it('reaches every host over SSH with the lab key, pinning the host key from known_hosts', async () => {
    for (const h of HOSTS) {
      const r = await ssh(h, 'id -un');
      assert.equal(r.code, 0);
      assert.equal(r.stdout.trim(), 'root');
      assert.equal(r.presented, knownFingerprint(known, h.address));
    }
  });

  it('refuses a host key that is not the expected one, and a client key that is not the lab key', async () => {
    const [a, b] = [HOSTS[0]!, HOSTS[1]!];
    await assert.rejects(
      sshRun({ address: a.address, privateKey: key, expectFingerprint: knownFingerprint(known, b.address) }, 'true'),
      /verification failed|Host denied/i,
    );
    const other = join(dir, '..', 'other_key');
    const kg = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    assert.equal(kg.status, 0);
    await assert.rejects(
      sshRun({ address: a.address, privateKey: readFileSync(other), expectFingerprint: knownFingerprint(known, a.address) }, 'true'),
      /authentication methods failed/i,
    );
  });

  it('runs `hardway lab exec HOST -- CMD` (and HOST CMD) through the command line', () => {
    let r = hardwayLabExec('beta', '--', 'sh', '-c', 'echo ok; hostname');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\nbeta\n');
    r = hardwayLabExec('gamma', 'hostname');
    assert.deepEqual([r.status, r.stdout], [0, 'gamma\n'], r.stderr);
    r = hardwayLabExec('alpha', '--', 'sh', '-c', 'exit 3');
    assert.equal(r.status, 3, 'the exit code of the command');
  });

  it("raises the machine's inotify limits, which its hosts share (never lowers them)", () => {
    const read = (k: string) => Number(readFileSync(`/proc/sys/fs/inotify/${k}`, 'utf8').trim());
    assert.ok(read('max_user_instances') >= 1024, `max_user_instances ${read('max_user_instances')}`);
    assert.ok(read('max_user_watches') >= 524_288, `max_user_watches ${read('max_user_watches')}`);
  });

  it('gives every host its own hostname', async () => {
    const names = [];
    for (const h of HOSTS) names.push((await sshOk(h, 'hostname')).trim());
    assert.deepEqual(
      names,
      HOSTS.map((h) => h.name),
    );
    const exec = await labExec(dir, 'beta', ['hostname']);
    assert.deepEqual([exec.code, exec.stdout.trim()], [0, 'beta']);
  });

  it('gives every host its own /etc (and /root, /opt, /usr/local/bin), separate from the machine', async () => {
    const [a, b] = [HOSTS[0]!, HOSTS[1]!];
    const name = `hardway-lab-probe-${randomBytes(4).toString('hex')}`;
    for (const d of ['/etc', '/root', '/opt', '/usr/local/bin', '/var/lib']) {
      await sshOk(a, `echo ${a.name} > ${d}/${name}`);
      assert.equal((await sshOk(a, `cat ${d}/${name}`)).trim(), a.name, `${d} on ${a.name}`);
      assert.equal((await ssh(b, `test -e ${d}/${name}`)).code, 1, `${d}/${name} must not exist on ${b.name}`);
      assert.equal(existsSync(`${d}/${name}`), false, `${d}/${name} must not exist on the machine`);
    }
    // Usable /etc: users, and /var/run is /run.
    assert.equal((await sshOk(b, 'getent passwd root')).split(':')[5], '/root');
    assert.equal((await sshOk(b, 'readlink /var/run')).trim(), '/run');
  });

  it('has /etc/hosts with localhost and its own name only', async () => {
    for (const h of HOSTS) {
      const hosts = await sshOk(h, 'cat /etc/hosts');
      assert.match(hosts, /^127\.0\.0\.1\s+localhost/m);
      assert.match(hosts, new RegExp(`\\s${h.name}$`, 'm'));
      for (const o of HOSTS.filter((x) => x !== h)) {
        assert.ok(!hosts.includes(o.name), `${h.name} /etc/hosts lists ${o.name}`);
        assert.ok(!hosts.includes(o.address), `${h.name} /etc/hosts lists ${o.address}`);
        assert.notEqual((await ssh(h, `getent hosts ${o.name}`)).code, 0);
      }
    }
  });

  it('has eth0 = 10.0.2.15 with the default route, reaching nothing; eth1 reaches every other host', async () => {
    for (const h of HOSTS) {
      const addrs = await sshOk(h, 'ip -4 -o addr show');
      assert.match(addrs, /^\d+: eth0\s+inet 10\.0\.2\.15\/24 /m);
      assert.match(addrs, new RegExp(`^\\d+: eth1\\s+inet ${h.address.replaceAll('.', '\\.')}/24 `, 'm'));
      assert.match(await sshOk(h, 'ip route show default'), /^default via 10\.0\.2\.2 dev eth0/);
      for (const o of HOSTS.filter((x) => x !== h)) {
        const viaEth0 = await ssh(h, `python3 - ${o.address} eth0`, PROBE);
        assert.match(viaEth0.stdout, /^fail/, `${h.name} reached ${o.name} through eth0: ${viaEth0.stdout}${viaEth0.stderr}`);
        const bound = await ssh(h, `timeout 3 bash -c '</dev/tcp/${o.address}/22' 2>/dev/null && echo ok || echo fail`);
        assert.equal(bound.stdout.trim(), 'ok', `${h.name} -> ${o.name}:22 over eth1`);
        const viaEth1 = await ssh(h, `python3 - ${o.address} eth1`, PROBE);
        assert.equal(viaEth1.stdout.trim(), 'ok');
      }
    }
  });

  it('runs systemd units with systemctl: enable --now over SSH, still running after the session ends', async () => {
    const h = HOSTS[2]!;
    const unit = [
      '[Unit]',
      'Description=lab test web server',
      '[Service]',
      `ExecStart=/usr/bin/python3 -m http.server --bind ${h.address} 8080`,
      'WorkingDirectory=/tmp',
      'Restart=always',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n');
    const put = await ssh(
      h,
      'cat > /etc/systemd/system/labweb.service && systemctl daemon-reload && systemctl enable --now labweb.service',
      unit,
    );
    assert.equal(put.code, 0, put.stderr);
    // New sessions, after the first one closed.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await sshOk(h, 'systemctl is-active labweb')).trim(), 'active');
    assert.equal((await sshOk(h, 'systemctl is-enabled labweb')).trim(), 'enabled');
    assert.equal(await httpStatus(h.address, 8080), 200);
    const netIno = statSync(`/run/netns/${state.hosts[2]!.netns}`).ino;
    assert.ok(
      processesIn(new Set([netIno])).some((p) => p.includes('http.server')),
      'the service runs in the host namespace',
    );
    // The unit exists only on that host.
    assert.equal((await ssh(HOSTS[0]!, 'systemctl is-active labweb')).stdout.trim() === 'active', false);
    // restart works and the service answers again
    await sshOk(h, 'systemctl restart labweb');
    assert.equal((await sshOk(h, 'systemctl is-active labweb')).trim(), 'active');
    for (let i = 0; ; i++) {
      const ok = await httpStatus(h.address, 8080).then(
        (s) => s === 200,
        () => false,
      );
      if (ok) break;
      assert.ok(i < 50, 'service answers after restart');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('starts a unit again when its main process ends and Restart= asks for it (as systemd would), never after systemctl stop', async () => {
    const h = HOSTS[1]!;
    const unitText = (restart: string) =>
      [
        '[Unit]',
        'Description=lab supervision test',
        '[Service]',
        'ExecStart=/bin/sleep 10000',
        `Restart=${restart}`,
        'RestartSec=1',
        '',
      ].join('\n');
    const mainPid = async (unit: string) => (await sshOk(h, `sed -n 's/^MainPID=//p' /var/run/${unit}.status 2>/dev/null || true`)).trim();
    const running = async (unit: string) => {
      const pid = await mainPid(unit);
      return pid !== '' && (await ssh(h, `kill -0 ${pid}`)).code === 0 ? pid : undefined;
    };
    const until = async (what: string, probe: () => Promise<boolean>) => {
      for (let i = 0; !(await probe()); i++) {
        assert.ok(i < 100, what);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const start = async (unit: string, restart: string) => {
      await sshOk(h, `cat > /etc/systemd/system/${unit} <<'EOF'\n${unitText(restart)}EOF\nsystemctl start ${unit}`);
      const pid = await running(unit);
      assert.ok(pid, `${unit} runs`);
      return pid;
    };
    try {
      // Restart=on-failure: killed by SIGKILL, it comes back with a new main process after RestartSec.
      const first = await start('sup-fail.service', 'on-failure');
      await sshOk(h, `kill -KILL ${first}`);
      await until('sup-fail.service was started again', async () => {
        const now = await running('sup-fail.service');
        return !!now && now !== first;
      });
      // ... but not after a clean end (SIGTERM), nor after systemctl stop.
      await sshOk(h, `kill -TERM ${await running('sup-fail.service')}`);
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(await running('sup-fail.service'), undefined, 'a clean end of an on-failure unit is final');
      // Restart=always: a clean end, then systemctl stop.
      const always = await start('sup-always.service', 'always');
      await sshOk(h, `kill -TERM ${always}`);
      await until('sup-always.service was started again', async () => {
        const now = await running('sup-always.service');
        return !!now && now !== always;
      });
      await sshOk(h, 'systemctl stop sup-always.service');
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(await running('sup-always.service'), undefined, 'systemctl stop is final');
      assert.match(
        await sshOk(h, 'cat /var/log/hardway-init.log'),
        /sup-fail\.service: main process \d+ ended \(signal 9\); Restart=on-failure/,
      );
    } finally {
      await ssh(h, 'systemctl stop sup-fail.service sup-always.service; rm -f /etc/systemd/system/sup-*.service');
    }
  });

  it('gives every host its own PID namespace: ps, pidof, pkill and /proc see only its processes', async () => {
    const [a, b, c] = [HOSTS[0]!, HOSTS[1]!, HOSTS[2]!];
    for (const h of HOSTS) {
      const ps = (await sshOk(h, 'ps -e -o pid=,comm=,args=')).trim().split('\n');
      assert.match(ps[0]!.trim(), new RegExp(`^1 hardway-init .*hardway-lab-init ${state.id} ${h.name}$`), `PID 1 of ${h.name}: ${ps[0]}`);
      assert.equal(ps.filter((l) => l.includes('[listener]')).length, 1, `${h.name} sees one sshd listener (its own):\n${ps.join('\n')}`);
      assert.ok(!ps.some((l) => /\bnode\b/.test(l)), `${h.name} sees a node process:\n${ps.join('\n')}`);
      assert.match(await sshOk(h, "tr '\\0' ' ' < /proc/1/cmdline"), new RegExp(` ${h.name} $`));
    }
    // The service that systemctl started over SSH on gamma lives in gamma's PID namespace, a child of its init.
    assert.match(await sshOk(c, 'ps -e -o ppid=,args='), /^\s*1 \/usr\/bin\/python3 -m http\.server/m);
    for (const h of [a, b]) assert.doesNotMatch(await sshOk(h, 'ps -e -o args='), /http\.server/, `${h.name} sees gamma's service`);
    // A process started over SSH on alpha outlives the session, inside alpha only.
    const nsPid = Number((await sshOk(a, 'sleep 1000 >/dev/null 2>&1 & echo $!')).trim());
    assert.ok((await sshOk(a, 'pidof sleep')).trim().split(' ').map(Number).includes(nsPid));
    assert.equal((await ssh(b, 'pidof sleep')).code, 1, 'beta sees no sleep');
    assert.equal((await ssh(b, 'pkill -x sleep')).code, 1, "pkill on beta matches nothing of alpha's");
    assert.equal((await ssh(a, `kill -0 ${nsPid}`)).code, 0, 'the sleep on alpha is still alive');
    const pid = machinePidOf(stateOf(dir).hosts[0]!.init!, nsPid);
    assert.ok(pid, 'the sleep is in the PID namespace of alpha');
    startedInside.push(pid);
  });

  it('gives every host its own cgroups: /proc/self/cgroup reads / and a cgroup made inside lands under its subtree', async () => {
    const [a, b] = [HOSTS[0]!, HOSTS[1]!];
    for (const h of [a, b]) {
      const lines = (await sshOk(h, 'cat /proc/self/cgroup')).trim().split('\n');
      for (const c of ['memory', 'cpu'])
        assert.equal(lines.find((l) => l.split(':')[1]?.split(',').includes(c))?.split(':')[2], '/', `${h.name} ${c}: ${lines.join(' ')}`);
      assert.ok(
        lines.every((l) => l.endsWith(':/')),
        `${h.name}: ${lines.join(' ')}`,
      );
    }
    // On the machine, the host's sshd lives in the host's cgroup.
    const sshdA = (await labStatus(dir))[0]!.pid!;
    const memoryOfA = join(ownCgroup('memory'), 'hardway', state.id, 'alpha');
    assert.match(readFileSync(`/proc/${sshdA}/cgroup`, 'utf8'), new RegExp(`^\\d+:memory:${memoryOfA}$`, 'm'), 'below our own cgroup');
    const name = `hwtest-${randomBytes(3).toString('hex')}`;
    await sshOk(a, `mkdir /sys/fs/cgroup/memory/${name}`);
    assert.ok(existsSync(`${base('memory')}/hardway/${state.id}/alpha/${name}`), "under alpha's subtree");
    assert.ok(!existsSync(`${base('memory')}/hardway/${state.id}/beta/${name}`), "not under beta's");
    assert.ok(!existsSync(`/sys/fs/cgroup/memory/${name}`), 'not at the root of the machine');
    assert.equal((await ssh(b, `test -e /sys/fs/cgroup/memory/${name}`)).code, 1, 'beta does not see it');
    // A process joins a cpuset made inside the host (it gets its parent's cpus and mems) and stays there.
    const procs = await sshOk(
      a,
      `mkdir -p /sys/fs/cgroup/cpuset/${name}/inner && (sh -c 'echo $$ > /sys/fs/cgroup/cpuset/${name}/inner/cgroup.procs && exec sleep 1001' >/dev/null 2>&1 &) ; sleep 0.5; cat /sys/fs/cgroup/cpuset/${name}/inner/cgroup.procs`,
    );
    assert.match(procs, /^\d+$/m, 'a process in the cpuset made inside');
    const onMachine = readFileSync(`${base('cpuset')}/hardway/${state.id}/alpha/${name}/inner/cgroup.procs`, 'utf8').trim();
    assert.match(onMachine, /^\d+$/);
    startedInside.push(Number(onMachine));
  });

  it('serves the binary mirror on the bridge address to every host', async () => {
    const url = `http://${SUBNET}.1:8088/`;
    assert.equal(await labMirrorUrl(dir), url);
    assert.equal(state.mirror?.url, url);
    assert.equal(state.mirror?.directory, mirrorDir);
    for (const h of HOSTS) assert.equal(await sshOk(h, `curl -fsS ${url}probe.txt`), MIRRORED, `${h.name} fetches from the mirror`);
  });

  it('lab up a second time changes nothing', async () => {
    const before = await labStatus(dir);
    assert.equal(before.length, HOSTS.length);
    assert.ok(before.every((s) => s.sshd === 'up' && s.pid));
    const files = ['known_hosts', 'id_ed25519', 'cluster.yaml'].map((f) => readFileSync(join(dir, f), 'utf8'));
    const probe = `/etc/hardway-lab-keep-${randomBytes(3).toString('hex')}`;
    await sshOk(HOSTS[0]!, `touch ${probe} && echo '${HOSTS[1]!.address} ${HOSTS[1]!.name}' >> /etc/hosts`);
    const lines: string[] = [];
    const again = await labUp({ dir, spec, mirror: { directory: mirrorDir }, log: (l) => lines.push(l) });
    assert.deepEqual(lines, [], 'nothing to do');
    assert.deepEqual(again, state);
    assert.deepEqual(await labStatus(dir), before, 'same sshd pids');
    assert.deepEqual(
      ['known_hosts', 'id_ed25519', 'cluster.yaml'].map((f) => readFileSync(join(dir, f), 'utf8')),
      files,
    );
    assert.equal((await ssh(HOSTS[0]!, `test -e ${probe}`)).code, 0, 'host /etc is not reseeded');
    assert.match(await sshOk(HOSTS[0]!, 'cat /etc/hosts'), new RegExp(HOSTS[1]!.name), '/etc/hosts edits survive');
    assert.equal((await sshOk(HOSTS[2]!, 'systemctl is-active labweb')).trim(), 'active', 'services keep running');
  });

  it('lab up repairs a broken lab: dead sshd, lost mount namespace', async () => {
    const status = await labStatus(dir);
    process.kill(status[0]!.pid!, 'SIGKILL');
    const gone = state.hosts[1]!;
    assert.equal(spawnSync('umount', [gone.mntNs]).status, 0);
    await labUp({ dir, spec, mirror: { directory: mirrorDir } });
    const after = await labStatus(dir);
    assert.ok(after.every((s) => s.sshd === 'up'));
    assert.notEqual(after[0]!.pid, status[0]!.pid);
    assert.equal(after[2]!.pid, status[2]!.pid, 'untouched host keeps its sshd');
    for (const h of HOSTS) assert.equal((await sshOk(h, 'hostname')).trim(), h.name);
    assert.equal((await sshOk(HOSTS[1]!, 'findmnt -n -o TARGET /etc')).trim(), '/etc');
  });

  it('lab up restarts a host whose init died; killing the init ended every process of the host', async () => {
    const c = HOSTS[2]!;
    const before = stateOf(dir).hosts[2]!;
    const sshd = (await labStatus(dir))[2]!.pid!;
    process.kill(before.init!, 'SIGKILL');
    for (let i = 0; alive(sshd) && i < 50; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(sshd), false, "gamma's sshd ended with its init");
    assert.equal((await labStatus(dir))[2]!.sshd, 'down');
    const again = await labUp({ dir, spec, mirror: { directory: mirrorDir } });
    assert.notEqual(again.hosts[2]!.init, before.init);
    assert.equal((await sshOk(c, 'hostname')).trim(), c.name);
    assert.match(await sshOk(c, 'ps -e -o pid=,comm='), /^\s*1 hardway-init$/m);
  });

  it('two lab up runs on one directory do not interleave: one waits for the other; a stale lock is taken over', async () => {
    const lock = join(dirB, 'lab.lock');
    const gone = spawnSync('true').pid!;
    mkdirSync(dirB, { recursive: true });
    writeFileSync(lock, JSON.stringify({ pid: gone, start: '1', op: 'up', since: '2020-01-01T00:00:00Z', token: 'stale' }));
    const logs: string[][] = [[], []];
    const [s1, s2] = await Promise.all(logs.map((lines) => labUp({ dir: dirB, spec: specB, mirror: noMirror, log: (l) => lines.push(l) })));
    const all = logs.flat();
    assert.ok(
      all.some((l) => l.includes(`took over the lock of ${dirB} from pid ${gone}`)),
      all.join('\n'),
    );
    assert.ok(
      all.some((l) => new RegExp(`in use by pid ${process.pid} \\(\`lab up\` since .*\\); waiting`).test(l)),
      all.join('\n'),
    );
    assert.equal(logs.filter((l) => l.some((x) => /sshd started/.test(x))).length, 1, 'one run made the lab, the other found it made');
    assert.deepEqual(s1, s2);
    assert.equal(existsSync(lock), false, 'the lock is released');
    const status = await labStatus(dirB);
    assert.deepEqual(
      status.map((x) => [x.name, x.sshd]),
      HOSTS_B.map((h) => [h.name, 'up']),
    );
    // A live holder that does not let go: up and down give up after their timeout, clearly, changing nothing.
    writeFileSync(
      lock,
      JSON.stringify({ pid: process.pid, start: processStartTime(process.pid), op: 'up', since: '2020-01-01T00:00:00Z', token: 'held' }),
    );
    await assert.rejects(labUp({ dir: dirB, spec: specB, mirror: noMirror, lockTimeoutMs: 300 }), /is locked by pid \d+ .*gave up after/);
    await assert.rejects(labDown(dirB, undefined, { timeoutMs: 300 }), /is locked by pid \d+/);
    rmSync(lock);
    assert.deepEqual(await labStatus(dirB), status, 'nothing changed');
  });

  it('runs two labs side by side (same cluster and host names, other subnet); lab down of one leaves the other working', async () => {
    const b = stateOf(dirB);
    assert.notEqual(b.id, state.id);
    assert.equal(b.mirror, undefined, 'no mirror without a directory to serve');
    assert.equal(await labMirrorUrl(dirB), undefined);
    const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    for (const h of [...b.hosts, ...stateOf(dir).hosts]) assert.ok(netns.includes(h.netns), `netns ${h.netns}`);
    const keyB = readFileSync(join(dirB, 'id_ed25519'));
    const knownB = readKnownHosts(join(dirB, 'known_hosts'));
    const sshB = (h: Host, cmd: string) =>
      sshRun({ address: h.address, privateKey: keyB, expectFingerprint: knownFingerprint(knownB, h.address) }, cmd);
    for (const h of HOSTS_B) {
      const r = await sshB(h, 'hostname; ip -4 -o addr show dev eth1; ps -e -o args= | grep -c "[l]istener"');
      assert.equal(r.code, 0, r.stderr);
      const [name, addr, listeners] = r.stdout.trim().split('\n');
      assert.equal(name, h.name);
      assert.match(addr!, new RegExp(`inet ${h.address.replaceAll('.', '\\.')}/24`));
      assert.equal(listeners, '1');
    }
    for (const h of HOSTS) assert.equal((await sshOk(h, 'hostname')).trim(), h.name);

    await labDown(dirB);
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    for (const h of b.hosts) assert.ok(!left.includes(h.netns), `netns ${h.netns} left`);
    assert.ok(!spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.includes(b.bridge.name));
    for (const c of hierarchies()) assert.equal(existsSync(`${base(c)}/hardway/${b.id}`), false, `cgroup ${c} of lab B left`);
    assert.equal(existsSync(dirB), false);
    // Lab A is untouched.
    for (const h of HOSTS) assert.equal((await sshOk(h, 'hostname')).trim(), h.name);
    assert.ok((await labStatus(dir)).every((x) => x.sshd === 'up'));
    for (const c of hierarchies()) assert.ok(existsSync(`${base(c)}/hardway/${state.id}/alpha`), `cgroup ${c} of lab A`);
  });

  it('lab down leaves no namespace, cgroup, link, process, firewall rule or file behind', async () => {
    const now = stateOf(dir);
    const inodes = new Set<number>();
    for (const h of now.hosts) for (const p of [`/run/netns/${h.netns}`, h.mntNs, h.utsNs]) inodes.add(statSync(p).ino);
    for (const h of now.hosts) inodes.add(nsInode(h.init!, 'pid')!);
    const sshdPids = (await labStatus(dir)).map((s) => s.pid!);
    const inits = now.hosts.map((h) => h.init!);
    const mirror = now.mirror?.pid;
    assert.ok(mirror && alive(mirror), 'the mirror runs before');
    assert.ok(processesIn(inodes).length >= HOSTS.length + 1, 'sshds and the service run before');
    assert.ok(startedInside.every(alive), 'what was started inside runs before');

    await labDown(dir);

    const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    for (const h of state.hosts) assert.ok(!netns.includes(h.netns), `netns ${h.netns} left`);
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    assert.ok(!links.includes(state.bridge.name), `bridge ${state.bridge.name} left`);
    for (const h of state.hosts) assert.ok(!links.includes(h.veth), `veth ${h.veth} left`);
    assert.deepEqual(processesIn(inodes), [], 'processes left in lab namespaces');
    for (const pid of sshdPids) assert.equal(alive(pid), false, `sshd ${pid} still alive`);
    for (const pid of [...inits, ...startedInside, mirror]) assert.equal(alive(pid), false, `${pid} still alive`);
    for (const c of hierarchies()) assert.equal(existsSync(`${base(c)}/hardway/${state.id}`), false, `cgroup ${c} left`);
    const fw = spawnSync('iptables', ['-S'], { encoding: 'utf8' }).stdout;
    assert.ok(!fw.includes(state.bridge.name), 'iptables rule left');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(dir), 'mounts left under the lab dir');
    assert.equal(existsSync(dir), false, 'lab dir removed');
    // And down again is harmless.
    await labDown(dir);
  });
});
