// End to end on a lab of another shape than the seed: 5 etcd members, 3 control planes, 3 workers, the pod range
// 10.200.0.0/16, the service range 10.96.0.0/24 and the API on port 8443 of the load balancer. `hardway up` through a
// real dev server and worker, then the smoke tests of Kubernetes the Hard Way (test/helpers/smoke.ts), a re-run
// that changes and restarts nothing, and no secret in the history. The bring-up itself goes through a node that drops
// off: it waits at that node's step, and `retry` resumes it there.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestTemporal } from '../helpers/temporal.js';
import { labExec } from '../../lab/index.js';
import type { ClusterPlan, ClusterSpec, HostSpec } from '../../model/types.js';
import { applySpec, clusterStatus, follow, retryCluster } from '../../cli/cluster-ops.js';
import { formatStatus } from '../../cli/status-format.js';
import { TASK_QUEUE, workflowIdFor } from '../../temporal/constants.js';
import { clusterWorkflow } from '../../workflows/cluster.js';
import type { ClusterStatus } from '../../workflows/status.js';
import { labTestSpec } from '../helpers/lab-spec.js';
import { smoke } from '../helpers/smoke.js';
import { LabCluster, MANAGED_FILE_TIMES, payloadTexts } from '../helpers/lab-cluster.js';

const SUBNET = '192.168.59';
const dir = mkdtempSync(join(tmpdir(), 'hardway-e2e-large-'));
let env: TestTemporal;
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

async function on(host: string, cmd: string): Promise<string> {
  const r = await labExec(dir, host, ['sh', '-c', cmd]);
  assert.equal(r.code, 0, `${host}: ${cmd} -> ${r.code} ${r.stderr}`);
  return r.stdout;
}

/** Host-side evidence of what ran: each hardway-managed file with its mtime, and the PIDs of the services. */
async function evidence(hosts: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const h of hosts) {
    out[`${h} files`] = await on(h, MANAGED_FILE_TIMES);
    out[`${h} pids`] = await on(
      h,
      "pgrep -a -f '^/usr/local/bin/(etcd|kube-apiserver|containerd|kubelet) ' | cut -d' ' -f1,2 | sort || true",
    );
  }
  return out;
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
  it('converges every phase, through a node that drops off: the bring-up waits at its step, and retry resumes it there', async () => {
    // Four attempts a step instead of 30, so that the step gives up within a minute.
    await env.client.workflow.start(clusterWorkflow, {
      workflowId: workflowIdFor(spec.name),
      taskQueue: TASK_QUEUE,
      args: [{ options: { maximumAttempts: 4 } }],
    });
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { hosts: { name: string; veth: string }[] };
    const veth = state.hosts.find((h) => h.name === 'worker-3')!.veth;
    const link = (how: 'up' | 'down') => execFileSync('ip', ['link', 'set', veth, how]);
    const req = await applySpec(env.client, spec);
    // While the control planes are set up, worker-3 drops off: its next step, the kubelet, cannot reach it.
    for (const t0 = Date.now(); (await clusterStatus(req.handle)).currentPhase !== 'controlplane';) {
      assert.ok(Date.now() - t0 < 300_000, 'the bring-up did not reach the controlplane phase');
      await new Promise((r) => setTimeout(r, 250));
    }
    link('down');
    let down = true;
    let status: ClusterStatus | undefined;
    try {
      const blocked = await follow(req, () => {});
      histories.push((await req.handle.fetchHistory()).events ?? []);
      assert.equal(blocked.result.outcome, 'blocked');
      assert.deepEqual(
        blocked.result.blocked?.map((b) => b.step),
        ['workers/kubelet/worker-3'],
      );
      assert.equal(blocked.status.state, 'blocked');
      assert.match(formatStatus(blocked.status), /workers\/kubelet\/worker-3/);
      const others = plan.hosts.map((h) => h.name).filter((h) => h !== 'worker-3');
      const before = await evidence(others);

      link('up');
      down = false;
      const resumed = await follow(await retryCluster(env.client, spec.name), () => {});
      histories.push((await req.handle.fetchHistory()).events ?? []);
      assert.equal(resumed.result.outcome, 'converged');
      status = resumed.status;
      // Every step done before the block was not run again: the status says so, and the hosts show it (no file
      // rewritten, no service restarted).
      const again = resumed.status.steps.filter(
        (s) => ['preflight', 'hosts', 'pki', 'etcd', 'loadbalancer', 'runtime', 'controlplane'].includes(s.phase) && !s.reused,
      );
      assert.deepEqual(
        again.map((s) => s.name),
        [],
      );
      assert.equal(resumed.status.steps.find((s) => s.name === 'workers/kubelet/worker-1')?.reused, true);
      const after = await evidence(others);
      for (const [k, v] of Object.entries(before)) {
        if (k.endsWith('pids')) assert.equal(after[k], v, `${k} changed`);
        // Files that were there keep their mtime; the phases after the block (addons, admin) add their own.
        else
          for (const line of v.split('\n').filter(Boolean)) assert.ok(after[k]!.split('\n').includes(line), `${k}: ${line} was rewritten`);
      }
    } finally {
      if (down) link('up');
    }
    assert.ok(status, 'the resumed bring-up has a status');
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
