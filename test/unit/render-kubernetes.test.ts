// The control plane, node and add-on renderers, and the inputs the four Kubernetes phases build from the plan. Pure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseClusterFile } from '../../model/validate.js';
import { plan as planCluster } from '../../model/plan.js';
import type { ClusterPlan } from '../../model/types.js';
import { apiServerFlags, encryptionKeyOf, renderControllerManagerUnit, renderEncryptionConfig } from '../../render/controlplane.js';
import { renderKubeProxyConfig } from '../../render/kube-proxy.js';
import { renderFlannelNetConfig, renderFlannelUnit } from '../../render/flannel.js';
import { corefile, coreDnsObjects, nodeObject, rbacObjects } from '../../render/cluster-objects.js';
import { renderEmbeddedKubeconfig, renderKubeconfig } from '../../render/kubeconfig.js';
import { renderKubeletConfig, renderKubeletUnit } from '../../render/kubelet.js';
import { parseDiffObjects } from '../../activities/kubectl.js';
import { parseSubnetFile } from '../../activities/addons.js';
import { parseNodeFacts } from '../../activities/preflight-facts.js';
import { stepOf } from '../../workflows/phases/index.js';

const seedText = readFileSync(new URL('../../examples/seed-cluster.yaml', import.meta.url), 'utf8');
function planOf(edit: (text: string) => string = (t) => t): ClusterPlan {
  const r = parseClusterFile(edit(seedText));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return planCluster(r.spec);
}
const facts = { cgroup: { version: 1 as const, hybrid: false }, systemd: false, sysResource: false, swap: false };

describe('control plane inputs and units', () => {
  const p = planOf();
  const cp2 = stepOf('controlplane/services').input(p, 'cp-2');

  it('kube-apiserver: etcd over TLS with the etcd CA, the service range, the infrastructure address, Node,RBAC', () => {
    const flags = apiServerFlags(cp2);
    const has = (f: string) => assert.ok(flags.includes(f), `${f} not in ${flags.join(' ')}`);
    has('--advertise-address=192.168.56.22');
    has('--etcd-servers=https://192.168.56.11:2379,https://192.168.56.12:2379,https://192.168.56.13:2379');
    has('--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt');
    has('--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt');
    has('--service-cluster-ip-range=10.32.0.0/24');
    has('--authorization-mode=Node,RBAC');
    has('--enable-admission-plugins=NodeRestriction');
    has('--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt');
    has('--service-account-key-file=/etc/kubernetes/pki/sa.pub');
    has('--service-account-signing-key-file=/etc/kubernetes/pki/sa.key');
    has('--encryption-provider-config=/etc/kubernetes/encryption-config.yaml');
    has('--requestheader-allowed-names=front-proxy-client');
    has('--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt');
    assert.ok(!flags.some((f) => f.includes('10.0.2.15')));
  });

  it('several service-account public keys (a rotation) become several flags', () => {
    const flags = apiServerFlags({
      ...cp2,
      serviceAccount: { ...cp2.serviceAccount, keyFiles: ['/etc/kubernetes/pki/sa.pub', '/etc/kubernetes/pki/sa-old.pub'] },
    });
    assert.equal(flags.filter((f) => f.startsWith('--service-account-key-file=')).length, 2);
  });

  it("kube-controller-manager allocates the plan's ranges, and has no cluster-signing key", () => {
    const p2 = planOf((t) => t.replace('pods: 10.244.0.0/16', 'pods: 10.200.0.0/16').replace('nodeMask: 24', 'nodeMask: 25'));
    const unit = renderControllerManagerUnit({
      cluster: p2.name,
      version: 'v1.34.4',
      kubeconfig: '/k',
      caPath: '/ca',
      podRange: p2.networks.pods,
      nodeMask: p2.networks.nodeMask,
      serviceRange: p2.networks.services,
      serviceAccountKeyFile: '/sa.key',
    });
    assert.match(unit, /--allocate-node-cidrs=true/);
    assert.match(unit, /--cluster-cidr=10\.200\.0\.0\/16/);
    assert.match(unit, /--node-cidr-mask-size=25/);
    assert.match(unit, /--leader-elect=true/);
    assert.doesNotMatch(unit, /cluster-signing/);
    assert.match(unit, /-csrsigning/);
  });

  it('kubeconfigs name certificates and keys by path; controller manager and scheduler use their own API server', () => {
    assert.equal(cp2.controllerManager.server, 'https://192.168.56.22:6443');
    assert.equal(cp2.scheduler.server, 'https://192.168.56.22:6443');
    assert.deepEqual(
      cp2.kubeconfigs.map((k) => [k.path, k.server]),
      [
        ['/etc/kubernetes/admin.kubeconfig', 'https://192.168.56.20:6443'],
        ['/etc/kubernetes/super-admin.kubeconfig', 'https://192.168.56.20:6443'],
      ],
    );
    const text = renderKubeconfig({ cluster: p.name, ...cp2.controllerManager });
    const k = parseYaml(text) as { users: { user: Record<string, string> }[] };
    assert.equal(k.users[0]!.user['client-key'], '/etc/kubernetes/pki/controller-manager.key');
    assert.doesNotMatch(text, /PRIVATE KEY|-data:/);
  });

  it('the encryption config: secretbox with one 32-byte key, read back only from a config hardway wrote', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const text = renderEncryptionConfig(key);
    assert.equal(encryptionKeyOf(text), key);
    assert.equal(encryptionKeyOf(renderEncryptionConfig(Buffer.alloc(16, 1).toString('base64'))), undefined);
    assert.equal(encryptionKeyOf('kind: Something\nsecret: x'), undefined);
    // The step's input names holders and a path, never a key.
    const input = stepOf('controlplane/encryption-config').input(p, 'cp-1');
    assert.deepEqual(
      input.holders.map((h) => h.name),
      ['cp-1', 'cp-2'],
    );
    assert.doesNotMatch(JSON.stringify(input), /secret/);
  });

  it('RBAC: the admin group gets cluster-admin, the kubelet client kubelet-api-admin, flannel only Nodes', () => {
    const input = stepOf('controlplane/rbac').input(p, 'cp-1');
    assert.equal(input.kubeconfig, '/etc/kubernetes/super-admin.kubeconfig');
    const objs = rbacObjects(input) as {
      kind: string;
      metadata: { name: string };
      roleRef?: { name: string };
      subjects?: { name: string }[];
    }[];
    const binding = (n: string) => objs.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === n)!;
    assert.equal(binding('hardway:cluster-admins').roleRef!.name, 'cluster-admin');
    assert.equal(binding('hardway:cluster-admins').subjects![0]!.name, 'hardway:cluster-admins');
    assert.equal(binding('hardway:apiserver-kubelet-client').roleRef!.name, 'system:kubelet-api-admin');
    assert.equal(binding('hardway:apiserver-kubelet-client').subjects![0]!.name, 'kube-apiserver-kubelet-client');
    assert.equal(binding('hardway:flannel').subjects![0]!.name, 'hardway:flannel');
  });
});

describe('node inputs and configs', () => {
  const p = planOf();

  it("registers every kubelet host with the plan's pod range; control planes tainted and labelled", () => {
    for (const h of p.hosts.filter((x) => x.podCidr)) {
      const input = stepOf('workers/register').input(p, h.name);
      assert.equal(input.via.name, 'cp-1');
      const node = nodeObject(input.node) as unknown as {
        spec: { podCIDR: string; taints?: unknown[] };
        metadata: { labels: Record<string, string> };
      };
      assert.equal(node.spec.podCIDR, h.podCidr);
      assert.equal(!!node.spec.taints, h.roles.includes('controlplane'));
      assert.equal('node-role.kubernetes.io/control-plane' in node.metadata.labels, h.roles.includes('controlplane'));
    }
  });

  it('kubelet: x509 and webhook, the cluster DNS, its serving certificate, the node IP, a taint on control planes', () => {
    const input = stepOf('workers/kubelet').input(p, 'cp-1');
    const cfg = parseYaml(
      renderKubeletConfig(
        {
          host: 'cp-1',
          podCidr: input.podCidr,
          clusterDns: input.clusterDns,
          controlPlane: input.controlPlane,
          apiServer: {
            kubeconfig: input.kubelet.path,
            clientCaFile: input.tls.caPath,
            tlsCertFile: input.tls.certPath,
            tlsPrivateKeyFile: input.tls.keyPath,
          },
        },
        facts,
      ),
    ) as Record<string, any>;
    assert.equal(cfg.authentication.webhook.enabled, true);
    assert.equal(cfg.authentication.x509.clientCAFile, '/var/lib/kubelet/pki/ca.crt');
    assert.equal(cfg.authorization.mode, 'Webhook');
    assert.deepEqual(cfg.clusterDNS, ['10.32.0.10']);
    assert.equal(cfg.tlsCertFile, '/var/lib/kubelet/pki/kubelet.crt');
    assert.deepEqual(cfg.registerWithTaints, [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    const unit = renderKubeletUnit({ version: 'v1.34.4', kubeconfig: input.kubelet.path, host: 'cp-1', nodeIp: input.address });
    assert.match(unit, /--node-ip=192\.168\.56\.21/);
    assert.match(unit, /--hostname-override=cp-1/);
    assert.equal(stepOf('workers/kubelet').input(p, 'worker-1').controlPlane, false);
  });

  it("kube-proxy: iptables, the plan's pod range, the conntrack size left alone only where it cannot be set", () => {
    const input = { host: 'worker-1', kubeconfig: '/var/lib/kube-proxy/kubeconfig', podRange: '10.200.0.0/16' };
    const writable = parseYaml(renderKubeProxyConfig(input, { conntrackMaxWritable: true })) as Record<string, any>;
    assert.equal(writable.mode, 'iptables');
    assert.equal(writable.clusterCIDR, '10.200.0.0/16');
    assert.equal(writable.conntrack, undefined);
    const readOnly = parseYaml(renderKubeProxyConfig(input, { conntrackMaxWritable: false })) as Record<string, any>;
    assert.equal(readOnly.conntrack.maxPerCore, 0);
  });

  it('reads whether nf_conntrack_max can be written from its mode', () => {
    const probe = (mode: string) =>
      parseNodeFacts(`@@cgroup\n0::/\n@@swap\n0\n@@capeff\nCapEff:\t000001ffffffffff\n@@init\nother\n@@conntrack\n${mode}\n`);
    assert.equal(probe('644').conntrackMaxWritable, true);
    assert.equal(probe('444').conntrackMaxWritable, false);
    assert.equal(parseNodeFacts('@@cgroup\n0::/\n').conntrackMaxWritable, undefined);
  });
});

describe('add-on inputs', () => {
  it("flannel: the plan's pod range, pinned to the infrastructure address, its own certificate", () => {
    const p = planOf((t) => t.replace('pods: 10.244.0.0/16', 'pods: 10.200.0.0/16'));
    const input = stepOf('addons/flannel').input(p, 'worker-2');
    assert.equal(input.podRange, '10.200.0.0/16');
    assert.deepEqual(JSON.parse(renderFlannelNetConfig(input.podRange)).Network, '10.200.0.0/16');
    const unit = renderFlannelUnit({ host: 'worker-2', version: input.version, address: input.address, kubeconfig: input.kubeconfig.path });
    assert.match(unit, /--iface=192\.168\.56\.32/);
    assert.match(unit, /--public-ip=192\.168\.56\.32/);
    assert.match(unit, /NODE_NAME=worker-2/);
    assert.doesNotMatch(unit, /10\.244\./);
    assert.equal(input.kubeconfig.certPath, '/etc/kube-flannel/pki/flannel.crt');
    assert.equal(input.kubeconfig.user, 'hardway:flannel');
  });

  it("CoreDNS: kube-dns at the plan's DNS address; forwarding only when the nodes have resolvers", () => {
    const p = planOf((t) =>
      t.replace('services: 10.32.0.0/24', 'services: 10.96.0.0/24').replace('clusterDns: 10.32.0.10', 'clusterDns: 10.96.0.10'),
    );
    const input = stepOf('addons/coredns').input(p, 'cp-1');
    assert.equal(input.replicas, 2);
    const objs = coreDnsObjects({ ...input, forward: false }) as { kind: string; spec?: { clusterIP?: string } }[];
    assert.equal(objs.find((o) => o.kind === 'Service')!.spec!.clusterIP, '10.96.0.10');
    assert.doesNotMatch(corefile({ clusterDomain: 'cluster.local', forward: false }), /forward/);
    assert.match(corefile({ clusterDomain: 'cluster.local', forward: true }), /forward \. \/etc\/resolv\.conf/);
  });

  it('the admin host gets the admin kubeconfig twice (kubectl finds ~/.kube/config); the workstation copy embeds it', () => {
    const p = planOf();
    const input = stepOf('admin/kubectl').input(p, 'admin');
    assert.deepEqual(
      input.kubeconfigs.map((k) => k.path),
      ['/etc/kubernetes/admin.kubeconfig', '/root/.kube/config'],
    );
    const text = renderEmbeddedKubeconfig({ cluster: 'c', user: 'admin', server: 'https://x:6443', ca: 'CA', cert: 'CERT', key: 'KEY' });
    const k = parseYaml(text) as { users: { user: Record<string, string> }[] };
    assert.equal(Buffer.from(k.users[0]!.user['client-key-data']!, 'base64').toString(), 'KEY');
  });

  it('reads kubectl diff file names and flannel subnet files', () => {
    assert.deepEqual(
      parseDiffObjects(
        'diff -u -N /tmp/LIVE-1/apps.v1.Deployment.kube-system.coredns /tmp/MERGED-1/apps.v1.Deployment.kube-system.coredns\n' +
          '--- x\n+++ y\n' +
          'diff -u -N /tmp/LIVE-1/rbac.authorization.k8s.io.v1.ClusterRoleBinding..hardway:cluster-admins /tmp/MERGED-1/x\n',
      ),
      ['Deployment kube-system/coredns', 'ClusterRoleBinding hardway:cluster-admins'],
    );
    assert.deepEqual(parseSubnetFile('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.2.1/24\nFLANNEL_MTU=1450\n'), {
      network: '10.244.0.0/16',
      subnet: '10.244.2.1/24',
    });
  });
});
