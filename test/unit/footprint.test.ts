// What hardway puts on each host of the seed (model/footprint.ts), role by role: the paths reset/host takes away.
//   node --import tsx --test test/unit/footprint.test.ts
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostFootprint, type HostFootprint } from '../../model/footprint.js';
import { PlanError } from '../../model/plan.js';
import { seedPlan } from '../helpers/seed-plan.js';

const plan = seedPlan();
const fp = (host: string, includeCa = false): HostFootprint => hostFootprint(plan, host, { includeCa });
const names = (f: HostFootprint) => f.services.map((s) => s.name);
/** Everything the footprint takes away, as paths. */
const removed = (f: HostFootprint) => [...f.files, ...f.binaries, ...f.directories, ...f.markedFiles.map((m) => m.path)];

describe('the CA host', () => {
  it('keeps the CAs unless asked: their certificates and keys are kept, and said so', () => {
    const f = fp('ca');
    assert.ok(!f.files.includes('/var/lib/hardway/ca/ca.key'));
    assert.ok(!f.files.some((p) => p.startsWith('/var/lib/hardway/ca/')), f.files.join('\n'));
    assert.ok(!f.directories.includes('/var/lib/hardway/ca'));
    const ca = f.kept.find((k) => k.paths?.includes('/var/lib/hardway/ca/ca.key'));
    assert.ok(ca, JSON.stringify(f.kept));
    for (const p of ['ca.crt', 'ca.key', 'etcd-ca.crt', 'etcd-ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key']) {
      assert.ok(ca.paths!.includes(`/var/lib/hardway/ca/${p}`), p);
    }
    // /var/lib/hardway goes only when empty: with the CAs in it, it stays.
    assert.ok(f.emptyDirectories.includes('/var/lib/hardway'));
    assert.deepEqual(names(f), []);
    assert.equal(f.containers, undefined);
  });

  it('with includeCa, the CA key and its directory go', () => {
    const f = fp('ca', true);
    assert.ok(f.files.includes('/var/lib/hardway/ca/ca.key'));
    assert.ok(f.files.includes('/var/lib/hardway/ca/etcd-ca.key'));
    assert.ok(f.directories.includes('/var/lib/hardway/ca'));
    assert.ok(!f.kept.some((k) => k.paths?.length));
  });

  it('includeCa changes nothing on another host', () => {
    for (const h of plan.hosts.filter((x) => x.name !== 'ca')) assert.deepEqual(fp(h.name, true), fp(h.name, false), h.name);
  });
});

describe('an etcd member', () => {
  const f = fp('etcd-1');
  it('runs etcd from its own unit and binaries', () => {
    assert.deepEqual(f.services, [{ name: 'etcd', unitPath: '/etc/systemd/system/etcd.service' }]);
    assert.deepEqual(f.binaries, ['/usr/local/bin/etcd', '/usr/local/bin/etcdctl']);
  });
  it('has its server, peer and health-check keys, the etcd CA certificate, its data and its config directory', () => {
    for (const p of [
      '/etc/etcd/pki/server.key',
      '/etc/etcd/pki/server.crt',
      '/etc/etcd/pki/peer.key',
      '/etc/etcd/pki/healthcheck-client.key',
      '/etc/etcd/pki/ca.crt',
    ]) {
      assert.ok(f.files.includes(p), p);
    }
    assert.ok(f.directories.includes('/var/lib/etcd'));
    assert.ok(f.directories.includes('/etc/etcd'));
  });
  it('has nothing of a node or a control plane', () => {
    assert.equal(f.containers, undefined);
    assert.deepEqual([f.mountPrefixes, f.interfaces, f.iptablesChainPrefixes], [[], [], []]);
    assert.ok(!removed(f).some((p) => p.startsWith('/etc/kubernetes') || p.startsWith('/var/lib/kubelet')));
  });
});

describe('the load balancer', () => {
  const f = fp('lb');
  it('stops and disables the package’s haproxy, and removes its config only while it is hardway’s', () => {
    assert.deepEqual(f.services, [{ name: 'haproxy', config: '/etc/haproxy/haproxy.cfg' }], 'no unit of hardway’s to remove');
    assert.deepEqual(f.markedFiles, [{ path: '/etc/haproxy/haproxy.cfg', header: '# Managed by hardway for cluster hardway' }]);
    assert.ok(!f.files.includes('/etc/haproxy/haproxy.cfg'));
    assert.ok(f.kept.some((k) => k.what.includes('haproxy package')));
  });
  it('has no certificate, no binary of hardway’s', () => {
    assert.deepEqual(f.files, []);
    assert.deepEqual(f.binaries, []);
  });
});

describe('a control plane', () => {
  const f = fp('cp-1');
  it('stops the node agents, then containerd, then the control plane from the scheduler to the API server', () => {
    assert.deepEqual(names(f), [
      'kubelet',
      'kube-proxy',
      'flanneld',
      'containerd',
      'kube-scheduler',
      'kube-controller-manager',
      'kube-apiserver',
    ]);
    assert.ok(f.services.every((s) => s.unitPath === `/etc/systemd/system/${s.name}.service`));
  });
  it('has the API server’s keys, the service-account pair, the encryption config, the kubeconfigs and /etc/kubernetes', () => {
    for (const p of [
      '/etc/kubernetes/pki/apiserver.key',
      '/etc/kubernetes/pki/apiserver-etcd-client.key',
      '/etc/kubernetes/pki/etcd/ca.crt',
      '/etc/kubernetes/pki/sa.key',
      '/etc/kubernetes/pki/sa.pub',
      '/etc/kubernetes/pki/super-admin.key',
      '/etc/kubernetes/encryption-config.yaml',
      '/etc/kubernetes/admin.kubeconfig',
      '/etc/kubernetes/controller-manager.kubeconfig',
      '/var/lib/kubelet/pki/kubelet.key',
      '/var/lib/kubelet/kubeconfig',
    ]) {
      assert.ok(f.files.includes(p), p);
    }
    assert.ok(f.directories.includes('/etc/kubernetes'));
    assert.ok(f.directories.includes('/var/log/kubernetes'));
    assert.ok(!f.directories.includes('/etc/kubernetes/manifests'), 'inside /etc/kubernetes, which goes whole');
    for (const b of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kubelet', 'kube-proxy']) {
      assert.ok(f.binaries.includes(`/usr/local/bin/${b}`), b);
    }
  });
  it('has no etcd data directory and no etcd key', () => {
    assert.ok(!removed(f).some((p) => p.startsWith('/var/lib/etcd') || p.startsWith('/etc/etcd')));
  });
});

describe('a worker', () => {
  const f = fp('worker-1');
  it('runs the node agents and containerd, nothing of the control plane or etcd', () => {
    assert.deepEqual(names(f), ['kubelet', 'kube-proxy', 'flanneld', 'containerd']);
    assert.ok(!f.directories.includes('/var/lib/etcd'), 'no etcd data directory');
    assert.ok(!removed(f).some((p) => p.includes('kube-apiserver') || p.startsWith('/etc/etcd')));
    assert.ok(!f.directories.includes('/etc/kubernetes'), 'a worker’s /etc/kubernetes goes only when empty');
    assert.ok(f.emptyDirectories.includes('/etc/kubernetes'));
    assert.ok(f.directories.includes('/etc/kubernetes/manifests'));
  });
  it('has its kubelet, kube-proxy and flannel identities, and the node’s configs', () => {
    for (const p of [
      '/var/lib/kubelet/pki/kubelet.key',
      '/var/lib/kubelet/pki/ca.crt',
      '/var/lib/kube-proxy/pki/kube-proxy.key',
      '/var/lib/kube-proxy/kubeconfig',
      '/etc/kube-flannel/pki/flannel.key',
      '/etc/kube-flannel/kubeconfig',
      '/etc/kube-flannel/net-conf.json',
      '/etc/cni/net.d/10-flannel.conflist',
      '/etc/containerd/config.toml',
      '/etc/modules-load.d/hardway-kubernetes.conf',
      '/etc/sysctl.d/99-hardway-kubernetes.conf',
      '/run/flannel/subnet.env',
    ]) {
      assert.ok(f.files.includes(p), p);
    }
  });
  it('has the runtime’s binaries, containerd’s and the kubelet’s state, and the pod network’s devices and chains', () => {
    for (const p of [
      '/usr/local/bin/containerd',
      '/usr/local/bin/containerd-shim-runc-v2',
      '/usr/local/bin/ctr',
      '/usr/local/sbin/runc',
      '/opt/cni/bin/bridge',
      '/opt/cni/bin/flannel',
      '/usr/local/bin/flanneld',
      '/usr/local/bin/kubelet',
    ]) {
      assert.ok(f.binaries.includes(p), p);
    }
    assert.ok(!f.binaries.includes('/usr/local/bin/kubectl'), 'kubectl is the control planes’ and the admin’s');
    for (const d of ['/var/lib/kubelet', '/var/lib/kube-proxy', '/var/lib/containerd', '/run/containerd', '/var/lib/cni', '/run/flannel']) {
      assert.ok(f.directories.includes(d), d);
    }
    assert.deepEqual(f.containers, { ctr: '/usr/local/bin/ctr', socket: '/run/containerd/containerd.sock' });
    assert.deepEqual(f.interfaces, ['cni0', 'flannel.1']);
    assert.deepEqual(f.iptablesChainPrefixes, ['KUBE-', 'FLANNEL-', 'CNI-']);
    assert.ok(f.mountPrefixes.includes('/var/lib/kubelet/'));
    assert.ok(f.mountPrefixes.includes('/run/netns/cni-'), 'only containerd’s pod namespaces, not every one under /run/netns');
    assert.deepEqual(f.renamedAside, [{ dir: '/etc/cni/net.d', suffix: '.hardway-disabled' }]);
    // Directories that may hold others' files go only when empty, the deepest first.
    const at = (d: string) => f.emptyDirectories.indexOf(d);
    assert.ok(at('/etc/cni/net.d') >= 0 && at('/etc/cni/net.d') < at('/etc/cni'));
    assert.ok(at('/opt/cni/bin') >= 0 && at('/opt/cni/bin') < at('/opt/cni'));
    assert.ok(f.kept.some((k) => k.what.includes('kernel settings')));
  });
});

describe('the admin host', () => {
  const f = fp('admin');
  it('has kubectl, the admin kubeconfig and its certificate; ~/.kube/config only while it is hardway’s', () => {
    assert.deepEqual(f.binaries, ['/usr/local/bin/kubectl']);
    for (const p of ['/etc/kubernetes/admin.kubeconfig', '/etc/kubernetes/pki/admin.key', '/etc/kubernetes/pki/ca.crt']) {
      assert.ok(f.files.includes(p), p);
    }
    assert.ok(!f.files.includes('/etc/kubernetes/pki/super-admin.key'));
    assert.deepEqual(f.markedFiles, [{ path: '/root/.kube/config', header: '# Written by hardway for cluster hardway' }]);
    // Perhaps an operator's workstation: hardway's directories there go only when nothing else is in them.
    assert.ok(!f.directories.includes('/etc/kubernetes'));
    assert.deepEqual(
      f.emptyDirectories.filter((d) => d !== '/var/lib/hardway'),
      ['/etc/kubernetes/pki', '/root/.kube', '/etc/kubernetes'],
    );
    assert.deepEqual(names(f), []);
  });
});

describe('every host', () => {
  it('has the cluster’s /etc/hosts block, hardway’s stamps, and every file the plan places on it', () => {
    for (const h of plan.hosts) {
      const f = fp(h.name, true);
      assert.deepEqual(f.hostsBlock, { path: '/etc/hosts', cluster: 'hardway' });
      assert.ok(f.directories.includes('/var/lib/hardway/releases') && f.directories.includes('/var/lib/hardway/services'));
      for (const file of plan.files.filter((x) => x.host === h.name)) assert.ok(f.files.includes(file.path), `${h.name}:${file.path}`);
      assert.ok(!f.files.includes('/etc/hosts'), 'only its block goes');
      assert.equal(f.leftoverSuffix, '.hardway-new');
    }
  });
  it('is plain JSON, and the same every time (the workflow builds it)', () => {
    for (const h of plan.hosts) {
      const f = fp(h.name);
      assert.deepEqual(JSON.parse(JSON.stringify(f)), f);
      assert.deepEqual(fp(h.name), f);
    }
  });
  it('no directory is listed inside another that goes whole', () => {
    for (const h of plan.hosts) {
      const { directories: d, emptyDirectories: e } = fp(h.name, true);
      for (const x of [...d, ...e]) assert.ok(!d.some((o) => o !== x && x.startsWith(`${o}/`)), `${h.name}: ${x}`);
    }
  });
  it('a host the plan does not have is a PlanError', () => {
    assert.throws(() => fp('nope'), PlanError);
  });
});
