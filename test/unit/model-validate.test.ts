import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseClusterFile, type ParseResult } from '../../model/validate.js';
import { formatProblems } from '../../model/problem-format.js';
import { didYouMean, editDistance } from '../../model/did-you-mean.js';
import { checkSpec } from '../../model/check.js';
import type { ClusterSpec, Problem } from '../../model/types.js';
import { host, seed, type Obj } from '../helpers/seed-object.js';

// ------------------------------------------------------------------------------------------------
// Fixtures

function check(obj: Obj): ParseResult {
  return parseClusterFile(stringify(obj));
}

function problemsOf(r: ParseResult): Problem[] {
  return r.ok ? r.warnings : r.problems;
}

/** Assert a problem with this code and path exists, with a message and a fix; return it. */
function expectProblem(r: ParseResult, code: string, path: string, severity: 'error' | 'warning' = 'error'): Problem {
  const all = problemsOf(r);
  const p = all.find((x) => x.code === code && x.path === path);
  assert.ok(p, `expected ${severity} ${code} at "${path}", got:\n${formatProblems(all)}`);
  assert.equal(p.severity, severity);
  assert.ok(p.message.length > 0, 'message');
  assert.ok(p.fix && p.fix.length > 0, `a fix for ${code}`);
  if (severity === 'error') assert.equal(r.ok, false, 'an error makes the result not ok');
  return p;
}

function expectNo(r: ParseResult, code: string): void {
  const all = problemsOf(r);
  assert.ok(!all.some((p) => p.code === code), `did not expect ${code}:\n${formatProblems(all)}`);
}

function mutate(f: (o: Obj) => void): ParseResult {
  const o = seed();
  f(o);
  return check(o);
}

// ------------------------------------------------------------------------------------------------

describe('the seed validates with defaults applied', () => {
  it('is ok without problems', () => {
    const r = check(seed());
    assert.equal(r.ok, true, formatProblems(problemsOf(r)));
    if (!r.ok) return;
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.spec.networks, {
      infrastructure: '192.168.56.0/24',
      pods: '10.244.0.0/16',
      nodeMask: 24,
      services: '10.32.0.0/24',
      clusterDns: '10.32.0.10',
    });
    assert.deepEqual(r.spec.loadBalancer, { port: 6443 });
    assert.deepEqual(r.spec.ssh, { user: 'root', port: 22 });
    assert.deepEqual(r.spec.versions, {
      kubernetes: 'v1.34.4',
      etcd: 'v3.6.16',
      containerd: 'v1.6.20',
      runc: 'v1.1.5',
      cniPlugins: 'v1.1.1',
      flannel: 'v0.28.10',
      flannelCniPlugin: 'v1.7.1-flannel1',
    });
    assert.deepEqual(r.spec.binaries, { source: 'official' });
    assert.deepEqual(r.spec.images, {
      source: 'registry',
      sandbox: 'registry.k8s.io/pause:3.10.1',
      coredns: 'registry.k8s.io/coredns/coredns:v1.12.1',
      extra: [],
    });
    assert.deepEqual(r.spec.preflight, { memoryPolicy: 'fail' });
    assert.equal(r.spec.hosts.length, 10);
    assert.deepEqual(r.spec.hosts[0], { name: 'ca', address: '192.168.56.10', roles: ['ca'] });
  });

  it('keeps per-host ssh overrides', () => {
    const r = mutate((o) => {
      o.hosts[7].ssh = { user: 'vagrant', port: 2222 };
    });
    assert.equal(r.ok, true);
    if (r.ok) assert.deepEqual(r.spec.hosts[7]!.ssh, { user: 'vagrant', port: 2222 });
  });
});

describe('YAML syntax', () => {
  it('reports malformed YAML with line and column', () => {
    const text = 'name: lab\nhosts:\n  - name: ca\n    address: [192.168.56.10\n    roles: [ca]\n';
    const r = parseClusterFile(text);
    assert.equal(r.ok, false);
    const p = problemsOf(r)[0]!;
    assert.equal(p.code, 'yaml-syntax');
    assert.equal(typeof p.line, 'number');
    assert.equal(typeof p.column, 'number');
    assert.ok(p.line! >= 4, `line ${p.line}`);
    assert.ok(p.fix);
  });

  it('points at the bad indentation', () => {
    const text = 'name: lab\nnetworks:\n  pods: 10.244.0.0/16\n services: 10.32.0.0/24\n';
    const r = parseClusterFile(text);
    assert.equal(r.ok, false);
    const p = problemsOf(r).find((x) => x.code === 'yaml-syntax')!;
    assert.equal(p.line, 4);
    assert.equal(p.column, 2);
  });

  it('reports tabs and duplicate keys', () => {
    const dup = parseClusterFile('name: a\nname: b\n');
    assert.equal(dup.ok, false);
    const p = problemsOf(dup)[0]!;
    assert.equal(p.code, 'yaml-syntax');
    assert.equal(p.line, 2);
    assert.match(p.fix!, /duplicate/);
    const tab = parseClusterFile('name: a\nnetworks:\n\tpods: 10.244.0.0/16\n');
    assert.equal(tab.ok, false);
    assert.equal(problemsOf(tab)[0]!.line, 3);
  });

  it('reports an empty file and a non-mapping file', () => {
    for (const text of ['', '   \n# only a comment\n', '~']) {
      const r = parseClusterFile(text);
      assert.equal(r.ok, false);
      assert.equal(problemsOf(r)[0]!.code, 'empty-file');
    }
    for (const text of ['- a\n- b\n', '42\n', '"hello"']) {
      const r = parseClusterFile(text);
      assert.equal(r.ok, false);
      assert.equal(problemsOf(r)[0]!.code, 'not-a-mapping');
    }
  });

  it('never throws, whatever the input', () => {
    const inputs = [
      '',
      '\u0000\u0001',
      '{{{{',
      ': : :',
      'hosts: 3',
      'hosts: [1, "x", null, [], {}]',
      'hosts:\n  - roles: {a: b}\n    name: []\n    address: {}',
      'networks: [1]\nloadBalancer: 5\nssh: "x"\nbinaries: null',
      'a: &a [*a]',
      'a: &x [1]\nb: [*x, *x, *x]\n',
      'networks:\n  pods: 300.0.0.0/8\n  nodeMask: 99\n  services: 1\n  clusterDns: true',
      'name: 1\nhosts:\n  - name: a\n    address: 1.2.3.4\n    roles: [etcd]\n    ssh: {port: -5, user: ""}',
      'ssh:\n  fingerprints: [a]',
      'ssh:\n  fingerprints: {ghost: nope}',
      '"\\x"',
      '? [a]\n: b',
      '__proto__: {polluted: true}\nconstructor: 1',
    ];
    for (const text of inputs) {
      let r: ParseResult | undefined;
      assert.doesNotThrow(() => {
        r = parseClusterFile(text);
      }, text);
      assert.equal(r!.ok, false, text);
      assert.ok(problemsOf(r!).length > 0, text);
      assert.doesNotThrow(() => formatProblems(problemsOf(r!)));
    }
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});

describe('unknown fields', () => {
  it('reports an unknown top-level field with did-you-mean and line/column of the key', () => {
    const text = 'name: lab\nhosts: []\nloadbalancer:\n  port: 6443\n';
    const r = parseClusterFile(text);
    const p = expectProblem(r, 'unknown-field', 'loadbalancer');
    assert.match(p.message, /did you mean "loadBalancer"\?/);
    assert.match(p.fix!, /rename "loadbalancer" to "loadBalancer"/);
    assert.equal(p.line, 3);
    assert.equal(p.column, 1);
  });

  it('reports an unknown nested field with its path, line and column', () => {
    const text = [
      'name: lab',
      'hosts:',
      '  - name: ca',
      '    address: 192.168.56.10',
      '    roles: [ca]',
      '  - name: cp-1',
      '    adress: 192.168.56.21',
      '    roles: [controlplane]',
      '',
    ].join('\n');
    const r = parseClusterFile(text);
    const p = expectProblem(r, 'unknown-field', 'hosts[1].adress');
    assert.match(p.message, /did you mean "address"/);
    assert.equal(p.line, 7);
    assert.equal(p.column, 5);
    // ...and the missing address is reported too, located at the host.
    const missing = expectProblem(r, 'required', 'hosts[1].address');
    assert.equal(missing.line, 6);
  });

  it('suggests by edit distance at each level', () => {
    const r = mutate((o) => {
      o.networks.nodeMsk = 24;
      o.networks.service = '10.32.0.0/24';
      o.versions = { kubernetis: 'v1.32.3' };
      o.hosts[0].role = ['ca'];
      o.ssh = { usr: 'root' };
    });
    assert.match(expectProblem(r, 'unknown-field', 'networks.nodeMsk').message, /"nodeMask"/);
    assert.match(expectProblem(r, 'unknown-field', 'networks.service').message, /"services"/);
    assert.match(expectProblem(r, 'unknown-field', 'versions.kubernetis').message, /"kubernetes"/);
    assert.match(expectProblem(r, 'unknown-field', 'hosts[0].role').message, /"roles"/);
    assert.match(expectProblem(r, 'unknown-field', 'ssh.usr').message, /"user"/);
  });

  it('lists the allowed fields when nothing is close', () => {
    const r = mutate((o) => {
      o.colour = 'blue';
    });
    const p = expectProblem(r, 'unknown-field', 'colour');
    assert.doesNotMatch(p.message, /did you mean/);
    assert.match(p.fix!, /remove "colour"/);
    assert.match(p.fix!, /hosts/);
    assert.match(p.fix!, /networks/);
  });

  it('did-you-mean helpers', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('same', 'same'), 0);
    assert.equal(didYouMean('adress', ['name', 'address', 'roles']), 'address');
    assert.equal(didYouMean('LOADBALANCER', ['loadBalancer', 'hosts']), 'loadBalancer');
    assert.equal(didYouMean('infra', ['infrastructure', 'pods']), 'infrastructure');
    assert.equal(didYouMean('zzzzzz', ['name', 'hosts']), undefined);
  });
});

describe('types and required fields', () => {
  it('reports wrong types with a specific fix', () => {
    const r = mutate((o) => {
      o.loadBalancer = { port: '6443' };
      o.hosts[7].roles = 'worker';
      o.networks.nodeMask = 24.5;
      o.versions = { kubernetes: 1.32 };
    });
    assert.match(expectProblem(r, 'wrong-type', 'loadBalancer.port').fix!, /remove the quotes: 6443/);
    assert.match(expectProblem(r, 'wrong-type', 'hosts[7].roles').fix!, /roles: \[worker\]/);
    expectProblem(r, 'wrong-type', 'networks.nodeMask');
    assert.match(expectProblem(r, 'wrong-type', 'versions.kubernetes').fix!, /quote/);
  });

  it('reports hosts that are not a list, and a missing name', () => {
    const r = check({ hosts: { ca: '192.168.56.10' } });
    expectProblem(r, 'wrong-type', 'hosts');
    expectProblem(r, 'required', 'name');
  });

  it('reports missing host fields', () => {
    const r = mutate((o) => {
      o.hosts[3] = { name: 'etcd-3' };
    });
    expectProblem(r, 'required', 'hosts[3].address');
    expectProblem(r, 'required', 'hosts[3].roles');
  });
});

describe('role rules', () => {
  it('exactly one CA', () => {
    const none = mutate((o) => {
      o.hosts[0].roles = ['admin'];
      o.hosts.pop();
    });
    expectProblem(none, 'no-ca', 'hosts');
    const two = mutate((o) => {
      o.hosts[9].roles = ['admin', 'ca'];
    });
    const p = expectProblem(two, 'multiple-ca', 'hosts[9].roles');
    assert.match(p.message, /ca, admin/);
  });

  it('an odd number of etcd members, at least one; a warning for one', () => {
    const none = mutate((o) => {
      o.hosts = o.hosts.filter((h: Obj) => !h.roles.includes('etcd'));
    });
    expectProblem(none, 'no-etcd', 'hosts');

    const two = mutate((o) => {
      o.hosts.splice(3, 1);
    });
    const p = expectProblem(two, 'etcd-even', 'hosts');
    assert.match(p.fix!, /1 or 3/);

    const four = mutate((o) => {
      o.hosts.push(host('etcd-4', 14, ['etcd']));
    });
    expectProblem(four, 'etcd-even', 'hosts');

    const one = mutate((o) => {
      o.hosts.splice(2, 2);
    });
    assert.equal(one.ok, true, 'one member is allowed');
    const w = expectProblem(one, 'etcd-single', 'hosts[1].roles', 'warning');
    assert.match(w.message, /fault tolerance/);

    const five = mutate((o) => {
      o.hosts.push(host('etcd-4', 14, ['etcd']), host('etcd-5', 15, ['etcd']));
    });
    assert.equal(five.ok, true);
    if (five.ok) assert.deepEqual(five.warnings, []);
  });

  it('exactly one load balancer host, or an external one and then none', () => {
    const none = mutate((o) => {
      o.hosts.splice(4, 1);
    });
    assert.match(expectProblem(none, 'no-loadbalancer', 'hosts').fix!, /loadBalancer\.external\.address/);

    const two = mutate((o) => {
      o.hosts.push(host('lb-2', 25, ['loadbalancer']));
    });
    expectProblem(two, 'multiple-loadbalancers', 'hosts[10].roles');

    const conflict = mutate((o) => {
      o.loadBalancer = { external: { address: '192.168.56.5' } };
    });
    expectProblem(conflict, 'loadbalancer-conflict', 'hosts[4].roles');

    const external = mutate((o) => {
      o.hosts.splice(4, 1);
      o.loadBalancer = { external: { address: '192.168.56.5' }, port: 443 };
    });
    assert.equal(external.ok, true, formatProblems(problemsOf(external)));

    const badExternal = mutate((o) => {
      o.hosts.splice(4, 1);
      o.loadBalancer = { external: { address: '192.168.56' } };
    });
    expectProblem(badExternal, 'invalid-address', 'loadBalancer.external.address');
    expectNo(badExternal, 'no-loadbalancer');
  });

  it('a host that is loadbalancer and controlplane cannot use port 6443', () => {
    const r = mutate((o) => {
      o.hosts.splice(4, 1);
      o.hosts[4].roles = ['controlplane', 'loadbalancer'];
    });
    expectProblem(r, 'port-conflict', 'hosts[4].roles');
    const ok = mutate((o) => {
      o.hosts.splice(4, 1);
      o.hosts[4].roles = ['controlplane', 'loadbalancer'];
      o.loadBalancer = { port: 8443 };
    });
    assert.equal(ok.ok, true, formatProblems(problemsOf(ok)));
  });

  it('at least one control plane and one worker', () => {
    const r = mutate((o) => {
      o.hosts = o.hosts.filter((h: Obj) => !h.roles.includes('controlplane') && !h.roles.includes('worker'));
    });
    expectProblem(r, 'no-controlplane', 'hosts');
    expectProblem(r, 'no-worker', 'hosts');
  });

  it('at most one admin host; zero is fine', () => {
    const zero = mutate((o) => {
      o.hosts.pop();
    });
    assert.equal(zero.ok, true);
    const two = mutate((o) => {
      o.hosts.push(host('admin-2', 41, ['admin']));
    });
    expectProblem(two, 'multiple-admins', 'hosts[10].roles');
  });

  it('a role listed twice, an empty roles list, an unknown role', () => {
    const r = mutate((o) => {
      o.hosts[1].roles = ['etcd', 'etcd'];
      o.hosts[9].roles = [];
      o.hosts[8].roles = ['wroker'];
    });
    const dup = expectProblem(r, 'duplicate-role', 'hosts[1].roles[1]');
    assert.match(dup.fix!, /remove the second "etcd"/);
    expectProblem(r, 'empty-roles', 'hosts[9].roles');
    const bad = expectProblem(r, 'invalid-value', 'hosts[8].roles[0]');
    assert.match(bad.message, /did you mean "worker"/);
    // the unreadable role does not also produce a misleading "no worker" (worker-1 is still there)
    expectNo(r, 'etcd-even');
  });

  it('does not cascade missing-role errors when a host has unreadable roles', () => {
    const r = mutate((o) => {
      o.hosts = o.hosts.filter((h: Obj) => !h.roles.includes('worker'));
      o.hosts.push({ name: 'worker-1', address: '192.168.56.31', roles: 'worker' });
    });
    expectProblem(r, 'wrong-type', 'hosts[8].roles');
    expectNo(r, 'no-worker');
  });
});

describe('names and addresses', () => {
  it('host names are RFC 1123 labels', () => {
    const r = mutate((o) => {
      o.hosts[0].name = 'CA';
      o.hosts[1].name = 'etcd_1';
      o.hosts[2].name = '-etcd';
      o.hosts[3].name = 'x'.repeat(64);
      o.hosts[4].name = 'lb.example.com';
    });
    for (const i of [0, 1, 2, 3, 4]) expectProblem(r, 'invalid-name', `hosts[${i}].name`);
    assert.match(expectProblem(r, 'invalid-name', 'hosts[0].name').fix!, /"ca"/);
    assert.match(expectProblem(r, 'invalid-name', 'hosts[3].name').message, /64 characters/);
  });

  it('host names are unique', () => {
    const r = mutate((o) => {
      o.hosts[8].name = 'worker-1';
    });
    const p = expectProblem(r, 'duplicate-name', 'hosts[8].name');
    assert.match(p.message, /hosts\[7\]/);
  });

  it('addresses are unique', () => {
    const r = mutate((o) => {
      o.hosts[8].address = '192.168.56.31';
    });
    assert.match(expectProblem(r, 'duplicate-address', 'hosts[8].address').message, /worker-1/);
  });

  it('addresses are valid IPv4', () => {
    const r = mutate((o) => {
      o.hosts[0].address = '192.168.56.256';
      o.hosts[1].address = '192.168.56';
      o.hosts[2].address = 'etcd-2.local';
      o.hosts[3].address = '192.168.056.13';
    });
    for (const i of [0, 1, 2, 3]) expectProblem(r, 'invalid-address', `hosts[${i}].address`);
  });

  it('addresses are inside the infrastructure network, not its network or broadcast address', () => {
    const r = mutate((o) => {
      o.hosts[0].address = '192.168.57.10';
      o.hosts[1].address = '192.168.56.0';
      o.hosts[2].address = '192.168.56.255';
    });
    assert.match(expectProblem(r, 'address-outside-infrastructure', 'hosts[0].address').message, /192\.168\.56\.0\/24/);
    assert.match(expectProblem(r, 'address-reserved', 'hosts[1].address').message, /network address/);
    assert.match(expectProblem(r, 'address-reserved', 'hosts[2].address').message, /broadcast address/);
  });

  it('without an infrastructure network any address is accepted', () => {
    const r = mutate((o) => {
      delete o.networks.infrastructure;
      o.hosts[0].address = '172.16.0.10';
    });
    assert.equal(r.ok, true, formatProblems(problemsOf(r)));
  });

  it('host addresses must not be inside the pod or service range', () => {
    const r = mutate((o) => {
      delete o.networks.infrastructure;
      o.hosts[0].address = '10.244.3.7';
      o.hosts[1].address = '10.32.0.99';
    });
    expectProblem(r, 'address-in-pod-range', 'hosts[0].address');
    expectProblem(r, 'address-in-service-range', 'hosts[1].address');
  });

  it('the cluster name is an RFC 1123 label', () => {
    for (const name of ['My Cluster', 'lab_1', 'lab-', '']) {
      const r = mutate((o) => {
        o.name = name;
      });
      expectProblem(r, 'invalid-name', 'name');
    }
  });
});

describe('network rules', () => {
  it('pod and service ranges are valid CIDRs (host bits, syntax)', () => {
    const r = mutate((o) => {
      o.networks.pods = '10.244.1.0/16';
      o.networks.services = '10.32.0.0';
      o.networks.infrastructure = '192.168.56.0/33';
    });
    const p = expectProblem(r, 'invalid-cidr', 'networks.pods');
    assert.match(p.message, /host bits/);
    assert.equal(p.fix, 'use 10.244.0.0/16');
    expectProblem(r, 'invalid-cidr', 'networks.services');
    expectProblem(r, 'invalid-cidr', 'networks.infrastructure');
  });

  it('pod and service ranges do not overlap each other', () => {
    const r = mutate((o) => {
      o.networks.pods = '10.0.0.0/8';
      o.networks.services = '10.32.0.0/24';
      o.networks.clusterDns = '10.32.0.10';
    });
    expectProblem(r, 'ranges-overlap', 'networks.services');
  });

  it('pod and service ranges do not overlap the infrastructure network', () => {
    const r = mutate((o) => {
      o.networks.infrastructure = '10.0.0.0/8';
      o.hosts.forEach((h: Obj, i: number) => (h.address = `10.1.0.${i + 10}`));
    });
    expectProblem(r, 'ranges-overlap', 'networks.pods');
    const s = problemsOf(r).filter((p) => p.code === 'ranges-overlap' && p.path === 'networks.services');
    assert.equal(s.length, 1);
    assert.match(s[0]!.message, /infrastructure/);
  });

  it('the pod range is large enough for every kubelet node', () => {
    const r = mutate((o) => {
      o.networks.pods = '10.244.0.0/23'; // two /24s, four kubelet nodes (2 control planes + 2 workers)
    });
    const p = expectProblem(r, 'pod-range-too-small', 'networks.pods');
    assert.match(p.message, /holds 2 node range/);
    assert.match(p.message, /4 hosts run a kubelet/);
    assert.match(p.fix!, /10\.244\.0\.0\/22/);
    const exact = mutate((o) => {
      o.networks.pods = '10.244.0.0/22';
    });
    assert.equal(exact.ok, true, formatProblems(problemsOf(exact)));
  });

  it('nodeMask is between the pod prefix and 30, and at most 16 bits finer', () => {
    const below = mutate((o) => {
      o.networks.nodeMask = 15;
    });
    expectProblem(below, 'node-mask-range', 'networks.nodeMask');
    const above = mutate((o) => {
      o.networks.nodeMask = 31;
    });
    expectProblem(above, 'node-mask-range', 'networks.nodeMask');
    const fine = mutate((o) => {
      o.networks.pods = '10.0.0.0/8';
      o.networks.services = '172.20.0.0/24';
      o.networks.clusterDns = '172.20.0.10';
      o.networks.nodeMask = 26;
    });
    expectProblem(fine, 'node-mask-too-fine', 'networks.nodeMask');
    const ok = mutate((o) => {
      o.networks.nodeMask = 30;
    });
    assert.equal(ok.ok, true, formatProblems(problemsOf(ok)));
  });

  it('clusterDns is inside the service range, not its network nor first address', () => {
    const outside = mutate((o) => {
      o.networks.clusterDns = '10.33.0.10';
    });
    assert.equal(expectProblem(outside, 'dns-outside-service-range', 'networks.clusterDns').fix, 'use 10.32.0.10');
    const net = mutate((o) => {
      o.networks.clusterDns = '10.32.0.0';
    });
    expectProblem(net, 'dns-is-network-address', 'networks.clusterDns');
    const first = mutate((o) => {
      o.networks.clusterDns = '10.32.0.1';
    });
    assert.match(expectProblem(first, 'dns-is-kubernetes-service', 'networks.clusterDns').message, /kubernetes/);
    const bcast = mutate((o) => {
      o.networks.clusterDns = '10.32.0.255';
    });
    expectProblem(bcast, 'dns-is-broadcast', 'networks.clusterDns');
    const ok = mutate((o) => {
      o.networks.clusterDns = '10.32.0.2';
    });
    assert.equal(ok.ok, true);
  });

  it('clusterDns fix follows the configured service range', () => {
    const r = mutate((o) => {
      o.networks.services = '10.96.0.0/24';
    });
    const p = expectProblem(r, 'dns-outside-service-range', 'networks.clusterDns');
    assert.equal(p.fix, 'use 10.96.0.10');
  });

  it('the service range is at most a /12', () => {
    const r = mutate((o) => {
      o.networks.services = '172.0.0.0/8';
      o.networks.clusterDns = '172.0.0.10';
    });
    expectProblem(r, 'service-range-too-large', 'networks.services');
  });

  it('a non-seed layout validates', () => {
    const r = mutate((o) => {
      o.networks = { infrastructure: '192.168.56.0/24', pods: '10.200.0.0/16', services: '10.96.0.0/24', clusterDns: '10.96.0.10' };
    });
    assert.equal(r.ok, true, formatProblems(problemsOf(r)));
  });
});

describe('other fields', () => {
  it('loadBalancer.port is 1..65535', () => {
    for (const port of [0, 65536, -1, 6443.5]) {
      const r = mutate((o) => {
        o.loadBalancer = { port };
      });
      expectProblem(r, 'invalid-port', 'loadBalancer.port');
    }
    for (const port of [1, 65535]) {
      assert.equal(
        mutate((o) => {
          o.loadBalancer = { port };
        }).ok,
        true,
      );
    }
  });

  it('ssh ports and users, globally and per host', () => {
    const r = mutate((o) => {
      o.ssh = { port: 0, user: '' };
      o.hosts[2].ssh = { port: 70000 };
      o.hosts[3].ssh = { user: 'x', shell: 'bash' };
    });
    expectProblem(r, 'invalid-port', 'ssh.port');
    expectProblem(r, 'empty', 'ssh.user');
    expectProblem(r, 'invalid-port', 'hosts[2].ssh.port');
    expectProblem(r, 'unknown-field', 'hosts[3].ssh.shell');
  });

  it('ssh fingerprints name known hosts and look like OpenSSH SHA256 fingerprints', () => {
    const good = 'SHA256:' + 'A'.repeat(43);
    const r = mutate((o) => {
      o.ssh = { fingerprints: { 'worker-1': good, 'wrker-2': good, lb: 'MD5:aa:bb' } };
    });
    const w = expectProblem(r, 'unknown-fingerprint-host', 'ssh.fingerprints.wrker-2', 'warning');
    assert.match(w.message, /did you mean "worker-2"/);
    expectProblem(r, 'invalid-fingerprint', 'ssh.fingerprints.lb');
  });

  it('binaries: mirror needs a URL, local needs a directory', () => {
    const mirror = mutate((o) => {
      o.binaries = { source: 'mirror' };
    });
    expectProblem(mirror, 'mirror-required', 'binaries.mirror');
    const local = mutate((o) => {
      o.binaries = { source: 'local' };
    });
    expectProblem(local, 'directory-required', 'binaries.directory');
    const badUrl = mutate((o) => {
      o.binaries = { source: 'mirror', mirror: 'ftp://x' };
    });
    expectProblem(badUrl, 'invalid-url', 'binaries.mirror');
    const badDir = mutate((o) => {
      o.binaries = { source: 'local', directory: 'relative/dir' };
    });
    expectProblem(badDir, 'invalid-path', 'binaries.directory');
    const unused = mutate((o) => {
      o.binaries = { source: 'official', mirror: 'https://m.example.com' };
    });
    assert.equal(unused.ok, true);
    expectProblem(unused, 'unused-field', 'binaries.mirror', 'warning');
    const okLocal = mutate((o) => {
      o.binaries = { source: 'local', directory: '/srv/bin' };
    });
    assert.equal(okLocal.ok, true);
    const badSource = mutate((o) => {
      o.binaries = { source: 'offical' };
    });
    assert.match(expectProblem(badSource, 'invalid-value', 'binaries.source').message, /did you mean "official"/);
  });

  it('versions are release tags', () => {
    const r = mutate((o) => {
      o.versions = { kubernetes: '1.32.3', etcd: 'latest' };
    });
    assert.equal(expectProblem(r, 'invalid-version', 'versions.kubernetes').fix, 'write "v1.32.3"');
    expectProblem(r, 'invalid-version', 'versions.etcd');
  });

  it('versions.containerd is a release hardway can configure (1.6 or 1.7)', () => {
    const two = mutate((o) => {
      o.versions = { containerd: 'v2.1.4' };
    });
    assert.match(expectProblem(two, 'unsupported-version', 'versions.containerd').fix!, /v1\.7\.x or v1\.6\.x/);
    const seven = mutate((o) => {
      o.versions = { containerd: 'v1.7.28', runc: 'v1.2.6', cniPlugins: 'v1.6.2' };
    });
    assert.equal(seven.ok, true, formatProblems(problemsOf(seven)));
  });

  it('images: references need a tag or digest; a side-loading source needs its mirror or directory', () => {
    const untagged = mutate((o) => {
      o.images = { sandbox: 'registry.k8s.io/pause', extra: ['Busybox:1'] };
    });
    assert.match(expectProblem(untagged, 'invalid-image', 'images.sandbox').fix!, /:latest/);
    expectProblem(untagged, 'invalid-image', 'images.extra[0]');
    const noMirror = mutate((o) => {
      o.images = { source: 'mirror' };
    });
    assert.match(expectProblem(noMirror, 'mirror-required', 'images.mirror').fix!, /REFERENCES/);
    const noDir = mutate((o) => {
      o.images = { source: 'local' };
    });
    expectProblem(noDir, 'directory-required', 'images.directory');
    const unused = mutate((o) => {
      o.images = { source: 'registry', mirror: 'http://10.0.0.1:8088/images' };
    });
    expectProblem(unused, 'unused-field', 'images.mirror', 'warning');
    const ok = mutate((o) => {
      o.images = {
        source: 'mirror',
        mirror: 'http://10.0.0.1:8088/images',
        sandbox: 'hardway.local/pause:1.0.0',
        extra: ['hardway.local/busybox:1.35.0'],
      };
    });
    assert.equal(ok.ok, true, formatProblems(problemsOf(ok)));
    const badSource = mutate((o) => {
      o.images = { source: 'registy' };
    });
    assert.match(expectProblem(badSource, 'invalid-value', 'images.source').message, /did you mean "registry"/);
  });

  it('a spec recorded by 0.2 (no images, no runtime versions) checks with the defaults of the fields added since', () => {
    const r = check(seed());
    assert.equal(r.ok, true);
    if (!r.ok) return;
    const old = JSON.parse(JSON.stringify(r.spec)) as Record<string, unknown> & { versions: Record<string, string> };
    delete old['images'];
    delete old['pki'];
    old.versions = { kubernetes: 'v1.34.4', etcd: 'v3.6.16' };
    const c = checkSpec(old as unknown as ClusterSpec);
    assert.equal(c.ok, true, c.ok ? '' : formatProblems(c.problems));
    if (!c.ok) return;
    assert.equal(c.spec.versions.containerd, 'v1.6.20');
    assert.deepEqual(c.spec.images.extra, []);
    assert.equal(c.spec.images.source, 'registry');
    assert.deepEqual(c.spec.pki, { keyAlgorithm: 'RSA-2048' }, 'a spec from before pki.keyAlgorithm keeps making RSA keys');
  });

  it('pki.keyAlgorithm: ECDSA-P256 by default, RSA on request, and a typo named with the choices', () => {
    const r = check(seed());
    assert.equal(r.ok && r.spec.pki.keyAlgorithm, 'ECDSA-P256');
    const rsa = mutate((o) => {
      o.pki = { keyAlgorithm: 'RSA-4096' };
    });
    assert.equal(rsa.ok && rsa.spec.pki.keyAlgorithm, 'RSA-4096');
    const bad = mutate((o) => {
      o.pki = { keyAlgorithm: 'ECDSA-P384' };
    });
    assert.match(expectProblem(bad, 'invalid-value', 'pki.keyAlgorithm').message, /ECDSA-P256/);
  });

  it('apiServer.extraSANs takes DNS names and addresses, and says what is wrong with anything else', () => {
    const bad = mutate((o) => {
      o.apiServer = { extraSANs: ['API.example.com', '300.1.1.1', 'under_score.example.com'] };
    });
    assert.match(expectProblem(bad, 'invalid-san', 'apiServer.extraSANs[0]').fix!, /did you mean "api\.example\.com"/);
    expectProblem(bad, 'invalid-san', 'apiServer.extraSANs[1]');
    expectProblem(bad, 'invalid-san', 'apiServer.extraSANs[2]');
    const ok = mutate((o) => {
      o.apiServer = { extraSANs: ['api.example.com', '*.k8s.example.com', '203.0.113.10'] };
    });
    assert.equal(ok.ok, true, formatProblems(problemsOf(ok)));
  });

  it('warns when the CA host also runs pods or serves the API, and not when it shares with etcd or admin', () => {
    const shared = mutate((o) => {
      o.hosts = o.hosts.filter((h: Obj) => h.name !== 'ca');
      o.hosts.find((h: Obj) => h.name === 'worker-1').roles = ['worker', 'ca'];
    });
    assert.equal(shared.ok, true, formatProblems(problemsOf(shared)));
    const w = expectProblem(shared, 'ca-shared', 'hosts[6].roles', 'warning');
    assert.match(w.message, /also worker: the CA key then lives on a host that runs workloads/);
    const quiet = mutate((o) => {
      o.hosts = o.hosts.filter((h: Obj) => h.name !== 'ca');
      o.hosts.find((h: Obj) => h.name === 'admin').roles = ['admin', 'ca'];
    });
    expectNo(quiet, 'ca-shared');
  });

  it('preflight.memoryPolicy is fail or warn', () => {
    const r = mutate((o) => {
      o.preflight = { memoryPolicy: 'ignore' };
    });
    expectProblem(r, 'invalid-value', 'preflight.memoryPolicy');
  });
});

describe('all problems at once', () => {
  it('reports every error in one pass, in file order, with locations', () => {
    const text = [
      'name: Lab', // 1 invalid-name
      'hosts:', // 2
      '  - name: ca', // 3
      '    address: 192.168.56.10', // 4
      '    roles: [ca]', // 5
      '  - name: etcd-1', // 6
      '    address: 192.168.56.11', // 7
      '    roles: [etcd]', // 8
      '  - name: etcd-2', // 9
      '    address: 192.168.56.300', // 10 invalid-address
      '    roles: [etcd]', // 11
      '  - name: cp-1', // 12
      '    address: 192.168.56.21', // 13
      '    roles: [controlplane]', // 14
      '  - name: cp-1', // 15 duplicate-name
      '    address: 192.168.56.21', // 16 duplicate-address
      '    roles: [worker, worker]', // 17 duplicate-role
      'networks:', // 18
      '  infrastructure: 192.168.56.0/24', // 19
      '  pods: 10.244.0.0/16', // 20
      '  clusterDns: 10.32.0.1', // 21 dns-is-kubernetes-service
      'loadBalancer:', // 22
      '  prot: 6443', // 23 unknown-field
      '',
    ].join('\n');
    const r = parseClusterFile(text, 'cluster.yaml');
    assert.equal(r.ok, false);
    const all = problemsOf(r);
    const expected: [string, string, number][] = [
      ['invalid-name', 'name', 1],
      ['invalid-address', 'hosts[2].address', 10],
      ['duplicate-name', 'hosts[4].name', 15],
      ['duplicate-address', 'hosts[4].address', 16],
      ['duplicate-role', 'hosts[4].roles[1]', 17],
      ['dns-is-kubernetes-service', 'networks.clusterDns', 21],
      ['unknown-field', 'loadBalancer.prot', 23],
      ['etcd-even', 'hosts', 2],
      ['no-loadbalancer', 'hosts', 2],
    ];
    for (const [code, path, line] of expected) {
      const p = expectProblem(r, code, path);
      assert.equal(p.line, line, `${code} line`);
    }
    // sorted by position
    const lines = all.map((p) => p.line ?? Infinity);
    assert.deepEqual(
      lines,
      [...lines].sort((a, b) => a - b),
    );

    const text2 = formatProblems(all, 'cluster.yaml');
    assert.match(
      text2,
      /^cluster\.yaml:1:7 error: name: cluster name "Lab" is not a valid RFC 1123 label.* — fix: use a name like "lab"$/m,
    );
    assert.match(
      text2,
      /^cluster\.yaml:23:3 error: loadBalancer\.prot: unknown field "prot" in loadBalancer \(did you mean "port"\?\) — fix: rename "prot" to "port"$/m,
    );
    assert.match(text2, /^cluster\.yaml:10:14 error: hosts\[2\]\.address: /m);
    assert.match(text2, /\d+ errors, 0 warnings$/);
  });

  it('formats warnings and problems without a location', () => {
    const out = formatProblems(
      [
        { severity: 'warning', path: 'hosts', message: 'only one etcd member', fix: 'use 3' },
        { severity: 'error', path: '', message: 'boom' },
      ],
      'c.yaml',
    );
    assert.equal(out, 'c.yaml warning: hosts: only one etcd member — fix: use 3\nc.yaml error: boom\n1 error, 1 warning');
  });
});

describe('checkSpec on a typed spec', () => {
  it('finds format and cross-field errors without line numbers', () => {
    const r = check(seed());
    assert.ok(r.ok);
    const spec: ClusterSpec = JSON.parse(JSON.stringify(r.spec));
    const ok = checkSpec(spec);
    assert.ok(ok.ok);
    assert.deepEqual(ok.warnings, []);
    spec.hosts.push({ name: 'Worker_3', address: '192.168.56.31', roles: ['worker'] });
    const bad = checkSpec(spec);
    assert.ok(!bad.ok);
    const problems = bad.problems;
    assert.ok(problems.some((p) => p.code === 'invalid-name' && p.path === 'hosts[10].name'));
    assert.ok(problems.some((p) => p.code === 'duplicate-address' && p.path === 'hosts[10].address'));
    assert.ok(problems.every((p) => p.line === undefined));
  });
});

describe('empty sections', () => {
  it('a section with only comments under it takes its defaults', () => {
    const text = [
      'name: lab',
      'hosts:',
      ...seed().hosts.flatMap((x: Obj) => [
        `  - name: ${x.name}`,
        `    address: ${x.address}`,
        `    roles: [${x.roles.join(', ')}]`,
        '    ssh:',
      ]),
      'networks:',
      '  # pods: 10.244.0.0/16',
      'ssh:',
      'preflight:',
      '',
    ].join('\n');
    const r = parseClusterFile(text);
    assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
    assert.equal(r.spec.networks.pods, '10.244.0.0/16');
    assert.deepEqual(r.spec.ssh, { user: 'root', port: 22 });
    assert.equal(r.spec.hosts[0]!.ssh, undefined);
  });
});
