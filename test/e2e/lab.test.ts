// The lab, for real: three hosts in namespaces on this machine, reached over SSH with pinned host keys.
// Needs Linux and root (scripts/setup.sh installs sshd, iproute2, python3 and the daemonless systemctl).
// Run: node --import tsx --test test/e2e/lab.test.ts
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { labDown, labExec, labStatus, labUp, type LabState } from '../../lab/index.js';
import type { ClusterSpec } from '../../model/types.js';
import { knownFingerprint, readKnownHosts, sshRun, type KnownHost } from '../helpers/lab.js';

const SUBNET = '192.168.57';
const cluster = `lt${process.pid.toString(36)}`;
const dir = join(mkdtempSync(join(tmpdir(), 'hardway-lab-test-')), 'lab');
const HOSTS = [
  { name: 'alpha', address: `${SUBNET}.11` },
  { name: 'beta', address: `${SUBNET}.12` },
  { name: 'gamma', address: `${SUBNET}.13` },
];

const spec: ClusterSpec = {
  name: cluster,
  hosts: HOSTS.map((h, i) => ({ ...h, roles: i === 0 ? ['etcd', 'controlplane'] : ['worker'] })),
  networks: { infrastructure: `${SUBNET}.0/24`, pods: '10.244.0.0/16', nodeMask: 24, services: '10.32.0.0/24', clusterDns: '10.32.0.10' },
  loadBalancer: { port: 6443 },
  versions: { kubernetes: 'v1.32.3', etcd: 'v3.4.23' },
  binaries: { source: 'official' },
  ssh: { user: 'root', port: 22 },
  preflight: { memoryPolicy: 'warn' },
};

let state: LabState;
let known: KnownHost[];
let key: Buffer;

function ssh(host: (typeof HOSTS)[number], command: string, input?: string) {
  return sshRun({ address: host.address, privateKey: key, expectFingerprint: knownFingerprint(known, host.address) }, command, input);
}

async function sshOk(host: (typeof HOSTS)[number], command: string): Promise<string> {
  const r = await ssh(host, command);
  assert.equal(r.code, 0, `${host.name}: ${command} -> exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Every live process whose net, mnt or uts namespace is one of `inodes`, with its command line. */
function processesIn(inodes: Set<number>): string[] {
  const out: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    for (const kind of ['net', 'mnt', 'uts']) {
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

before(async () => {
  state = await labUp({ dir, spec });
  known = readKnownHosts(join(dir, 'known_hosts'));
  key = readFileSync(join(dir, 'id_ed25519'));
});

after(async () => {
  await labDown(dir).catch((e: Error) => console.error(`lab down: ${e.message}`));
  rmSync(join(dir, '..'), { recursive: true, force: true });
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

  it('lab up a second time changes nothing', async () => {
    const before = await labStatus(dir);
    assert.equal(before.length, HOSTS.length);
    assert.ok(before.every((s) => s.sshd === 'up' && s.pid));
    const files = ['known_hosts', 'id_ed25519', 'cluster.yaml'].map((f) => readFileSync(join(dir, f), 'utf8'));
    const probe = `/etc/hardway-lab-keep-${randomBytes(3).toString('hex')}`;
    await sshOk(HOSTS[0]!, `touch ${probe} && echo '${HOSTS[1]!.address} ${HOSTS[1]!.name}' >> /etc/hosts`);
    const lines: string[] = [];
    const again = await labUp({ dir, spec, log: (l) => lines.push(l) });
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
    await labUp({ dir, spec });
    const after = await labStatus(dir);
    assert.ok(after.every((s) => s.sshd === 'up'));
    assert.notEqual(after[0]!.pid, status[0]!.pid);
    assert.equal(after[2]!.pid, status[2]!.pid, 'untouched host keeps its sshd');
    for (const h of HOSTS) assert.equal((await sshOk(h, 'hostname')).trim(), h.name);
    assert.equal((await sshOk(HOSTS[1]!, 'findmnt -n -o TARGET /etc')).trim(), '/etc');
  });

  it('lab down leaves no namespace, link, process, firewall rule or file behind', async () => {
    const inodes = new Set<number>();
    for (const h of state.hosts) for (const p of [`/run/netns/${h.netns}`, h.mntNs, h.utsNs]) inodes.add(statSync(p).ino);
    const sshdPids = (await labStatus(dir)).map((s) => s.pid!);
    assert.ok(processesIn(inodes).length >= HOSTS.length + 1, 'sshds and the service run before');

    await labDown(dir);

    const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    for (const h of state.hosts) assert.ok(!netns.includes(h.netns), `netns ${h.netns} left`);
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    assert.ok(!links.includes(state.bridge.name), `bridge ${state.bridge.name} left`);
    for (const h of state.hosts) assert.ok(!links.includes(h.veth), `veth ${h.veth} left`);
    assert.deepEqual(processesIn(inodes), [], 'processes left in lab namespaces');
    for (const pid of sshdPids) assert.equal(alive(pid), false, `sshd ${pid} still alive`);
    const fw = spawnSync('iptables', ['-S'], { encoding: 'utf8' }).stdout;
    assert.ok(!fw.includes(state.bridge.name), 'iptables rule left');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(dir), 'mounts left under the lab dir');
    assert.equal(existsSync(dir), false, 'lab dir removed');
    // And down again is harmless.
    await labDown(dir);
  });
});
