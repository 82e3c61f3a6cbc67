// Preflight's reading of a host: NIC detection (the Vagrant/VirtualBox trap), memory policy, commands.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  PROBED_COMMANDS,
  evaluateProbe,
  parseAddresses,
  parseCapabilities,
  parseCgroups,
  parseDefaultRoute,
  parseSysctls,
} from '../../activities/preflight-facts.js';
import type { PlannedHost } from '../../model/types.js';

const host = (roles: PlannedHost['roles'], address = '192.168.56.21'): PlannedHost => ({
  name: 'cp-1',
  address,
  roles,
  ssh: { user: 'root', port: 22 },
});
const probe = (o: { memKiB?: number; addr?: string; route?: string; commands?: string[]; uname?: string } = {}) =>
  [
    '@@uname',
    o.uname ?? 'Linux x86_64',
    '@@os',
    'Debian GNU/Linux 12 (bookworm)',
    '@@mem',
    `MemTotal:       ${o.memKiB ?? 2_000_000} kB`,
    '@@addr',
    o.addr ??
      '1: lo    inet 127.0.0.1/8 scope host lo\\ valid_lft forever\n2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global dynamic eth0\\ valid\n3: eth1    inet 192.168.56.21/24 brd 192.168.56.255 scope global eth1\\ valid',
    '@@route',
    o.route ?? 'default via 10.0.2.2 dev eth0 proto dhcp',
    '@@commands',
    // A host with every command preflight looks for, but no package manager (curl, haproxy: yes).
    ...(o.commands ?? PROBED_COMMANDS.filter((c) => !['apt-get', 'dnf', 'yum'].includes(c))),
    '@@swap',
    '0',
    '@@modules',
    'overlay',
    'br_netfilter',
  ].join('\n');

describe('preflight facts', () => {
  it('finds the infrastructure NIC and flags the default route through the NAT NIC', () => {
    const f = evaluateProbe(host(['controlplane']), probe());
    assert.equal(f.facts.infraInterface, 'eth1');
    assert.equal(f.facts.defaultRouteInterface, 'eth0');
    assert.equal(f.facts.defaultRouteAddress, '10.0.2.15');
    assert.equal(f.facts.defaultNicIsNotInfra, true);
    assert.match(f.notes.join(), /default route leaves through eth0 \(10\.0\.2\.15\).*binds and advertises on 192\.168\.56\.21/);
    assert.deepEqual(f.errors, []);
  });

  it('is quiet when the default route uses the infrastructure NIC', () => {
    const f = evaluateProbe(host(['worker']), probe({ route: 'default via 192.168.56.1 dev eth1' }));
    assert.equal(f.facts.defaultNicIsNotInfra, false);
    assert.deepEqual(f.notes, []);
  });

  it('reports a planned address that no NIC holds, naming what the host has', () => {
    const f = evaluateProbe(host(['worker'], '192.168.56.99'), probe());
    assert.match(f.addressMissing ?? '', /192\.168\.56\.99 is not on any interface.*eth0 10\.0\.2\.15\/24, eth1 192\.168\.56\.21\/24/);
  });

  it('asks 2 GiB of control planes and workers and 1 GiB of others, with a 10% allowance', () => {
    assert.ok(evaluateProbe(host(['worker']), probe({ memKiB: 1_000_000 })).memoryShort);
    assert.equal(evaluateProbe(host(['worker']), probe({ memKiB: 2_000_000 })).memoryShort, undefined);
    assert.equal(evaluateProbe(host(['etcd']), probe({ memKiB: 1_000_000 })).memoryShort, undefined);
    assert.ok(evaluateProbe(host(['etcd']), probe({ memKiB: 800_000 })).memoryShort);
  });

  it('names missing commands and unsupported systems', () => {
    const f = evaluateProbe(host(['etcd']), probe({ commands: ['sh', 'ip'], uname: 'Linux riscv64' }));
    assert.ok(f.errors.some((e) => /lacks the command tar/.test(e)));
    assert.ok(
      f.errors.some((e) => /lacks the command awk/.test(e)),
      'release checksums are looked up with awk',
    );
    assert.ok(
      f.errors.some((e) => /lacks the command openssl/.test(e)),
      'keys and certificate requests are made on the host',
    );
    assert.ok(f.errors.some((e) => /lacks the command systemctl/.test(e)));
    assert.ok(f.errors.some((e) => /riscv64/.test(e)));
  });

  it('parses ip output with veth peers and no default route', () => {
    assert.deepEqual(parseAddresses(['5: eth1@if6    inet 192.168.56.11/24 brd 192.168.56.255 scope global eth1']), [
      { name: 'eth1', address: '192.168.56.11', prefix: 24 },
    ]);
    assert.equal(parseDefaultRoute([]), undefined);
    assert.deepEqual(parseDefaultRoute(['default dev wg0 scope link']), { via: undefined, dev: 'wg0' });
  });

  it('reads the cgroup hierarchy: v1 (this machine), hybrid, and v2 only', () => {
    assert.deepEqual(parseCgroups(['9:name=systemd:/', '8:pids:/', '4:memory:/hardway/x']), { version: 1, hybrid: false });
    assert.deepEqual(parseCgroups(['12:memory:/', '1:name=systemd:/', '0::/']), { version: 1, hybrid: true });
    assert.deepEqual(parseCgroups(['0::/user.slice/session-1.scope']), { version: 2, hybrid: false });
  });

  it('finds CAP_SYS_RESOURCE in CapEff, and says when it cannot know', () => {
    // This VM's processes: every capability but CAP_SYS_RESOURCE (bit 24).
    assert.deepEqual(parseCapabilities(['CapEff:\t000001fffeffffff']), { sysResource: false, known: true });
    assert.deepEqual(parseCapabilities(['CapEff:\t000001ffffffffff']), { sysResource: true, known: true });
    assert.deepEqual(parseCapabilities([]), { sysResource: false, known: false });
  });

  it('tells read-only and missing kernel settings from writable ones', () => {
    assert.deepEqual(
      parseSysctls(['net.netfilter.nf_conntrack_max 444', 'net.ipv4.ip_forward 644', 'net.bridge.bridge-nf-call-iptables missing']),
      {
        readOnlySysctls: ['net.netfilter.nf_conntrack_max'],
        missingSysctls: ['net.bridge.bridge-nf-call-iptables'],
      },
    );
  });

  it("reports a lab-like host's limits as facts and notes, from the probe", () => {
    const out = `${probe()}\n@@cgroup\n4:memory:/\n0::/\n@@capeff\nCapEff:\t000001fffeffffff\n@@sysctl\nnet.netfilter.nf_conntrack_max 444\nnet.ipv4.ip_forward 644\n`;
    const f = evaluateProbe(host(['worker']), out);
    assert.deepEqual(f.facts.cgroup, { version: 1, hybrid: true });
    assert.equal(f.facts.capabilities.sysResource, false);
    assert.deepEqual(f.facts.readOnlySysctls, ['net.netfilter.nf_conntrack_max']);
    assert.ok(
      f.notes.some((n) => /cgroup v1.*kubelet 1.35\+ needs failCgroupV1: false/.test(n)),
      f.notes.join('\n'),
    );
    assert.ok(f.notes.some((n) => /no CAP_SYS_RESOURCE: OOM scores cannot be lowered.*restrict_oom_score_adj/.test(n)));
    assert.ok(f.notes.some((n) => /nf_conntrack_max.*conntrack.maxPerCore: 0/.test(n)));
    assert.deepEqual(f.errors, []);
    // Facts for every host, notes only where a kubelet will run.
    const etcd = evaluateProbe(host(['etcd']), out);
    assert.equal(etcd.facts.cgroup.version, 1);
    assert.ok(!etcd.notes.some((n) => /cgroup|CAP_SYS_RESOURCE|read-only/.test(n)), etcd.notes.join('\n'));
  });
});
