// Preflight's reading of a host: NIC detection (the Vagrant/VirtualBox trap), memory policy, commands.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateProbe, parseAddresses, parseDefaultRoute } from '../../activities/preflight-facts.js';
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
    ...(o.commands ?? ['sh', 'ip', 'sha256sum', 'stat', 'mv', 'mkdir', 'chmod', 'chown', 'cat', 'tar', 'systemctl', 'haproxy']),
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
});
