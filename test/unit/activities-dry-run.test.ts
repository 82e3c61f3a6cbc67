// The dry run (cli/dry-run.ts on activities/dry-run.ts) on memory hosts: it reads the hosts, records what would
// change, never changes a host, and tells a step that depends on changes above from one that would fail.
//   node --import tsx --test test/unit/activities-dry-run.test.ts
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createActivities, dryRunShells } from '../../activities/index.js';
import { dryRun, type DryRunReport } from '../../cli/dry-run.js';
import type { ClusterPlan } from '../../model/types.js';
import { ETCD_UNIT_PATH } from '../../render/etcd.js';
import { PHASES } from '../../workflows/phases/index.js';
import { labFor, runPhases, type MemoryLab } from '../helpers/memory-host.js';
import { seedPlan } from '../helpers/seed-plan.js';

async function dry(plan: ClusterPlan, lab: MemoryLab): Promise<{ report: DryRunReport; lines: string[] }> {
  const shells = dryRunShells(lab);
  const lines: string[] = [];
  const report = await dryRun(plan, PHASES, shells, createActivities(shells), (l) => lines.push(l));
  return { report, lines };
}

/** Nothing but reads reached the hosts. */
function untouched(lab: MemoryLab, before: string): void {
  assert.equal(lab.snapshot(), before);
  for (const h of lab.hosts.values()) {
    assert.deepEqual(h.logged('change'), [], `${h.name} got changes`);
    assert.deepEqual(h.logged('putFile'), [], `${h.name} got writes`);
  }
}

let plan: ClusterPlan;
let converged: MemoryLab;

before(async () => {
  plan = seedPlan();
  converged = labFor(plan);
  await runPhases(plan, PHASES, createActivities(converged));
});

describe('dry run', () => {
  it('on fresh hosts: lists what every step would change, leaves the hosts as they were', async () => {
    const lab = labFor(plan);
    const before = lab.snapshot();
    const { report, lines } = await dry(plan, lab);
    untouched(lab, before);

    assert.equal(report.converged, false);
    assert.equal(report.failing, 0, lines.join('\n'));
    const step = (activity: string, host: string) => report.steps.find((s) => s.activity === activity && s.host === host)!;
    assert.equal(report.steps.length, PHASES.flatMap((p) => p.steps.flatMap((s) => s.hosts(plan))).length);

    assert.equal(step('preflight/checks', 'cp-1').outcome, 'unchanged');
    // /etc/hosts would be written; resolving through it can only be checked after.
    const hosts = step('hosts/hosts-file', 'etcd-1');
    assert.equal(hosts.outcome, 'changes');
    assert.deepEqual(hosts.changes, [{ host: 'etcd-1', what: 'update /etc/hosts (0644)' }]);
    assert.equal(hosts.reason, 'getent reads etcd-1:/etc/hosts, which a change above writes');
    // The CA and the shared service-account key pair would be made...
    const ca = step('pki/authority', 'ca');
    assert.equal(ca.outcome, 'changes');
    assert.deepEqual(
      ca.changes.map((c) => `${c.host} ${c.what}`),
      [
        'ca create /var/lib/hardway/ca/ca.key (0600, ECDSA-P256)',
        'ca create /var/lib/hardway/ca/ca.crt (0644)',
        'ca create /var/lib/hardway/ca/etcd-ca.key (0600, ECDSA-P256)',
        'ca create /var/lib/hardway/ca/etcd-ca.crt (0644)',
        'ca create /var/lib/hardway/ca/front-proxy-ca.key (0600, ECDSA-P256)',
        'ca create /var/lib/hardway/ca/front-proxy-ca.crt (0644)',
        'cp-1 create /etc/kubernetes/pki/sa.key (0600)',
        'cp-1 create /etc/kubernetes/pki/sa.pub (0644)',
        'cp-2 create /etc/kubernetes/pki/sa.key (0600)',
        'cp-2 create /etc/kubernetes/pki/sa.pub (0644)',
      ],
    );
    // ...so the certificates cannot be judged yet: they depend on it, they do not fail.
    for (const [h, ca] of [
      ['etcd-1', 'etcd-ca'], // etcd's certificates come from the etcd CA
      ['cp-1', 'etcd-ca'], // its first certificate is the API server's etcd client
      ['worker-2', 'ca'],
      ['admin', 'ca'],
    ] as const) {
      const certs = step('pki/certificates', h);
      assert.equal(certs.outcome, 'depends', h);
      assert.equal(certs.reason, `the step reads ca:/var/lib/hardway/ca/${ca}.crt, which a change above writes`, h);
      assert.deepEqual(certs.changes, []);
    }
    // etcd: install, data directory, how it first joins, unit... until a read of what would have been written (a changing step whose
    // verification waits for its own changes).
    const member = step('etcd/member', 'etcd-2');
    assert.equal(member.outcome, 'changes');
    assert.deepEqual(
      member.changes.map((c) => c.what),
      [
        'install etcd v3.6.16 (amd64) into /usr/local/bin from https://github.com/etcd-io/etcd/releases/download/v3.6.16',
        'mkdir -p /var/lib/etcd && chmod 0700 /var/lib/etcd',
        'create /etc/etcd/bootstrap.env (0644)',
      ],
    );
    assert.equal(step('etcd/quorum', 'etcd-1').outcome, 'depends');
    const lb = step('loadbalancer/haproxy', 'lb');
    assert.equal(lb.outcome, 'changes');
    assert.deepEqual(
      lb.changes.map((c) => c.what),
      ['install haproxy (apt-get, dnf or yum)', 'create /etc/haproxy/haproxy.cfg.hardway-new (0644)'],
    );
    assert.equal(lb.reason, 'haproxy reads lb:/etc/haproxy/haproxy.cfg.hardway-new, which a change above writes');

    assert.ok(
      lines.includes(
        '  pki/certificates/etcd-1: depends on changes above: the step reads ca:/var/lib/hardway/ca/etcd-ca.crt, which a change above writes',
      ),
      lines.join('\n'),
    );
    assert.ok(lines.includes('      cp-1: create /etc/kubernetes/pki/sa.key (0600)'));
    assert.deepEqual(report.byHost['cp-1'], [
      'hosts/hosts-file: update /etc/hosts (0644)',
      'pki/authority: create /etc/kubernetes/pki/sa.key (0600)',
      'pki/authority: create /etc/kubernetes/pki/sa.pub (0644)',
      'runtime/containerd: create /etc/modules-load.d/hardway-kubernetes.conf (0644)',
      'runtime/containerd: create /etc/sysctl.d/99-hardway-kubernetes.conf (0644)',
      'runtime/containerd: sysctl -q -w net.ipv4.ip_forward=1',
      'runtime/containerd: install runc v1.1.5 (amd64) into /usr/local/sbin from https://github.com/opencontainers/runc/releases/download/v1.1.5',
      'runtime/containerd: install cni-plugins v1.1.1 (amd64) into /opt/cni/bin from https://github.com/containernetworking/plugins/releases/download/v1.1.1',
      'runtime/containerd: install containerd v1.6.20 (amd64) into /usr/local/bin from https://github.com/containerd/containerd/releases/download/v1.6.20',
      'runtime/containerd: mkdir -p /etc/cni/net.d /etc/containerd/certs.d',
      'runtime/containerd: create /etc/containerd/config.toml (0644)',
      'runtime/containerd: create /etc/systemd/system/containerd.service (0644)',
      'runtime/containerd: systemctl daemon-reload',
      'runtime/containerd: systemctl enable containerd',
      'runtime/containerd: systemctl start containerd',
      'runtime/containerd: create /var/lib/hardway/services/containerd.inputs (0644)',
      // Each later step stops where it would read what an earlier change writes (the certificates, the kubeconfigs).
      'controlplane/encryption-config: create /etc/kubernetes/encryption-config.yaml (0600)',
      'controlplane/services: install kubernetes v1.34.4 (amd64) into /usr/local/bin from https://dl.k8s.io/release/v1.34.4',
      'controlplane/services: create /etc/kubernetes/controller-manager.kubeconfig (0600)',
      'controlplane/services: create /etc/kubernetes/scheduler.kubeconfig (0600)',
      'controlplane/services: create /etc/kubernetes/admin.kubeconfig (0600)',
      'controlplane/services: create /etc/kubernetes/super-admin.kubeconfig (0600)',
      'controlplane/services: mkdir -p /var/log/kubernetes && chmod 0700 /var/log/kubernetes',
      'workers/kubelet: install kubernetes v1.34.4 (amd64) into /usr/local/bin from https://dl.k8s.io/release/v1.34.4',
      'workers/kubelet: install flannel-cni-plugin v1.7.1-flannel1 (amd64) into /opt/cni/bin from https://github.com/flannel-io/cni-plugin/releases/download/v1.7.1-flannel1',
      'workers/kubelet: create /etc/cni/net.d/10-flannel.conflist (0644)',
      'workers/kubelet: create /var/lib/kubelet/kubeconfig (0600)',
      'workers/kubelet: create /var/lib/kube-proxy/kubeconfig (0600)',
      'workers/kubelet: create /var/lib/kubelet/config.yaml (0644)',
      'workers/kubelet: create /var/lib/kube-proxy/config.yaml (0644)',
      'addons/flannel: install flannel v0.28.10 (amd64) into /usr/local/bin from https://github.com/flannel-io/flannel/releases/download/v0.28.10',
      'addons/flannel: create /etc/kube-flannel/kubeconfig (0600)',
      'addons/flannel: create /etc/kube-flannel/net-conf.json (0644)',
    ]);
    assert.equal(step('controlplane/rbac', 'cp-1').outcome, 'depends');
    assert.equal(step('workers/ready', 'worker-1').outcome, 'depends');
    assert.equal(step('addons/coredns', 'cp-1').outcome, 'depends');
    // containerd's answers can only be checked once it runs with the config the dry run would write; the images step
    // asks that containerd too.
    const runtime = step('runtime/containerd', 'worker-1');
    assert.equal(runtime.outcome, 'changes');
    assert.equal(runtime.reason, '/usr/local/bin/ctr reads worker-1:/etc/containerd/config.toml, which a change above writes');
    assert.equal(step('runtime/images', 'worker-1').outcome, 'depends');
    assert.equal(
      report.byHost['etcd-1']?.some((c) => c.startsWith('runtime/')),
      false,
      'no runtime on hosts without a kubelet',
    );
  });

  it('on converged hosts: nothing would change', async () => {
    const lab = converged.clone();
    const before = lab.snapshot();
    const { report, lines } = await dry(plan, lab);
    untouched(lab, before);
    assert.equal(report.converged, true, lines.join('\n'));
    assert.ok(report.steps.every((s) => s.outcome === 'unchanged' && s.changes.length === 0));
    assert.deepEqual(report.byHost, {});
    assert.equal(lines.at(-1), 'dry run: nothing would change');
  });

  it('on a drifted host: exactly the rewrite and restart the real run would make', async () => {
    const lab = converged.clone();
    const h = lab.host('etcd-1');
    h.write(ETCD_UNIT_PATH, h.text(ETCD_UNIT_PATH)!.replace('--client-cert-auth', '--client-cert-auth --debug'));
    const before = lab.snapshot();
    const { report } = await dry(plan, lab);
    untouched(lab, before);
    const changing = report.steps.filter((s) => s.outcome !== 'unchanged');
    assert.deepEqual(
      changing.map((s) => ({
        step: `${s.activity}/${s.host}`,
        outcome: s.outcome,
        changes: s.changes.map((c) => c.what),
        reported: s.reported,
      })),
      [
        {
          step: 'etcd/member/etcd-1',
          outcome: 'changes',
          changes: [`update ${ETCD_UNIT_PATH} (0644)`, 'systemctl daemon-reload', 'systemctl restart etcd'],
          reported: [ETCD_UNIT_PATH, 'restarted etcd'],
        },
      ],
    );
  });

  it('a step that would fail as the host is now is reported as failing', async () => {
    const lab = converged.clone();
    lab.host('worker-1').memoryMiB = 512;
    const { report, lines } = await dry(plan, lab);
    const pre = report.steps.find((s) => s.activity === 'preflight/checks' && s.host === 'worker-1')!;
    assert.equal(pre.outcome, 'fails');
    assert.match(pre.reason!, /worker-1 has 512 MiB of memory/);
    assert.equal(report.failing, 1);
    assert.ok(lines.some((l) => l.startsWith('  preflight/checks/worker-1: would fail: worker-1 has 512 MiB')));
  });
});
