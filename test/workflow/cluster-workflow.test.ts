// The cluster workflow against a real Temporal dev server, with activity doubles (hosts are the e2e tests' job).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
const { temporal } = proto;
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TASK_QUEUE, workflowIdFor } from '../../temporal/constants.js';
import { clusterWorkflow, ENTITY_PATCH } from '../../workflows/cluster.js';
import {
  addControlPlaneSignal,
  addWorkerSignal,
  applySignal,
  removeWorkerSignal,
  applyUpdate,
  retrySignal,
  retryUpdate,
  statusQuery,
  type ClusterStatus,
} from '../../workflows/status.js';
import { CLUSTER_NAME, CLUSTER_PHASE } from '../../temporal/search-attributes.js';
import { addNode, addWorker, applySpec, cancelConverge, follow, removeWorker, resetCluster, retryCluster } from '../../cli/cluster-ops.js';
import { UsageError } from '../../cli/load-spec.js';
import { devServer } from '../helpers/temporal.js';
import type { CallRecord } from './fixtures/doubles.js';
import { callsOf, eventually, holdAt, seedSpec, withHost, withWorker } from './helpers.js';

const CLIENT = fileURLToPath(new URL('../../client.ts', import.meta.url));
let env: TestWorkflowEnvironment;
before(async () => {
  env = await devServer();
});
after(async () => {
  await env?.teardown();
});

const first = (calls: CallRecord[], activity: CallRecord['activity']) => Math.min(...callsOf(calls, activity).map((c) => c.start));
const last = (calls: CallRecord[], activity: CallRecord['activity']) => Math.max(...callsOf(calls, activity).map((c) => c.end ?? Infinity));
const status = (cluster: string): Promise<ClusterStatus> => env.client.workflow.getHandle(workflowIdFor(cluster)).query(statusQuery);
const historyEvents = async (cluster: string) =>
  (await env.client.workflow.getHandle(workflowIdFor(cluster)).fetchHistory()).events?.length ?? 0;

describe('cluster workflow', () => {
  it('up starts the workflow and converges the phases in the seed order, fanning out within a bound', async () => {
    const calls: CallRecord[] = [];
    let running = 0;
    let maxRunning = 0;
    const spec = seedSpec('order');
    const { result, status: st } = await withWorker(
      env,
      {
        delayMs: 150,
        onStart: (r) => {
          if (r.activity !== 'preflight/checks') return;
          running++;
          maxRunning = Math.max(maxRunning, running);
          setTimeout(() => running--, 140);
        },
      },
      calls,
      async () => follow(await applySpec(env.client, spec, { parallelism: 3 }), () => {}),
    );
    assert.equal(result.outcome, 'converged');
    assert.equal(st.state, 'converged');
    const order = [
      'preflight/checks',
      'hosts/hosts-file',
      'pki/authority',
      'pki/certificates',
      'etcd/member',
      'etcd/quorum',
      'loadbalancer/haproxy',
      'runtime/containerd',
      'runtime/images',
      'controlplane/encryption-config',
      'controlplane/services',
      'controlplane/rbac',
      'workers/register',
      'workers/kubelet',
      'workers/ready',
      'addons/flannel',
      'addons/coredns',
      'admin/kubectl',
    ] as const;
    for (let i = 1; i < order.length; i++) {
      assert.ok(last(calls, order[i - 1]!) <= first(calls, order[i]!), `${order[i - 1]} must finish before ${order[i]} starts`);
    }
    assert.equal(callsOf(calls, 'preflight/checks').length, spec.hosts.length);
    assert.equal(maxRunning, 3);
    const members = callsOf(calls, 'etcd/member');
    assert.equal(members.length, 3);
    assert.ok(Math.max(...members.map((m) => m.start)) < Math.min(...members.map((m) => m.end!)), 'etcd members start together');
    assert.deepEqual(st.notBuilt, []);
    assert.equal(st.phases.filter((p) => p.state === 'done').length, 10);
    // Cluster-wide steps run once, from the first control plane; node steps once per kubelet host.
    for (const a of ['controlplane/encryption-config', 'controlplane/rbac', 'addons/coredns'] as const) {
      assert.deepEqual(
        callsOf(calls, a).map((c) => c.host),
        ['cp-1'],
      );
    }
    for (const a of ['workers/register', 'workers/kubelet', 'workers/ready', 'addons/flannel'] as const) {
      assert.equal(callsOf(calls, a).length, 4);
    }
    assert.deepEqual(
      callsOf(calls, 'admin/kubectl').map((c) => c.host),
      ['admin'],
    );
    assert.deepEqual(
      callsOf(calls, 'runtime/containerd')
        .map((c) => c.host)
        .sort(),
      ['cp-1', 'cp-2', 'worker-1', 'worker-2'],
      'the container runtime goes to the hosts that run a kubelet',
    );
    // One name per step everywhere: status, activity id and summary.
    assert.ok(st.steps.some((s) => s.name === 'etcd/member/etcd-1'));
    const history = await env.client.workflow.getHandle(workflowIdFor(spec.name)).fetchHistory();
    const scheduled = history
      .events!.filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => e.activityTaskScheduledEventAttributes!);
    const etcd1 = scheduled.find((a) => a.activityId === 'etcd/member/etcd-1');
    assert.equal(etcd1?.activityType?.name, 'etcd/member');
    // Activities get their host's fragment, not the plan: the largest input of the seed stays small.
    assert.ok(Math.max(...calls.map((c) => c.inputBytes ?? 0)) < 6_000, 'an activity input is a fragment of the plan');
    assert.deepEqual(result.podAllocations, {
      'cp-1': '10.244.0.0/24',
      'cp-2': '10.244.1.0/24',
      'worker-1': '10.244.2.0/24',
      'worker-2': '10.244.3.0/24',
    });
    // The workflow lives on after converging.
    assert.equal((await env.client.workflow.getHandle(workflowIdFor(spec.name)).describe()).status.name, 'RUNNING');

    // Histories of this shape carry the entity patch marker (the upgrade test checks 0.1's do not).
    assert.ok(Buffer.from(temporal.api.history.v1.History.encode(history).finish()).includes(ENTITY_PATCH));
    // Record the history as the replay test's fixture when asked to (see test/workflow/replay.test.ts).
    if (process.env.HARDWAY_RECORD_HISTORY) {
      writeFileSync(process.env.HARDWAY_RECORD_HISTORY, temporal.api.history.v1.History.encode(history).finish());
    }
  });

  it('etcd members of a running cluster restart one at a time; a new cluster starts them together; a no-op run is one wave', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('rolling');
    const overlap = (rs: CallRecord[]) => rs.some((a) => rs.some((b) => a !== b && a.start < b.end! && b.start < a.end!));
    await withWorker(env, { delayMs: 100 }, calls, async () => {
      await follow(await applySpec(env.client, spec, { requestedBy: 'alice@laptop' }), () => {});
      const firstRun = callsOf(calls, 'etcd/member');
      // Who asked is in the change log, for another operator's status.
      const asked = (await env.client.workflow.getHandle(workflowIdFor(spec.name)).query(statusQuery)).changes.at(-1);
      assert.equal(asked?.by, 'alice@laptop');
      assert.equal(firstRun.length, 3);
      assert.ok(overlap(firstRun), 'a new quorum needs its members started together');
      const before = calls.length;
      // A new etcd release changes every member: on a running cluster they roll.
      const { result } = await follow(await applySpec(env.client, { ...spec, versions: { ...spec.versions, etcd: 'v3.6.17' } }), () => {});
      assert.equal(result.outcome, 'converged');
      const second = callsOf(calls.slice(before), 'etcd/member');
      // Every member is looked at at once and marked; then each restarts in turn, never two at a time.
      const looked = second.filter((c) => c.service === 'deferred');
      assert.deepEqual(looked.map((c) => c.host).sort(), ['etcd-1', 'etcd-2', 'etcd-3']);
      assert.ok(overlap(looked), 'the members are checked together');
      const restarts = second.filter((c) => c.service === 'restarted');
      assert.deepEqual(
        restarts.map((c) => c.host),
        ['etcd-1', 'etcd-2', 'etcd-3'],
      );
      assert.equal(overlap(restarts), false, 'members of a running cluster restart one at a time');
      assert.ok(Math.max(...looked.map((c) => c.end!)) <= Math.min(...restarts.map((c) => c.start)), 'restarts follow the checks');
      assert.equal(second.length, 6);
      // Nothing to restart: one wave, and no restart pass.
      const third = calls.length;
      await follow(await applySpec(env.client, { ...spec, versions: { ...spec.versions, etcd: 'v3.6.17' } }), () => {});
      const noop = callsOf(calls.slice(third), 'etcd/member');
      assert.deepEqual(
        noop.map((c) => c.service),
        ['unchanged', 'unchanged', 'unchanged'],
      );
      assert.ok(overlap(noop), 'a no-op run looks at the members together');
      const cps = callsOf(calls.slice(third), 'controlplane/services');
      assert.ok(overlap(cps), 'and at the control planes');
    });
    // Record the history (a bring-up, then a rolling converge) as a replay fixture when asked to (see replay.test.ts).
    if (process.env.HARDWAY_RECORD_ROLLING_HISTORY) {
      const history = await env.client.workflow.getHandle(workflowIdFor(spec.name)).fetchHistory();
      writeFileSync(process.env.HARDWAY_RECORD_ROLLING_HISTORY, temporal.api.history.v1.History.encode(history).finish());
    }
  });

  it('finds the cluster by its search attributes', async () => {
    const desc = await env.client.workflow.getHandle(workflowIdFor('order')).describe();
    assert.equal(desc.typedSearchAttributes.get(CLUSTER_NAME), 'order');
    assert.equal(desc.typedSearchAttributes.get(CLUSTER_PHASE), 'converged');
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const w of env.client.workflow.list({ query: `HardwayCluster = 'order'` })) ids.push(w.workflowId);
      return ids.length ? ids : undefined;
    }, 'visibility');
    assert.deepEqual(found, [workflowIdFor('order')]);
  });

  it('shows the UI a summary and static details: hosts by role, versions, networks', async () => {
    const desc = await env.client.workflow.getHandle(workflowIdFor('order')).describe();
    assert.match((await desc.staticSummary())!, /^hardway cluster order: 10 hosts, Kubernetes v1\.\d+\.\d+$/);
    const details = (await desc.staticDetails())!;
    assert.match(details, /^- hosts: 10 \(ca 1, etcd 3, loadbalancer 1, controlplane 2, worker 2, admin 1\)$/m);
    assert.match(details, /^- versions: Kubernetes v1\.\d+\.\d+, etcd v3\.6\.\d+, containerd /m);
    assert.match(
      details,
      /^- networks: infrastructure 192\.168\.56\.0\/24, pods 10\.244\.0\.0\/16 \(a \/24 per node\), services 10\.32\.0\.0\/24, cluster DNS 10\.32\.0\.10$/m,
    );
  });

  it('retries a transient failure and counts the attempts in the status', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('transient');
    const { result, status: st } = await withWorker(
      env,
      { failFirst: [{ activity: 'hosts/hosts-file', host: 'lb', times: 2, type: 'ConnectionFailed', message: 'connect ECONNREFUSED' }] },
      calls,
      async () => follow(await applySpec(env.client, spec), () => {}),
    );
    assert.equal(result.outcome, 'converged');
    assert.equal(callsOf(calls, 'hosts/hosts-file', 'lb').length, 3);
    assert.equal(st.steps.find((s) => s.name === 'hosts/hosts-file/lb')?.attempts, 3);
  });

  it('a second up applies an edited file to the running workflow; pod ranges never move', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('edit');
    await withWorker(env, {}, calls, async () => {
      const one = await applySpec(env.client, spec);
      const r1 = await one.update.result();
      const runId = (await one.handle.describe()).runId;
      // A worker inserted before worker-1 gets the next free range; worker-1 keeps its own.
      const grown = withHost(spec, { name: 'worker-0', address: '192.168.56.30', roles: ['worker'] }, 'worker-1');
      const two = await applySpec(env.client, grown);
      const r2 = await two.update.result();
      assert.equal((await two.handle.describe()).runId, runId, 'the same run took the change');
      assert.equal(r2.outcome, 'converged');
      assert.equal(r2.generation, r1.generation + 1);
      assert.equal(r2.podAllocations['worker-1'], r1.podAllocations['worker-1']);
      assert.equal(r2.podAllocations['worker-0'], '10.244.4.0/24');
      assert.equal(callsOf(calls, 'preflight/checks', 'worker-0').length, 1);
      const st = await status(spec.name);
      assert.match(st.changes.at(-1)!.summary, /added worker-0/);
    });
  });

  it('addWorker (update): the next free pod range, the node phases on the new host, Ready; refusals leave no trace; a repeated request is applied once', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('grow');
    await withWorker(env, {}, calls, async () => {
      const r1 = await (await applySpec(env.client, spec)).update.result();
      const before = calls.length;
      const req = await addWorker(env.client, spec.name, { name: 'worker-3', address: '192.168.56.33', requestId: 'add-w3' });
      const added = await req.update.result();
      assert.deepEqual(
        { name: added.name, podRange: added.podRange, state: added.state, generation: added.generation },
        { name: 'worker-3', podRange: '10.244.4.0/24', state: 'Ready', generation: r1.generation + 1 },
      );
      const mine = calls.slice(before);
      for (const a of [
        'preflight/checks',
        'pki/certificates',
        'runtime/containerd',
        'workers/kubelet',
        'workers/ready',
        'addons/flannel',
      ] as const) {
        assert.equal(callsOf(mine, a, 'worker-3').length, 1, `${a} ran on worker-3`);
      }
      const st = await status(spec.name);
      assert.equal(st.podAllocations['worker-3'], '10.244.4.0/24');
      assert.equal(st.podAllocations['worker-1'], r1.podAllocations['worker-1'], 'other nodes keep their ranges');
      assert.match(st.changes.at(-1)!.summary, /added worker-3/);
      // The same request again (same id): the same answer, no second change.
      const again = await (
        await addWorker(env.client, spec.name, { name: 'worker-3', address: '192.168.56.33', requestId: 'add-w3' })
      ).update.result();
      assert.equal(again.generation, added.generation);
      assert.equal((await status(spec.name)).generation, added.generation);

      // Refused before anything enters history, each saying why.
      const events = await historyEvents(spec.name);
      const refusedWith = async (r: Parameters<typeof addWorker>[2], why: RegExp) =>
        assert.rejects(addWorker(env.client, spec.name, r), (err: unknown) => {
          assert.ok(err instanceof UsageError, String(err));
          assert.match(err.message, why);
          return true;
        });
      await refusedWith({ name: 'worker-1', address: '192.168.56.39' }, /name worker-1 is already in use \(192\.168\.56\.31/);
      await refusedWith({ name: 'worker-4', address: '192.168.56.31' }, /address 192\.168\.56\.31 is already in use by worker-1/);
      await refusedWith({ name: 'worker-4', address: '10.9.9.9' }, /infrastructure/);
      await refusedWith({ name: '', address: '192.168.56.39' }, /has no name/);
      assert.equal(await historyEvents(spec.name), events, 'rejected updates leave no trace in history');

      // By signal: applied once per request id; a refusal is recorded in the change log.
      const handle = env.client.workflow.getHandle(workflowIdFor(spec.name));
      await handle.signal(addWorkerSignal, { name: 'worker-4', address: '192.168.56.34', requestId: 'sig-w4' });
      await handle.signal(addWorkerSignal, { name: 'worker-4', address: '192.168.56.34', requestId: 'sig-w4' });
      await handle.signal(addWorkerSignal, { name: 'worker-5', address: '192.168.56.31', requestId: 'sig-w5' });
      const refused = await eventually(
        async () => (await status(spec.name)).changes.find((c) => c.requestId === 'sig-w5'),
        'refusal recorded',
      );
      assert.equal(refused.accepted, false);
      assert.match(refused.summary, /already in use by worker-1/);
      const ready = await eventually(async () => {
        const s = await status(spec.name);
        return s.state === 'converged' && s.podAllocations['worker-4'] ? s : undefined;
      }, 'worker-4 converged');
      assert.equal(ready.podAllocations['worker-4'], '10.244.5.0/24');
      assert.equal(ready.changes.filter((c) => c.requestId === 'sig-w4').length, 1, 'a signal sent twice is applied once');
      assert.equal(callsOf(calls, 'workers/ready', 'worker-4').length, 1);
    });
  });

  it('addControlPlane: its certificates, the control-plane and node phases on it, the load balancer reloaded; the etcd members untouched', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('growcp');
    await withWorker(env, {}, calls, async () => {
      const r1 = await (await applySpec(env.client, spec)).update.result();
      const before = calls.length;
      const added = await (
        await addNode(env.client, spec.name, { name: 'cp-3', address: '192.168.56.23' }, 'controlplane')
      ).update.result();
      assert.deepEqual(
        { name: added.name, podRange: added.podRange, state: added.state, generation: added.generation },
        { name: 'cp-3', podRange: '10.244.4.0/24', state: 'Ready', generation: r1.generation + 1 },
      );
      const mine = calls.slice(before);
      for (const a of ['pki/certificates', 'controlplane/services', 'workers/kubelet', 'workers/ready'] as const) {
        assert.equal(callsOf(mine, a, 'cp-3').length, 1, `${a} ran on cp-3`);
      }
      assert.equal(callsOf(mine, 'loadbalancer/haproxy', 'lb').length, 1);
      assert.deepEqual(
        callsOf(mine, 'etcd/member').map((c) => c.service),
        ['unchanged', 'unchanged', 'unchanged'],
        'no etcd member restarted',
      );
      const spec2 = await env.client.workflow.getHandle(workflowIdFor(spec.name)).query('spec');
      assert.deepEqual((spec2 as { hosts: { name: string; roles: string[] }[] }).hosts.at(-1), {
        name: 'cp-3',
        address: '192.168.56.23',
        roles: ['controlplane'],
      });
      // The signal of the same name; a taken name is refused into the change log.
      const handle = env.client.workflow.getHandle(workflowIdFor(spec.name));
      await handle.signal(addControlPlaneSignal, { name: 'cp-1', address: '192.168.56.24', requestId: 'sig-cp1' });
      const refused = await eventually(
        async () => (await status(spec.name)).changes.find((c) => c.requestId === 'sig-cp1'),
        'refusal recorded',
      );
      assert.match(refused.summary, /name cp-1 is already in use/);
    });
  });

  it('removeWorker: drained and deleted, its host cleaned, the others lose its /etc/hosts line; its range stays with its name; up with the worker dropped names the command', async () => {
    const calls: CallRecord[] = [];
    const spec = withHost(seedSpec('shrink'), { name: 'worker-3', address: '192.168.56.33', roles: ['worker'] });
    await withWorker(env, {}, calls, async () => {
      const r1 = await (await applySpec(env.client, spec)).update.result();
      const dropped = { ...spec, hosts: spec.hosts.filter((h) => h.name !== 'worker-2') };
      // `up` with a file that dropped a set-up worker: refused, naming the command.
      await assert.rejects(applySpec(env.client, dropped), (err: unknown) => {
        assert.ok(err instanceof UsageError, String(err));
        assert.match(err.message, /hardway remove-worker shrink worker-2/);
        return true;
      });
      // Refusals: not a worker, no such host.
      const events = await historyEvents(spec.name);
      await assert.rejects(removeWorker(env.client, spec.name, { name: 'cp-1' }), /not only a worker.*hardway reset shrink/s);
      await assert.rejects(
        removeWorker(env.client, spec.name, { name: 'worker-9' }),
        /no host worker-9: its workers are worker-1, worker-2, worker-3/,
      );
      assert.equal(await historyEvents(spec.name), events, 'rejected updates leave no trace in history');

      const before = calls.length;
      const removed = await (await removeWorker(env.client, spec.name, { name: 'worker-2' })).update.result();
      assert.deepEqual(
        { name: removed.name, state: removed.state, podRange: removed.podRange },
        { name: 'worker-2', state: 'removed', podRange: r1.podAllocations['worker-2'] },
      );
      const mine = calls.slice(before);
      const drain = callsOf(mine, 'remove/drain', 'worker-2');
      const clean = callsOf(mine, 'remove/clean', 'worker-2');
      assert.equal(drain.length, 1);
      assert.equal(clean.length, 1);
      assert.ok(drain[0]!.end! <= clean[0]!.start, 'drained before its host is cleaned');
      assert.ok(clean[0]!.end! <= Math.min(...callsOf(mine, 'hosts/hosts-file').map((c) => c.start)), 'cleaned before /etc/hosts');
      assert.equal(mine.filter((c) => c.host === 'worker-2' && !c.activity.startsWith('remove/')).length, 0, 'nothing else ran on it');
      assert.deepEqual(
        callsOf(mine, 'hosts/hosts-file')
          .map((c) => c.host)
          .sort(),
        dropped.hosts.map((h) => h.name).sort(),
      );
      const st = await status(spec.name);
      assert.equal(st.state, 'converged');
      assert.equal(st.removing, undefined);
      assert.equal(st.podAllocations['worker-2'], r1.podAllocations['worker-2'], 'its range stays reserved for its name');
      assert.match(st.changes.at(-1)!.summary, /removed worker-2/);

      // The file without worker-2 now converges as it is; a new name does not get worker-2's range, the same name does.
      await (await applySpec(env.client, dropped)).update.result();
      const w4 = await (await addWorker(env.client, spec.name, { name: 'worker-4', address: '192.168.56.34' })).update.result();
      assert.notEqual(w4.podRange, r1.podAllocations['worker-2']);
      const again = await (await addWorker(env.client, spec.name, { name: 'worker-2', address: '192.168.56.32' })).update.result();
      assert.equal(again.podRange, r1.podAllocations['worker-2'], 'the name is usable again, with its range');

      // A lost host: its Node deleted, the host not contacted; by signal.
      const n = calls.length;
      await env.client.workflow
        .getHandle(workflowIdFor(spec.name))
        .signal(removeWorkerSignal, { name: 'worker-3', hostLost: true, requestId: 'lost-w3' });
      await eventually(async () => {
        const s = await status(spec.name);
        return s.state === 'converged' && s.changes.some((c) => c.requestId === 'lost-w3') && !s.removing ? s : undefined;
      }, 'worker-3 removed');
      assert.equal(callsOf(calls.slice(n), 'remove/drain', 'worker-3').length, 1);
      assert.equal(callsOf(calls.slice(n), 'remove/clean', 'worker-3').length, 0, 'a lost host is not contacted');
    });
  });

  it('a removeWorker taken while a converge runs is done by the next converge, not lost when the first one ends', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('midway');
    const hold = holdAt('etcd/member', 'etcd-1');
    await withWorker(env, { onStart: hold.onStart }, calls, async () => {
      const first = await applySpec(env.client, spec);
      await hold.reached;
      const removal = await removeWorker(env.client, spec.name, { name: 'worker-2' });
      hold.release();
      assert.equal((await first.update.result()).outcome, 'converged');
      const removed = await removal.update.result();
      assert.equal(removed.state, 'removed');
      assert.equal(callsOf(calls, 'remove/drain', 'worker-2').length, 1);
      assert.equal(callsOf(calls, 'remove/clean', 'worker-2').length, 1);
      const st = await status(spec.name);
      assert.equal(st.removing, undefined);
      assert.ok(
        !((await env.client.workflow.getHandle(workflowIdFor(spec.name)).query('spec')) as { hosts: { name: string }[] }).hosts.some(
          (h) => h.name === 'worker-2',
        ),
      );
    });
  });

  it('reset: every host reset, the workflow ends; a blocked reset resumes with retry; up starts the cluster again', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('wipe');
    await withWorker(
      env,
      {
        failFirst: [
          { activity: 'reset/host', host: 'worker-1', times: 1, type: 'ConfigurationError', message: 'disk on fire', nonRetryable: true },
        ],
      },
      calls,
      async () => {
        await (await applySpec(env.client, spec)).update.result();
        const first = await (await resetCluster(env.client, spec.name, { includeCa: false })).update.result();
        assert.equal(first.state, 'blocked');
        assert.match(first.blocked![0]!.step, /^reset\/host\/worker-1$/);
        // Nothing else is accepted meanwhile.
        await assert.rejects(applySpec(env.client, spec), /being reset/);
        const n = calls.length;
        const resumed = await (await retryCluster(env.client, spec.name)).update.result();
        assert.equal(resumed.outcome, 'converged');
        assert.deepEqual(
          callsOf(calls.slice(n), 'reset/host').map((c) => c.host),
          ['worker-1'],
          'only the blocked host ran again',
        );
        assert.deepEqual(
          callsOf(calls, 'reset/host')
            .map((c) => c.host)
            .sort(),
          [...spec.hosts.map((h) => h.name), 'worker-1'].sort(),
        );
        const handle = env.client.workflow.getHandle(workflowIdFor(spec.name));
        const ended = (await handle.result()) as { state: string; includeCa: boolean };
        assert.deepEqual({ state: ended.state, includeCa: ended.includeCa }, { state: 'reset', includeCa: false });
        // up again: a new run of the same workflow id converges from scratch.
        const again = await (await applySpec(env.client, spec)).update.result();
        assert.equal(again.outcome, 'converged');
        assert.equal(again.generation, 1);
      },
    );
  });

  it('status without a worker answers within seconds: it says no worker answers, and what the server knows', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('orphan');
    await withWorker(env, {}, calls, async () => {
      await (await applySpec(env.client, spec)).update.result();
    });
    // The worker is gone; a query would wait for one.
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', CLIENT, 'status', spec.name, '--address', env.address], { encoding: 'utf8' });
    assert.ok(Date.now() - t0 < 20_000, `status took ${Date.now() - t0} ms`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /no worker (answered the status query within 5 s|is polling task queue "hardway")/);
    assert.match(r.stdout, /^workflow cluster-orphan: RUNNING\n {2}no step in flight$/m);
  });

  it('addWorker is refused when no pod range is free', async () => {
    const calls: CallRecord[] = [];
    // A /22 of /24s holds four nodes: the seed's two control planes and two workers take them all.
    const spec = { ...seedSpec('full'), networks: { ...seedSpec('full').networks, pods: '10.244.0.0/22' } };
    await withWorker(env, {}, calls, async () => {
      await (await applySpec(env.client, spec)).update.result();
      await assert.rejects(addWorker(env.client, spec.name, { name: 'worker-3', address: '192.168.56.33' }), /pod range|free|room/i);
    });
  });

  it('refuses a bad spec before anything enters history, with the messages plan prints', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('refuse');
    await withWorker(env, {}, calls, async () => {
      await (await applySpec(env.client, spec)).update.result();
      const before = await historyEvents(spec.name);
      const broken = { ...spec, networks: { ...spec.networks, services: '10.244.0.0/24' } };
      await assert.rejects(applySpec(env.client, broken), (err: unknown) => {
        assert.ok(err instanceof UsageError, String(err));
        assert.match(err.message, /networks\.services/);
        return true;
      });
      const removed = { ...spec, hosts: spec.hosts.filter((h) => h.name !== 'worker-2') };
      await assert.rejects(applySpec(env.client, removed), /worker-2/);
      const moved = { ...spec, hosts: spec.hosts.map((h) => (h.name === 'cp-1' ? { ...h, address: '192.168.56.29' } : h)) };
      await assert.rejects(applySpec(env.client, moved), /cp-1/);
      assert.equal(await historyEvents(spec.name), before, 'rejected updates leave no trace in history');
      // The same refusal by signal is recorded in the change log instead.
      await env.client.workflow.getHandle(workflowIdFor(spec.name)).signal(applySignal, { spec: broken, requestId: 's-1' });
      const refused = await eventually(
        async () => (await status(spec.name)).changes.find((c) => c.requestId === 's-1'),
        'refusal recorded',
      );
      assert.equal(refused.accepted, false);
      assert.match(refused.summary, /networks\.services/);
    });
  });

  it('watch shows a converge live, one line per change when piped; Ctrl-C detaches without stopping it; it exits 0 once converged', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('seen');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await withWorker(
      env,
      { onStart: async (r) => (r.activity === 'runtime/containerd' && r.attempt === 1 ? held : undefined) },
      calls,
      async () => {
        const applied = await applySpec(env.client, spec);
        await eventually(async () => ((await status(spec.name)).currentPhase === 'runtime' ? true : undefined), 'runtime phase');
        // Detach: the workflow goes on.
        const watcher = spawn(process.execPath, ['--import', 'tsx', CLIENT, 'watch', spec.name, '--address', env.address], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        watcher.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        watcher.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        await eventually(
          async () => (/runtime\/containerd\/worker-1 +running/.test(stdout) ? true : undefined),
          'the running step shown',
          30_000,
        );
        watcher.kill('SIGINT');
        const code = await new Promise<number | null>((r) => watcher.once('exit', (c) => r(c)));
        assert.equal(code, 130, stderr);
        assert.match(
          stderr,
          /detached: the workflow of cluster seen goes on\. hardway watch seen re-attaches; hardway cancel seen stops the converge/,
        );
        assert.match(stdout, /^\[ *[\d.]+ m?s\] preflight\/checks\/ca +done in /m, 'one plain line per step when piped');
        assert.equal((await status(spec.name)).state, 'converging', 'still converging');
        release();
        await applied.update.result();
        // Not spawnSync: this process's worker must answer the queries meanwhile.
        const done = spawn(process.execPath, ['--import', 'tsx', CLIENT, 'watch', spec.name, '--address', env.address], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        done.stdout.on('data', (d: Buffer) => (out += d.toString()));
        done.stderr.on('data', (d: Buffer) => (out += d.toString()));
        assert.equal(await new Promise((r) => done.once('exit', r)), 0, out);
        assert.match(out, /^cluster seen: converged, generation 1$/m);
      },
    );
  });

  it('up interrupted (Ctrl-C) before any worker took its file says the workflow may still take it, and it does once a worker polls', async () => {
    const name = 'interrupted';
    const dir = mkdtempSync(join(tmpdir(), 'hardway-up-int-'));
    try {
      const file = join(dir, 'cluster.yaml');
      const seedFile = fileURLToPath(new URL('../../examples/seed-cluster.yaml', import.meta.url));
      writeFileSync(file, readFileSync(seedFile, 'utf8').replace(/^name: .*$/m, `name: ${name}`));
      const up = spawn(process.execPath, ['--import', 'tsx', CLIENT, 'up', '-f', file, '--address', env.address], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      up.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // Update-with-start: the workflow exists once the file is sent; no worker polls, so nothing accepts it yet.
      const handle = env.client.workflow.getHandle(workflowIdFor(name));
      await eventually(async () => ((await handle.describe()) ? true : undefined), 'the workflow started by up');
      up.kill('SIGINT');
      const code = await new Promise<number | null>((r) => up.once('exit', (c) => r(c)));
      assert.equal(code, 130, stderr);
      assert.match(
        stderr,
        new RegExp(
          `interrupted before the workflow of cluster ${name} accepted ${file.replace(/[.]/g, '\\.')}: it may still take it once a worker polls .*hardway status ${name} shows whether it did`,
        ),
      );
      // ... and it does, once a worker polls.
      const applied = await withWorker(env, {}, [], () =>
        eventually(
          async () => {
            const st = await status(name);
            return st.state === 'converged' ? st : undefined;
          },
          'the interrupted file applied',
          60_000,
        ),
      );
      assert.equal(applied.generation, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cancel stops the converge in progress at its running steps; the workflow lives on and retry resumes there', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('halt');
    const hold = holdAt('etcd/member'); // a step that takes its time; cancelled while it runs
    await withWorker(env, { onStart: hold.onStart }, calls, async () => {
      const handle = env.client.workflow.getHandle(workflowIdFor(spec.name));
      const applied = await applySpec(env.client, spec);
      await assert.rejects(cancelConverge(env.client, 'no-such'), /no such cluster/);
      await hold.reached;
      const stopped = await (await cancelConverge(env.client, spec.name)).update.result();
      hold.release();
      assert.equal(stopped.outcome, 'blocked');
      assert.deepEqual(stopped.blocked!.map((b) => b.step).sort(), ['etcd/member/etcd-1', 'etcd/member/etcd-2', 'etcd/member/etcd-3']);
      assert.match(stopped.blocked![0]!.error, /cancelled by the operator \(hardway cancel\): hardway retry resumes here/);
      assert.equal((await applied.update.result()).outcome, 'blocked', 'the request that started it hears where it stopped');
      const st = await status(spec.name);
      assert.equal(st.state, 'blocked');
      assert.equal(st.phases.find((p) => p.name === 'etcd')!.state, 'failed');
      assert.equal((await handle.describe()).status.name, 'RUNNING', 'the workflow lives on');
      await assert.rejects(cancelConverge(env.client, spec.name), /nothing to cancel: cluster halt is blocked/);
      // Retry resumes at the cancelled steps; nothing done before them runs again.
      const before = calls.length;
      const resumed = await (await retryCluster(env.client, spec.name)).update.result();
      assert.equal(resumed.outcome, 'converged');
      const again = calls.slice(before);
      assert.equal(callsOf(again, 'pki/certificates').length, 0, 'pki ran again');
      assert.equal(callsOf(again, 'etcd/member').length, 3);
    });
  });

  it('a step that fails for good blocks the converge; retry resumes it without re-running completed steps', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('blocked');
    const handle = await env.client.workflow.start(clusterWorkflow, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowIdFor(spec.name),
      args: [{ options: { maximumAttempts: 2 } }],
    });
    await withWorker(
      env,
      {
        failFirst: [
          {
            activity: 'etcd/member',
            host: 'etcd-2',
            times: 2,
            type: 'NotReady',
            message: 'etcd on etcd-2 does not answer',
            changed: ['/usr/local/bin/etcd'],
          },
        ],
      },
      calls,
      async () => {
        const r = await handle.executeUpdate(applyUpdate, { args: [{ spec }] });
        assert.equal(r.outcome, 'blocked');
        assert.deepEqual(
          r.blocked?.map((b) => b.step),
          ['etcd/member/etcd-2'],
        );
        const st = await handle.query(statusQuery);
        assert.equal(st.state, 'blocked');
        assert.match(st.blocked![0]!.error, /NotReady: etcd on etcd-2 does not answer/);
        const step = st.steps.find((s) => s.name === 'etcd/member/etcd-2')!;
        assert.equal(step.attempts, 2);
        assert.deepEqual(step.changed, ['/usr/local/bin/etcd'], 'what the failed attempts changed is kept');
        const desc = await handle.describe();
        assert.equal(desc.status.name, 'RUNNING', 'a blocked converge does not end the workflow');
        // The UI's "current details" name the blocked step and why.
        const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        assert.match(meta.currentDetails ?? '', /blocked[\s\S]*etcd\/member\/etcd-2: NotReady: etcd on etcd-2 does not answer/);
        const before = calls.length;
        // What `hardway retry blocked` does.
        const { result: rr } = await follow(await retryCluster(env.client, spec.name), () => {});
        assert.equal(rr.outcome, 'converged');
        const after = calls.slice(before).map((c) => `${c.activity}/${c.host}`);
        // Only the blocked step and what follows it ran again; etcd-1 and etcd-3 had finished.
        assert.deepEqual(after.slice(0, 3), ['etcd/member/etcd-2', 'etcd/quorum/etcd-1', 'loadbalancer/haproxy/lb']);
        const nodes = ['cp-1', 'cp-2', 'worker-1', 'worker-2'];
        assert.deepEqual(
          after.slice(3).sort(),
          [
            ...nodes.map((n) => `runtime/containerd/${n}`),
            ...nodes.map((n) => `runtime/images/${n}`),
            'controlplane/encryption-config/cp-1',
            'controlplane/services/cp-1',
            'controlplane/services/cp-2',
            'controlplane/rbac/cp-1',
            ...nodes.map((n) => `workers/register/${n}`),
            ...nodes.map((n) => `workers/kubelet/${n}`),
            ...nodes.map((n) => `workers/ready/${n}`),
            ...nodes.map((n) => `addons/flannel/${n}`),
            'addons/coredns/cp-1',
            'admin/kubectl/admin',
          ].sort(),
        );
        const final = await handle.query(statusQuery);
        assert.ok(final.steps.find((s) => s.name === 'etcd/member/etcd-1')?.reused);
        assert.deepEqual(final.steps.find((s) => s.name === 'etcd/member/etcd-2')?.changed, [
          '/usr/local/bin/etcd',
          'etcd/member on etcd-2',
        ]);
        // Nothing left to retry: the validator says so before anything enters history.
        await assert.rejects(handle.executeUpdate(retryUpdate), (err: unknown) => {
          assert.ok(err instanceof WorkflowUpdateFailedError);
          assert.match(String(err.cause?.message), /nothing to retry/);
          return true;
        });
        await assert.rejects(
          retryCluster(env.client, spec.name),
          (err: unknown) => err instanceof UsageError && /nothing to retry/.test(err.message),
        );
        await assert.rejects(
          retryCluster(env.client, 'no-such-cluster'),
          (err: unknown) => err instanceof UsageError && /no such cluster/.test(err.message),
        );
      },
    );
  });

  it('a non-retryable failure blocks after one attempt; a corrected apply or the retry signal resumes it', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('config-error');
    const message = 'the planned address 192.168.56.21 is not on any interface of cp-1';
    await withWorker(
      env,
      { failFirst: [{ activity: 'preflight/checks', host: 'cp-1', times: 1, type: 'ConfigurationError', message, nonRetryable: true }] },
      calls,
      async () => {
        const req = await applySpec(env.client, spec);
        const r = await req.update.result();
        assert.equal(r.outcome, 'blocked');
        assert.equal(callsOf(calls, 'preflight/checks', 'cp-1').length, 1);
        assert.equal(callsOf(calls, 'hosts/hosts-file').length, 0);
        const st = await req.handle.query(statusQuery);
        assert.match(
          st.steps.find((s) => s.name === 'preflight/checks/cp-1')!.lastError!,
          /ConfigurationError: .*not on any interface of cp-1/,
        );
        // `temporal workflow signal --name retry` does the same as `hardway retry`.
        await req.handle.signal(retrySignal);
        await eventually(
          async () => ((await req.handle.query(statusQuery)).state === 'converged' ? true : undefined),
          'converged after retry',
        );
        assert.equal(callsOf(calls, 'preflight/checks').length, 11, 'only cp-1 was checked again');
      },
    );
  });

  it('pod ranges survive a failed run, and a corrected file resumes it', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('ranges');
    await withWorker(
      env,
      {
        failFirst: [
          {
            activity: 'preflight/checks',
            host: 'worker-0',
            times: 1,
            type: 'ConfigurationError',
            message: 'address not on the host',
            nonRetryable: true,
          },
        ],
      },
      calls,
      async () => {
        const r1 = await (await applySpec(env.client, spec)).update.result();
        assert.equal(r1.podAllocations['worker-1'], '10.244.2.0/24');
        const grown = withHost(spec, { name: 'worker-0', address: '192.168.56.30', roles: ['worker'] }, 'worker-1');
        const r2 = await (await applySpec(env.client, grown)).update.result();
        assert.equal(r2.outcome, 'blocked');
        assert.equal(r2.podAllocations['worker-1'], '10.244.2.0/24');
        // worker-0 is not established yet: its address may still be corrected.
        const fixed = withHost(spec, { name: 'worker-0', address: '192.168.56.35', roles: ['worker'] }, 'worker-1');
        const r3 = await (await applySpec(env.client, fixed)).update.result();
        assert.equal(r3.outcome, 'converged');
        assert.equal(r3.podAllocations['worker-1'], '10.244.2.0/24');
        assert.equal(r3.podAllocations['worker-0'], r2.podAllocations['worker-0']);
      },
    );
  });

  it('status answers during a converge and between converges', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('query');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await withWorker(env, { onStart: (r) => (r.activity === 'pki/authority' ? gate : undefined) }, calls, async () => {
      const req = await applySpec(env.client, spec);
      const during = await eventually(async () => {
        const st = await req.handle.query(statusQuery);
        return st.currentPhase === 'pki' ? st : undefined;
      }, 'pki running');
      assert.equal(during.state, 'converging');
      assert.equal(during.steps.find((s) => s.name === 'pki/authority/ca')?.state, 'running');
      release();
      await req.update.result();
      const between = await req.handle.query(statusQuery);
      assert.equal(between.state, 'converged');
    });
  });

  it('fails with a clear message, instead of hanging, when workflow code cannot plan', async () => {
    const spec = seedSpec('planerror');
    await withWorker(env, {}, [], async () => {
      const handle = await env.client.workflow.start(clusterWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: workflowIdFor(spec.name),
        args: [
          {
            carried: {
              spec,
              generation: 1,
              podAllocations: { 'worker-1': '10.99.0.0/24' },
              established: [],
              changes: [],
              signalRequestIds: [],
              parallelism: 5,
            },
          },
        ],
      });
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.match(String(err.cause?.message), /10\.99\.0\.0\/24.*pod range/);
        return true;
      });
    });
  });

  it("continues as new when idle, carrying the spec, pod ranges, change log and the last converge's steps", async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('can');
    const handle = await env.client.workflow.start(clusterWorkflow, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowIdFor(spec.name),
      args: [{ spec, options: { continueAsNewAfterEvents: 40 } }],
    });
    const firstRun = handle.firstExecutionRunId;
    await withWorker(env, {}, calls, async () => {
      const runId = await eventually(async () => {
        const d = await env.client.workflow.getHandle(workflowIdFor(spec.name)).describe();
        return d.runId !== firstRun && d.status.name === 'RUNNING' ? d.runId : undefined;
      }, 'a new run');
      const st = await env.client.workflow.getHandle(workflowIdFor(spec.name), runId).query(statusQuery);
      assert.equal(st.state, 'converged');
      assert.equal(st.podAllocations['worker-1'], '10.244.2.0/24');
      assert.equal(st.changes[0]?.via, 'start');
      // status still shows the converge the first run made.
      assert.equal(st.steps.filter((x) => x.state === 'done').length, st.steps.length);
      assert.ok(st.steps.some((x) => x.name === 'etcd/member/etcd-1'));
      assert.ok(
        st.phases.every((p) => p.state === 'done'),
        JSON.stringify(st.phases),
      );
      assert.ok(st.changedCount > 0 && st.endedAt);
      const before = callsOf(calls, 'preflight/checks').length;
      const r = await env.client.workflow.getHandle(workflowIdFor(spec.name)).executeUpdate(applyUpdate, {
        args: [{ spec: withHost(spec, { name: 'worker-3', address: '192.168.56.33', roles: ['worker'] }) }],
      });
      assert.equal(r.outcome, 'converged');
      assert.equal(r.podAllocations['worker-3'], '10.244.4.0/24');
      assert.equal(callsOf(calls, 'preflight/checks').length, before + 11);
    });
  });

  it('brings up 100 workers within a history budget of 4 MB', async () => {
    const calls: CallRecord[] = [];
    let spec = seedSpec('hundred');
    for (let i = 0; i < 100; i++) {
      spec = withHost(spec, { name: `w${i}`, address: `192.168.57.${i + 1}`, roles: ['worker'] });
    }
    spec = { ...spec, networks: { ...spec.networks, infrastructure: '192.168.56.0/23' } };
    const r = await withWorker(env, {}, calls, async () => (await applySpec(env.client, spec, { parallelism: 20 })).update.result());
    assert.equal(r.outcome, 'converged');
    assert.equal(Object.keys(r.podAllocations).length, 104);
    const history = await env.client.workflow.getHandle(workflowIdFor(spec.name)).fetchHistory();
    const bytes = temporal.api.history.v1.History.encode(history).finish().length;
    process.stdout.write(`# 110-host bring-up: ${history.events!.length} events, ${(bytes / 1024).toFixed(0)} KiB of history\n`);
    assert.ok(bytes < 4 * 1024 * 1024, `history is ${bytes} bytes`);
  });
});
