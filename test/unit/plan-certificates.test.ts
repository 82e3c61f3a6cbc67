import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseClusterFile } from '../../model/validate.js';
import { formatProblems } from '../../model/problem-format.js';
import { checkSpec, type ValidSpec } from '../../model/check.js';
import { plan } from '../../model/plan.js';
import type { ClusterPlan, ClusterSpec, PlannedCertificate } from '../../model/types.js';

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

function cert(p: ClusterPlan, id: string): PlannedCertificate {
  const c = p.certificates.find((x) => x.id === id);
  assert.ok(c, `certificate ${id}`);
  return c;
}

const hostsOf = (c: PlannedCertificate) => c.placements.map((x) => x.host);

/** A non-seed layout: other ranges, other addresses, an extra control plane and worker. */
function customSpec(): ClusterSpec {
  const spec = load('seed-cluster.yaml');
  spec.networks = {
    infrastructure: '172.16.5.0/24',
    pods: '10.200.0.0/16',
    nodeMask: 24,
    services: '10.96.0.0/24',
    clusterDns: '10.96.0.10',
  };
  spec.hosts.forEach((x, i) => (x.address = `172.16.5.${100 + i}`));
  spec.hosts.push({ name: 'cp-3', address: '172.16.5.150', roles: ['controlplane'] });
  spec.hosts.push({ name: 'worker-3', address: '172.16.5.151', roles: ['worker'] });
  return spec;
}

for (const [label, make] of [
  ['seed', () => load('seed-cluster.yaml')],
  ['custom ranges', customSpec],
  ['production', () => load('production-cluster.yaml')],
] as const) {
  describe(`certificate catalogue (${label})`, () => {
    const spec = make();
    const p = plan(checked(spec));
    const caHost = spec.hosts.find((h) => h.roles.includes('ca'))!;
    const cps = spec.hosts.filter((h) => h.roles.includes('controlplane'));
    const etcd = spec.hosts.filter((h) => h.roles.includes('etcd'));
    const kubeletNodes = spec.hosts.filter((h) => h.roles.includes('controlplane') || h.roles.includes('worker'));
    const lb = spec.hosts.find((h) => h.roles.includes('loadbalancer'))!;

    it('ids are unique; three CAs on the CA host, each self-described; every leaf names its issuer', () => {
      const ids = p.certificates.map((c) => c.id);
      assert.equal(new Set(ids).size, ids.length);
      const cas = p.certificates.filter((c) => c.isCA);
      assert.deepEqual(
        cas.map((c) => c.id),
        ['ca', 'etcd-ca', 'front-proxy-ca'],
      );
      for (const ca of cas) {
        assert.ok(ca.usages.includes('keyCertSign'));
        assert.match(ca.commonName, new RegExp(spec.name));
        assert.deepEqual(hostsOf(ca), [caHost.name]);
        assert.ok(ca.placements[0]!.keyPath.startsWith('/var/lib/hardway/ca/'));
      }
      assert.equal(new Set(cas.map((c) => c.commonName)).size, 3, 'distinct subjects');
      for (const c of p.certificates.filter((x) => !x.isCA)) assert.ok(['ca', 'etcd-ca', 'front-proxy-ca'].includes(c.issuer!), c.id);
      assert.ok(p.certificates.every((c) => c.validityDays > 0));
    });

    it('etcd trusts only its own CA: nothing else it signs, so no node certificate can reach etcd', () => {
      const byEtcdCa = p.certificates.filter((c) => c.issuer === 'etcd-ca').map((c) => c.id);
      assert.deepEqual(
        byEtcdCa.sort(),
        [
          'apiserver-etcd-client',
          'etcd-healthcheck-client',
          ...etcd.flatMap((m) => [`etcd-peer-${m.name}`, `etcd-server-${m.name}`]),
        ].sort(),
      );
      for (const c of p.certificates.filter((x) => x.issuer === 'etcd-ca')) {
        for (const pl of c.placements) assert.match(pl.caPath, /^\/etc\/(etcd\/pki|kubernetes\/pki\/etcd)\/ca\.crt$/, c.id);
      }
      assert.equal(cert(p, 'apiserver-etcd-client').placements[0]!.caPath, '/etc/kubernetes/pki/etcd/ca.crt');
      assert.equal(cert(p, 'front-proxy-client').issuer, 'front-proxy-ca');
      assert.equal(cert(p, 'front-proxy-client').placements[0]!.caPath, '/etc/kubernetes/pki/front-proxy-ca.crt');
      const caFiles = p.files.filter((f) => f.source.startsWith('ca-key'));
      assert.deepEqual(
        caFiles.map((f) => `${f.host}:${f.path}:${f.source}`),
        [
          `${caHost.name}:/var/lib/hardway/ca/ca.key:ca-key`,
          `${caHost.name}:/var/lib/hardway/ca/etcd-ca.key:ca-key:etcd-ca`,
          `${caHost.name}:/var/lib/hardway/ca/front-proxy-ca.key:ca-key:front-proxy-ca`,
        ],
      );
    });

    it('kube-apiserver SANs: configured kubernetes service IP, LB, every control plane, standard names', () => {
      const api = cert(p, 'kube-apiserver');
      assert.equal(api.commonName, 'kubernetes');
      const svcIp = spec.networks.services.replace(/\.0\/\d+$/, '.1');
      assert.equal(p.networks.kubernetesService, svcIp);
      assert.ok(api.ipAddresses.includes(svcIp), `${svcIp} in ${api.ipAddresses.join(',')}`);
      assert.ok(api.ipAddresses.includes(lb.address));
      assert.ok(api.ipAddresses.includes(p.apiServer.address));
      assert.ok(api.ipAddresses.includes('127.0.0.1'));
      for (const cp of cps) {
        assert.ok(api.ipAddresses.includes(cp.address), cp.address);
        assert.ok(api.dnsNames.includes(cp.name), cp.name);
      }
      for (const n of ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost']) {
        assert.ok(api.dnsNames.includes(n), n);
      }
      assert.ok(api.usages.includes('serverAuth'));
      assert.deepEqual(
        hostsOf(api),
        cps.map((h) => h.name),
      );
      assert.ok(api.placements.every((x) => x.certPath.startsWith('/etc/kubernetes/pki/')));
    });

    it('the CA key is only on the CA host', () => {
      const caKey = p.ca.keyPath;
      assert.equal(p.ca.host, caHost.name);
      for (const c of p.certificates) {
        for (const pl of c.placements) {
          if (pl.keyPath === caKey) {
            assert.equal(c.id, 'ca');
            assert.equal(pl.host, caHost.name);
          }
        }
      }
      const keyFiles = p.files.filter((f) => f.source === 'ca-key' || f.path === caKey);
      assert.deepEqual(keyFiles, [{ host: caHost.name, path: caKey, mode: '0600', source: 'ca-key' }]);
      // the CA certificate (not key) is distributed
      assert.ok(p.files.some((f) => f.source === 'ca-cert' && f.host !== caHost.name));
    });

    it('every kubelet node has its own certificate with CN system:node:<name>', () => {
      const kubelets = p.certificates.filter((c) => c.id.startsWith('kubelet-'));
      assert.deepEqual(
        kubelets.map((c) => c.id),
        kubeletNodes.map((h) => `kubelet-${h.name}`),
      );
      for (const n of kubeletNodes) {
        const c = cert(p, `kubelet-${n.name}`);
        assert.equal(c.commonName, `system:node:${n.name}`);
        assert.equal(c.organization, 'system:nodes');
        assert.deepEqual(c.dnsNames, [n.name]);
        assert.deepEqual(c.ipAddresses, [n.address]);
        assert.deepEqual(hostsOf(c), [n.name]);
        assert.ok(c.usages.includes('clientAuth') && c.usages.includes('serverAuth'));
        assert.equal(c.placements[0]!.certPath, '/var/lib/kubelet/pki/kubelet.crt');
      }
    });

    it('etcd server and peer certificates per member, health-check client on every member', () => {
      for (const m of etcd) {
        for (const kind of ['server', 'peer']) {
          const c = cert(p, `etcd-${kind}-${m.name}`);
          assert.deepEqual(hostsOf(c), [m.name]);
          for (const ip of [m.address, '127.0.0.1']) assert.ok(c.ipAddresses.includes(ip));
          for (const n of [m.name, 'localhost']) assert.ok(c.dnsNames.includes(n));
          assert.ok(c.usages.includes('serverAuth') && c.usages.includes('clientAuth'));
          assert.ok(c.placements[0]!.certPath.startsWith('/etc/etcd/pki/'));
        }
      }
      const hc = cert(p, 'etcd-healthcheck-client');
      assert.deepEqual(
        hostsOf(hc),
        etcd.map((h) => h.name),
      );
      assert.ok(hc.usages.includes('clientAuth'));
      assert.deepEqual(
        hostsOf(cert(p, 'apiserver-etcd-client')),
        cps.map((h) => h.name),
      );
    });

    it('control-plane client certificates follow the RBAC conventions', () => {
      const expect: [string, string, string | undefined][] = [
        // Bound to system:kubelet-api-admin by RBAC, not system:masters.
        ['apiserver-kubelet-client', 'kube-apiserver-kubelet-client', undefined],
        ['kube-controller-manager', 'system:kube-controller-manager', 'system:kube-controller-manager'],
        ['kube-scheduler', 'system:kube-scheduler', 'system:kube-scheduler'],
        ['sa', 'service-accounts', undefined],
        ['front-proxy-client', 'front-proxy-client', undefined],
        // system:masters only here, on the control planes: what creates the cluster-admins binding.
        ['super-admin', 'super-admin', 'system:masters'],
      ];
      for (const [id, cn, o] of expect) {
        const c = cert(p, id);
        assert.equal(c.commonName, cn);
        assert.equal(c.organization, o);
        assert.deepEqual(
          hostsOf(c),
          cps.map((h) => h.name),
        );
      }
      const proxy = cert(p, 'kube-proxy');
      assert.equal(proxy.commonName, 'system:kube-proxy');
      assert.equal(proxy.organization, 'system:node-proxier');
      assert.deepEqual(
        hostsOf(proxy),
        kubeletNodes.map((h) => h.name),
      );
      const admin = cert(p, 'admin');
      assert.equal(admin.commonName, 'admin');
      assert.equal(admin.organization, 'hardway:cluster-admins');
      // The service-account signing key is a key pair with kubeadm's names, not a certificate.
      const sa = cert(p, 'sa');
      assert.equal(sa.keyPairOnly, true);
      assert.deepEqual(
        sa.placements.map((x) => [x.certPath, x.keyPath]),
        cps.map(() => ['/etc/kubernetes/pki/sa.pub', '/etc/kubernetes/pki/sa.key']),
      );
      assert.ok(
        !p.certificates.some((c) => c.organization === 'system:masters' && c.placements.some((x) => !cps.some((h) => h.name === x.host))),
      );
      const adminHost = spec.hosts.find((h) => h.roles.includes('admin'));
      assert.ok(adminHost);
      assert.deepEqual(hostsOf(admin), [adminHost.name, ...cps.map((h) => h.name)]);
    });

    it('files: keys 0600, certificates 0644, kubeconfigs 0600, no duplicates, every placement covered', () => {
      const keys = new Set<string>();
      for (const f of p.files) {
        const k = `${f.host}:${f.path}`;
        assert.ok(!keys.has(k), `duplicate ${k}`);
        keys.add(k);
        if (
          f.source.startsWith('key:') ||
          f.source.startsWith('ca-key') ||
          f.source.startsWith('kubeconfig:') ||
          f.source === 'encryption-config'
        ) {
          assert.equal(f.mode, '0600', k);
        } else {
          assert.equal(f.mode, '0644', k);
        }
        assert.ok(
          spec.hosts.some((h) => h.name === f.host),
          f.host,
        );
      }
      for (const c of p.certificates) {
        for (const pl of c.placements) {
          assert.ok(keys.has(`${pl.host}:${pl.certPath}`), `${c.id} cert on ${pl.host}`);
          assert.ok(keys.has(`${pl.host}:${pl.keyPath}`), `${c.id} key on ${pl.host}`);
          if (!c.keyPairOnly) assert.ok(keys.has(`${pl.host}:${pl.caPath}`), `${c.id} CA on ${pl.host}`);
        }
      }
      for (const cp of cps) assert.ok(keys.has(`${cp.name}:/etc/kubernetes/encryption-config.yaml`));
      // no private material on the load balancer
      assert.ok(!p.files.some((f) => f.host === lb.name && f.mode === '0600'));
    });
  });
}

describe('catalogue variants', () => {
  it('no admin host: admin certificate only on control planes; external LB in the apiserver SANs', () => {
    const spec = load('seed-cluster.yaml');
    spec.hosts = spec.hosts.filter((h) => h.name !== 'admin' && h.name !== 'lb');
    spec.loadBalancer = { port: 6443, external: { address: '192.168.56.5' } };
    const p = plan(checked(spec));
    assert.deepEqual(hostsOf(cert(p, 'admin')), ['cp-1', 'cp-2']);
    const api = cert(p, 'kube-apiserver');
    assert.ok(api.ipAddresses.includes('192.168.56.5'));
    assert.ok(!api.ipAddresses.includes('192.168.56.20'));
  });

  it('apiServer.extraSANs: names and addresses of an external front end go into the API server certificate only', () => {
    const spec = load('seed-cluster.yaml');
    spec.apiServer = { extraSANs: ['api.example.com', '*.api.example.com', '203.0.113.10'] };
    const p = plan(checked(spec));
    const api = cert(p, 'kube-apiserver');
    assert.ok(api.dnsNames.includes('api.example.com') && api.dnsNames.includes('*.api.example.com'));
    assert.ok(api.ipAddresses.includes('203.0.113.10'));
    assert.ok(!api.dnsNames.includes('203.0.113.10'), 'an address is an IP SAN, not a name');
    for (const c of p.certificates.filter((x) => x.id !== 'kube-apiserver')) {
      assert.ok(!c.dnsNames.includes('api.example.com') && !c.ipAddresses.includes('203.0.113.10'), c.id);
    }
  });

  it('a CA host with other roles still keeps the only copy of the key', () => {
    const spec = load('seed-cluster.yaml');
    spec.hosts = spec.hosts.filter((h) => h.name !== 'admin');
    spec.hosts.find((h) => h.name === 'ca')!.roles = ['ca', 'admin'];
    const p = plan(checked(spec));
    const withKey = p.files.filter((f) => f.source === 'ca-key');
    assert.deepEqual(
      withKey.map((f) => f.host),
      ['ca'],
    );
    assert.ok(p.files.some((f) => f.host === 'ca' && f.source === 'cert:admin'));
  });
});

describe('key algorithm', () => {
  it('every certificate and key pair carries the spec’s algorithm; RSA-2048 leaves get RSA-3072 CAs', () => {
    const ec = plan(checked(load('seed-cluster.yaml')));
    assert.deepEqual([...new Set(ec.certificates.map((c) => c.keyAlgorithm))], ['ECDSA-P256']);
    const spec = load('seed-cluster.yaml');
    spec.pki = { keyAlgorithm: 'RSA-2048' };
    const rsa = plan(checked(spec));
    assert.deepEqual(
      [...new Set(rsa.certificates.filter((c) => c.isCA).map((c) => c.keyAlgorithm))],
      ['RSA-3072'],
      'the CAs are a size above their leaves',
    );
    assert.deepEqual([...new Set(rsa.certificates.filter((c) => !c.isCA).map((c) => c.keyAlgorithm))], ['RSA-2048']);
    assert.equal(cert(rsa, 'sa').keyAlgorithm, 'RSA-2048');
    spec.pki = { keyAlgorithm: 'RSA-4096' };
    assert.deepEqual([...new Set(plan(checked(spec)).certificates.map((c) => c.keyAlgorithm))], ['RSA-4096']);
  });
});
