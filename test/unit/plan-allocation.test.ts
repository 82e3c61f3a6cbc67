import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseClusterFile } from '../../model/validate.js';
import { formatProblems } from '../../model/problem-format.js';
import { checkSpec, type ValidSpec } from '../../model/check.js';
import { parseCidr } from '../../model/cidr.js';
import { allocatePodRanges, plan, PlanError } from '../../model/plan.js';
import type { ClusterSpec, HostSpec, Role } from '../../model/types.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

function load(file: string): ClusterSpec {
  const r = parseClusterFile(readFileSync(examples + file, 'utf8'), file);
  if (!r.ok) assert.fail(formatProblems(r.problems, file));
  // A plain copy, which a test may change and then check again.
  return JSON.parse(JSON.stringify(r.spec)) as ClusterSpec;
}

function checked(spec: ClusterSpec): ValidSpec {
  const r = checkSpec(spec);
  if (!r.ok) assert.fail(formatProblems(r.problems));
  return r.spec;
}

function seedSpec(): ClusterSpec {
  return load('seed-cluster.yaml');
}

function h(name: string, address: string, ...roles: Role[]): HostSpec {
  return { name, address, roles };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

describe('example files', () => {
  it('seed-cluster.yaml validates without warnings and has the seed hosts', () => {
    const r = parseClusterFile(readFileSync(examples + 'seed-cluster.yaml', 'utf8'));
    assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(
      r.spec.hosts.map((x) => `${x.name}=${x.address}:${x.roles.join('+')}`),
      [
        'ca=192.168.56.10:ca',
        'etcd-1=192.168.56.11:etcd',
        'etcd-2=192.168.56.12:etcd',
        'etcd-3=192.168.56.13:etcd',
        'lb=192.168.56.20:loadbalancer',
        'cp-1=192.168.56.21:controlplane',
        'cp-2=192.168.56.22:controlplane',
        'worker-1=192.168.56.31:worker',
        'worker-2=192.168.56.32:worker',
        'admin=192.168.56.40:admin',
      ],
    );
    assert.equal(r.spec.networks.infrastructure, '192.168.56.0/24');
  });

  it('production-cluster.yaml validates: 5 etcd, 3 control planes, 3 workers, services 10.96.0.0/24, a mirror', () => {
    const r = parseClusterFile(readFileSync(examples + 'production-cluster.yaml', 'utf8'));
    assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
    assert.deepEqual(r.warnings, []);
    const count = (role: Role) => r.spec.hosts.filter((x) => x.roles.includes(role)).length;
    assert.equal(count('etcd'), 5);
    assert.equal(count('controlplane'), 3);
    assert.equal(count('worker'), 3);
    assert.equal(r.spec.networks.services, '10.96.0.0/24');
    assert.equal(r.spec.networks.clusterDns, '10.96.0.10');
    assert.equal(r.spec.binaries.source, 'mirror');
    assert.ok(r.spec.binaries.mirror);
    const p = plan(r.spec);
    assert.equal(p.networks.kubernetesService, '10.96.0.1');
  });
});

describe('plan of the seed', () => {
  const p = plan(checked(seedSpec()));

  it('hosts with roles, addresses, ssh', () => {
    assert.equal(p.hosts.length, 10);
    assert.deepEqual(p.hosts[5], {
      name: 'cp-1',
      address: '192.168.56.21',
      roles: ['controlplane'],
      ssh: { user: 'root', port: 22 },
      podCidr: '10.244.0.0/24',
    });
  });

  it('one pod range per kubelet node (controlplane and worker), in host order', () => {
    assert.deepEqual(p.podAllocations, {
      'cp-1': '10.244.0.0/24',
      'cp-2': '10.244.1.0/24',
      'worker-1': '10.244.2.0/24',
      'worker-2': '10.244.3.0/24',
    });
    const allocations: Record<string, string> = plan(checked(seedSpec())).podAllocations;
    for (const host of p.hosts) {
      const kubelet = host.roles.includes('controlplane') || host.roles.includes('worker');
      assert.equal(host.podCidr, kubelet ? allocations[host.name] : undefined, host.name);
    }
  });

  it('service addresses, etcd, API server', () => {
    assert.equal(p.networks.kubernetesService, '10.32.0.1');
    assert.equal(p.networks.clusterDns, '10.32.0.10');
    assert.deepEqual(p.etcd.members[0], {
      name: 'etcd-1',
      address: '192.168.56.11',
      clientUrl: 'https://192.168.56.11:2379',
      peerUrl: 'https://192.168.56.11:2380',
    });
    assert.equal(
      p.etcd.initialCluster,
      'etcd-1=https://192.168.56.11:2380,etcd-2=https://192.168.56.12:2380,etcd-3=https://192.168.56.13:2380',
    );
    assert.deepEqual(p.apiServer, {
      address: '192.168.56.20',
      port: 6443,
      url: 'https://192.168.56.20:6443',
      controlPlanes: [
        { name: 'cp-1', address: '192.168.56.21', port: 6443 },
        { name: 'cp-2', address: '192.168.56.22', port: 6443 },
      ],
    });
    assert.deepEqual(p.ca, { host: 'ca', certPath: '/var/lib/hardway/ca/ca.crt', keyPath: '/var/lib/hardway/ca/ca.key' });
    assert.deepEqual(p.warnings, []);
  });

  it('is plain JSON', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
  });
});

describe('determinism', () => {
  it('same input, same output; the spec is not mutated', () => {
    const spec = deepFreeze(seedSpec());
    const prev = deepFreeze({ 'worker-9': '10.244.7.0/24' });
    const a = plan(checked(spec), prev);
    const b = plan(checked(spec), prev);
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    assert.equal(JSON.stringify(plan(checked(seedSpec()))), JSON.stringify(plan(checked(seedSpec()))));
  });

  it('previousAllocations key order does not matter', () => {
    const spec = seedSpec();
    spec.hosts.push(h('worker-3', '192.168.56.33', 'worker'));
    const x = plan(checked(spec), { 'cp-1': '10.244.0.0/24', 'old-1': '10.244.1.0/24', 'worker-1': '10.244.5.0/24' });
    const y = plan(checked(spec), { 'worker-1': '10.244.5.0/24', 'old-1': '10.244.1.0/24', 'cp-1': '10.244.0.0/24' });
    assert.equal(JSON.stringify(x), JSON.stringify(y));
  });
});

describe('stable allocation', () => {
  it('adding a node keeps every existing range; the new node takes the lowest free one', () => {
    const before = plan(checked(seedSpec()));
    const spec = seedSpec();
    // inserted before worker-1 in the file: file order must not reshuffle existing nodes
    spec.hosts.splice(7, 0, h('worker-0', '192.168.56.30', 'worker'));
    spec.hosts.push(h('cp-3', '192.168.56.23', 'controlplane'));
    const after = plan(checked(spec), before.podAllocations);
    for (const [node, cidr] of Object.entries(before.podAllocations)) {
      assert.equal(after.podAllocations[node], cidr, node);
      assert.equal(after.hosts.find((x) => x.name === node)!.podCidr, cidr);
    }
    assert.equal(after.podAllocations['worker-0'], '10.244.4.0/24');
    assert.equal(after.podAllocations['cp-3'], '10.244.5.0/24');
    // without history, the file order decides (and ranges would shift): history is what keeps them
    const fresh = plan(checked(spec));
    assert.equal(fresh.podAllocations['worker-0'], '10.244.2.0/24');
  });

  it('a removed node keeps its range reserved and a new node does not get it', () => {
    const before = plan(checked(seedSpec()));
    const removed = seedSpec();
    removed.hosts = removed.hosts.filter((x) => x.name !== 'worker-1');
    const mid = plan(checked(removed), before.podAllocations);
    assert.equal(mid.podAllocations['worker-1'], '10.244.2.0/24');
    assert.ok(!mid.hosts.some((x) => x.name === 'worker-1'));

    const added = seedSpec();
    added.hosts = added.hosts.filter((x) => x.name !== 'worker-1');
    added.hosts.push(h('worker-3', '192.168.56.33', 'worker'));
    const after = plan(checked(added), mid.podAllocations);
    assert.equal(after.podAllocations['worker-3'], '10.244.4.0/24');
    assert.equal(after.podAllocations['worker-1'], '10.244.2.0/24');
    const used = Object.values(after.podAllocations);
    assert.equal(new Set(used).size, used.length, 'no range given twice');
  });

  it('a node that comes back gets its old range', () => {
    const after = plan(checked(seedSpec()), { 'worker-2': '10.244.9.0/24' });
    assert.equal(after.podAllocations['worker-2'], '10.244.9.0/24');
    assert.equal(after.podAllocations['cp-1'], '10.244.0.0/24');
  });

  it('fills gaps left by history from the bottom', () => {
    const r = allocatePodRanges(parseCidr('10.244.0.0/16'), 24, ['a', 'b', 'c'], { x: '10.244.1.0/24', y: '10.244.3.0/24' });
    assert.deepEqual(r, { a: '10.244.0.0/24', x: '10.244.1.0/24', b: '10.244.2.0/24', y: '10.244.3.0/24', c: '10.244.4.0/24' });
    assert.deepEqual(Object.keys(r), ['a', 'x', 'b', 'y', 'c'], 'ordered by range');
  });

  it('rejects history that does not fit the pod range', () => {
    assert.throws(
      () => plan(checked(seedSpec()), { 'cp-1': '10.200.0.0/24' }),
      (e: unknown) => e instanceof PlanError && /cannot change/.test(e.message),
    );
    assert.throws(() => plan(checked(seedSpec()), { 'cp-1': '10.244.0.0/25' }), PlanError);
    assert.throws(() => plan(checked(seedSpec()), { 'cp-1': 'garbage' }), PlanError);
    assert.throws(() => plan(checked(seedSpec()), { 'cp-1': '10.244.0.0/24', old: '10.244.0.0/24' }), /overlap/);
  });
});

describe('range limits', () => {
  it('a full range is a clear PlanError', () => {
    // 4 ranges, 4 nodes: fits
    assert.equal(Object.keys(allocatePodRanges(parseCidr('10.244.0.0/22'), 24, ['a', 'b', 'c', 'd'])).length, 4);
    assert.throws(
      () => allocatePodRanges(parseCidr('10.244.0.0/22'), 24, ['a', 'b', 'c', 'd', 'e']),
      (e: unknown) => e instanceof PlanError && /10\.244\.0\.0\/22 is full/.test(e.message) && /"e"/.test(e.message),
    );
    // in plan: the seed's 4 kubelet nodes fit a /22, but not with a removed node's range reserved
    const spec = seedSpec();
    spec.networks.pods = '10.244.0.0/22';
    assert.equal(Object.keys(plan(checked(spec)).podAllocations).length, 4);
    assert.throws(
      () => plan(checked(spec), { gone: '10.244.1.0/24' }),
      (e: unknown) => e instanceof PlanError && /full/.test(e.message) && /reserved for removed nodes: gone/.test(e.message),
    );
  });

  it('a spec with too many nodes for the range does not pass checkSpec, so it never reaches plan', () => {
    const spec = seedSpec();
    spec.networks.pods = '10.244.0.0/23';
    const r = checkSpec(spec);
    assert.equal(r.ok, false);
    if (!r.ok) assert.ok(r.problems.some((p) => p.code === 'pod-range-too-small' && p.path === 'networks.pods'));
  });

  it('a /12 pod range with node mask 24 holds 4096 nodes and crosses octets', () => {
    const nodes = Array.from({ length: 4096 }, (_, i) => `n-${i}`);
    const r = allocatePodRanges(parseCidr('10.240.0.0/12'), 24, nodes);
    assert.equal(r['n-0'], '10.240.0.0/24');
    assert.equal(r['n-255'], '10.240.255.0/24');
    assert.equal(r['n-256'], '10.241.0.0/24');
    assert.equal(r['n-4095'], '10.255.255.0/24');
    assert.equal(new Set(Object.values(r)).size, 4096);
    assert.throws(() => allocatePodRanges(parseCidr('10.240.0.0/12'), 24, [...nodes, 'one-more']), PlanError);
  });

  it('plans a 300-worker cluster in a /12', () => {
    const spec = seedSpec();
    spec.networks.infrastructure = '192.168.0.0/16';
    spec.networks.pods = '10.240.0.0/12';
    for (let i = 0; i < 300; i++) spec.hosts.push(h(`w-${i}`, `192.168.${100 + Math.floor(i / 200)}.${(i % 200) + 1}`, 'worker'));
    const p = plan(checked(spec));
    assert.equal(p.podAllocations['cp-1'], '10.240.0.0/24');
    assert.equal(p.podAllocations['w-251'], '10.240.255.0/24'); // 4 seed nodes + 252 = 256th range
    assert.equal(p.podAllocations['w-252'], '10.241.0.0/24');
    assert.equal(Object.keys(p.podAllocations).length, 304);
  });

  it('other node masks', () => {
    assert.deepEqual(allocatePodRanges(parseCidr('10.244.0.0/16'), 26, ['a', 'b', 'c', 'd', 'e']), {
      a: '10.244.0.0/26',
      b: '10.244.0.64/26',
      c: '10.244.0.128/26',
      d: '10.244.0.192/26',
      e: '10.244.1.0/26',
    });
  });
});

describe('nothing is hard-wired to the seed', () => {
  it('uses the configured pod, service and DNS addresses', () => {
    const spec = seedSpec();
    spec.networks = {
      infrastructure: '172.16.5.0/24',
      pods: '10.200.0.0/16',
      nodeMask: 24,
      services: '10.96.0.0/24',
      clusterDns: '10.96.0.10',
    };
    spec.hosts.forEach((x, i) => (x.address = `172.16.5.${100 + i}`));
    spec.loadBalancer.port = 8443;
    const p = plan(checked(spec));
    assert.deepEqual(Object.values(p.podAllocations), ['10.200.0.0/24', '10.200.1.0/24', '10.200.2.0/24', '10.200.3.0/24']);
    assert.equal(p.networks.kubernetesService, '10.96.0.1');
    assert.equal(p.networks.clusterDns, '10.96.0.10');
    assert.equal(p.apiServer.url, 'https://172.16.5.104:8443');
    assert.equal(p.etcd.members[0]!.clientUrl, 'https://172.16.5.101:2379');
    // The API servers keep kube-apiserver's own port behind the load balancer's 8443.
    assert.deepEqual(
      p.apiServer.controlPlanes.map((c) => c.port),
      [6443, 6443],
    );
    const json = JSON.stringify({ ...p, apiServer: { ...p.apiServer, controlPlanes: [] } });
    for (const seedValue of ['10.244.', '10.32.', '192.168.56.', ':6443']) {
      assert.ok(!json.includes(seedValue), `plan mentions ${seedValue}`);
    }
  });

  it('external load balancer, per-host ssh, one etcd member (warning copied)', () => {
    const spec = seedSpec();
    spec.hosts = spec.hosts.filter((x) => x.name !== 'lb' && x.name !== 'etcd-2' && x.name !== 'etcd-3');
    spec.loadBalancer = { port: 443, external: { address: '192.168.56.5' } };
    spec.ssh = { user: 'ops', port: 2200 };
    spec.hosts.find((x) => x.name === 'worker-1')!.ssh = { user: 'vagrant' };
    spec.hosts.find((x) => x.name === 'worker-2')!.ssh = { port: 2222 };
    const p = plan(checked(spec));
    assert.equal(p.apiServer.url, 'https://192.168.56.5:443');
    assert.equal(p.etcd.initialCluster, 'etcd-1=https://192.168.56.11:2380');
    assert.deepEqual(p.hosts.find((x) => x.name === 'worker-1')!.ssh, { user: 'vagrant', port: 2200 });
    assert.deepEqual(p.hosts.find((x) => x.name === 'worker-2')!.ssh, { user: 'ops', port: 2222 });
    assert.deepEqual(p.hosts.find((x) => x.name === 'ca')!.ssh, { user: 'ops', port: 2200 });
    assert.deepEqual(
      p.warnings.map((w) => w.code),
      ['etcd-single'],
    );
    const api = p.certificates.find((c) => c.id === 'kube-apiserver')!;
    assert.ok(api.ipAddresses.includes('192.168.56.5'));
  });

  it('a host with several roles', () => {
    const spec = seedSpec();
    // stacked: cp-1 is also etcd-4 and etcd-5 style member; make etcd 5 with both control planes
    spec.hosts.find((x) => x.name === 'cp-1')!.roles = ['controlplane', 'etcd'];
    spec.hosts.find((x) => x.name === 'cp-2')!.roles = ['etcd', 'controlplane', 'worker'];
    const p = plan(checked(spec));
    assert.equal(p.etcd.members.length, 5);
    assert.deepEqual(Object.keys(p.podAllocations), ['cp-1', 'cp-2', 'worker-1', 'worker-2']);
  });
});
