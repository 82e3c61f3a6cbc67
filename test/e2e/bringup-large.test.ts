// End to end on a lab of another shape than the seed: 5 etcd members, 3 control planes, 3 workers, the pod range
// 10.200.0.0/16, the service range 10.96.0.0/24 and the API on port 8443 of the load balancer. `hardway up` through a
// real dev server and worker, then the smoke tests of Kubernetes the Hard Way (test/helpers/smoke.ts), a re-run
// that changes and restarts nothing, and no secret in the history.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { labExec } from '../../lab/index.js';
import type { ClusterPlan, ClusterSpec, HostSpec } from '../../model/types.js';
import { applySpec, follow } from '../../cli/cluster-ops.js';
import { labTestSpec } from '../helpers/lab-spec.js';
import { smoke } from '../helpers/smoke.js';
import { LabCluster, payloadTexts } from '../helpers/lab-cluster.js';

const SUBNET = '192.168.59';
const dir = mkdtempSync(join(tmpdir(), 'hardway-e2e-large-'));
let env: TestWorkflowEnvironment;
let spec: ClusterSpec;
let plan: ClusterPlan;
const histories: unknown[][] = [];
let smokeChecks: ReturnType<typeof smoke> | undefined;
const checks = () => (smokeChecks ??= smoke({ dir, plan }));

function largeSpec(): ClusterSpec {
  const h = (name: string, last: number, role: HostSpec['roles'][number]): HostSpec => ({
    name,
    address: `${SUBNET}.${last}`,
    roles: [role],
  });
  const s = labTestSpec('large', SUBNET, [
    h('ca', 10, 'ca'),
    ...[1, 2, 3, 4, 5].map((i) => h(`etcd-${i}`, 10 + i, 'etcd')),
    h('lb', 20, 'loadbalancer'),
    ...[1, 2, 3].map((i) => h(`cp-${i}`, 20 + i, 'controlplane')),
    ...[1, 2, 3].map((i) => h(`worker-${i}`, 30 + i, 'worker')),
    h('admin', 40, 'admin'),
  ]);
  s.networks = { ...s.networks, pods: '10.200.0.0/16', nodeMask: 24, services: '10.96.0.0/24', clusterDns: '10.96.0.10' };
  s.loadBalancer = { port: 8443 };
  return s;
}

async function bringUp() {
  const req = await applySpec(env.client, spec);
  const { result, status } = await follow(req, () => {});
  histories.push((await req.handle.fetchHistory()).events ?? []);
  return { result, status };
}

const lab = new LabCluster(dir);
before(async () => {
  await lab.start(largeSpec());
  ({ env, spec, plan } = lab);
});

after(() => lab.stop());

describe('bring-up on the lab: 5 etcd, 3 control planes, 3 workers, other ranges and API port', { timeout: 25 * 60_000 }, () => {
  it('converges every phase', async () => {
    const { status } = await bringUp();
    assert.equal(status.state, 'converged', status.error);
    assert.ok(
      status.phases.every((p) => p.state === 'done'),
      JSON.stringify(status.phases.map((p) => [p.name, p.state])),
    );
    assert.equal(plan.apiServer.url, `https://${SUBNET}.20:8443`);
    // The etcd quorum has five members, all healthy.
    const health = await labExec(dir, 'etcd-3', [
      'sh',
      '-c',
      `etcdctl --endpoints=${plan.etcd.members.map((m) => m.clientUrl).join(',')} --cacert=/etc/etcd/pki/ca.crt ` +
        '--cert=/etc/etcd/pki/healthcheck-client.crt --key=/etc/etcd/pki/healthcheck-client.key endpoint health -w json',
    ]);
    const members = JSON.parse(health.stdout) as { health: boolean }[];
    assert.equal(members.filter((m) => m.health).length, 5, health.stdout + health.stderr);
  });

  it('1. every node is Ready with the pod range of the plan (10.200.x.0/24)', async () => {
    assert.ok(plan.hosts.filter((h) => h.podCidr).every((h) => h.podCidr!.startsWith('10.200.')));
    await checks().nodesReadyWithPlannedRanges();
  });
  it('2. /readyz through the LB on port 8443; the kubernetes endpoints are the three control planes', () =>
    checks().apiReadyAndEndpointsAreControlPlanes());
  it('3. a Secret is stored encrypted in etcd', () => checks().secretsEncryptedInEtcd());
  it('4. a Deployment spread over the three workers becomes available', () => checks().deploymentSpreadOverWorkers());
  it('5. pod to pod across workers; flannel runs 10.200.0.0/16 on the infrastructure addresses', () => checks().podToPodAcrossNodes());
  it('6. Services by name, and DNS through 10.96.0.10', async () => {
    assert.equal(plan.networks.kubernetesService, '10.96.0.1');
    await checks().servicesAndDns();
  });
  it('7. the NodePort answers from the admin host on every worker', () => checks().nodePortFromAdmin());
  it('8. logs, exec and port-forward', () => checks().logsExecPortForward());
  it('9. the API and leadership survive a stopped API server', () => checks().survivesAnApiServerDown());

  it('10. a second up changes nothing and restarts nothing; 11. no private or encryption key in any payload', async () => {
    const before = await checks().servicePids();
    const { status } = await bringUp();
    assert.equal(status.state, 'converged');
    assert.deepEqual(
      status.steps.filter((s) => s.changed?.length).map((s) => `${s.name}: ${s.changed!.join(', ')}`),
      [],
    );
    assert.deepEqual(await checks().servicePids(), before);
    const key = await checks().encryptionKey();
    for (const h of histories) {
      const texts = payloadTexts(h);
      assert.ok(!texts.some((t) => t.includes('PRIVATE KEY')), 'a payload holds a private key');
      assert.ok(!texts.some((t) => t.includes(key)), 'a payload holds the encryption key');
    }
  });
});
