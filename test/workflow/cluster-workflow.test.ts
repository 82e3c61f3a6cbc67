// The cluster workflow against a real Temporal dev server, with activity doubles (hosts are the e2e tests' job).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
const { temporal } = proto;
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseClusterFile } from '../../model/validate.js';
import type { ClusterSpec } from '../../model/types.js';
import { TASK_QUEUE, workflowIdFor } from '../../temporal/constants.js';
import { clusterWorkflow } from '../../workflows/cluster.js';
import { statusQuery } from '../../workflows/status.js';
import { CLUSTER_NAME, CLUSTER_PHASE } from '../../temporal/search-attributes.js';
import { workflowsPath } from '../../worker.js';
import { startOrAttach } from '../../cli/cluster-ops.js';
import { devServer } from '../helpers/temporal.js';
import { activityDoubles, type CallRecord, type DoubleBehaviour } from './fixtures/doubles.js';

const root = new URL('../../', import.meta.url);
function seedSpec(name: string): ClusterSpec {
  const r = parseClusterFile(readFileSync(new URL('examples/seed-cluster.yaml', root), 'utf8'));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return { ...r.spec, name };
}

let env: TestWorkflowEnvironment;
before(async () => {
  env = await devServer();
});
after(async () => {
  await env?.teardown();
});

async function withWorker<T>(behaviour: DoubleBehaviour, calls: CallRecord[], fn: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: TASK_QUEUE,
    workflowsPath: workflowsPath(),
    activities: activityDoubles(calls, behaviour),
  });
  return worker.runUntil(fn());
}

const first = (calls: CallRecord[], activity: string) => Math.min(...calls.filter((c) => c.activity === activity).map((c) => c.start));
const last = (calls: CallRecord[], activity: string) => Math.max(...calls.filter((c) => c.activity === activity).map((c) => c.end ?? Infinity));

describe('cluster workflow', () => {
  it('runs the phases in the seed order, fanning out per host within a bound', async () => {
    const calls: CallRecord[] = [];
    let running = 0;
    let maxRunning = 0;
    const spec = seedSpec('order');
    const result = await withWorker(
      {
        delayMs: 150,
        onStart: (r) => {
          if (r.activity !== 'preflight') return;
          running++;
          maxRunning = Math.max(maxRunning, running);
          setTimeout(() => running--, 140);
        },
      },
      calls,
      () =>
        env.client.workflow.execute(clusterWorkflow, {
          taskQueue: TASK_QUEUE,
          workflowId: workflowIdFor(spec.name),
          args: [{ spec, options: { parallelism: 3 } }],
        }),
    );
    assert.equal(result.status.state, 'done');
    // Order: every call of one phase ends before the next phase starts.
    const order = ['preflight', 'hostsFile', 'certificateAuthority', 'hostCertificates', 'etcdMember', 'etcdQuorum', 'loadBalancer'];
    for (let i = 1; i < order.length; i++) {
      assert.ok(last(calls, order[i - 1]!) <= first(calls, order[i]!), `${order[i - 1]} must finish before ${order[i]} starts`);
    }
    // Fan-out: all ten hosts were checked, several at once, never more than the bound.
    assert.equal(calls.filter((c) => c.activity === 'preflight').length, spec.hosts.length);
    assert.equal(maxRunning, 3);
    // etcd members start together (a new quorum needs them all), whatever the bound.
    const members = calls.filter((c) => c.activity === 'etcdMember');
    assert.equal(members.length, 3);
    assert.ok(Math.max(...members.map((m) => m.start)) < Math.min(...members.map((m) => m.end!)));
    // The status says which phases are not built yet.
    assert.deepEqual(result.status.notBuilt, ['controlplane', 'workers', 'addons', 'admin']);
    assert.ok(result.status.phases.filter((p) => p.state === 'done').length === 5);
    // Pod ranges are returned so that the next run keeps them.
    assert.ok(Object.keys(result.podAllocations).length >= 4);

    // Record the history as the replay test's fixture when asked to:
    //   HARDWAY_RECORD_HISTORY=$PWD/test/workflow/fixtures/history-seed.pb node --import tsx --test --test-name-pattern='seed order' test/workflow/cluster-workflow.test.ts
    if (process.env.HARDWAY_RECORD_HISTORY) {
      const history = await env.client.workflow.getHandle(workflowIdFor(spec.name)).fetchHistory();
      writeFileSync(process.env.HARDWAY_RECORD_HISTORY, temporal.api.history.v1.History.encode(history).finish());
    }
  });

  it('retries a transient failure and counts the attempts in the status', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('transient');
    const result = await withWorker(
      { failFirst: [{ activity: 'hostsFile', host: 'lb', times: 2, type: 'ConnectionFailed', message: 'connect ECONNREFUSED' }] },
      calls,
      () =>
        env.client.workflow.execute(clusterWorkflow, {
          taskQueue: TASK_QUEUE,
          workflowId: workflowIdFor(spec.name),
          args: [{ spec }],
        }),
    );
    assert.equal(result.status.state, 'done');
    assert.equal(calls.filter((c) => c.activity === 'hostsFile' && c.host === 'lb').length, 3);
    const step = result.status.steps.find((s) => s.phase === 'hosts' && s.host === 'lb');
    assert.equal(step?.attempts, 3);
  });

  it('stops on a non-retryable configuration error, with its message, after one attempt', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('config-error');
    const message = 'the planned address 192.168.56.21 is not on any interface of cp-1';
    await withWorker(
      { failFirst: [{ activity: 'preflight', host: 'cp-1', times: 99, type: 'ConfigurationError', message }] },
      calls,
      async () => {
        const handle = await env.client.workflow.start(clusterWorkflow, {
          taskQueue: TASK_QUEUE,
          workflowId: workflowIdFor(spec.name),
          args: [{ spec }],
        });
        await assert.rejects(handle.result(), (err: unknown) => {
          assert.ok(err instanceof WorkflowFailedError);
          assert.match(String(err.cause?.message), /preflight: ConfigurationError: .*not on any interface of cp-1/);
          return true;
        });
        const st = await handle.query(statusQuery);
        assert.equal(st.state, 'failed');
        assert.equal(st.phases.find((p) => p.name === 'preflight')?.state, 'failed');
        assert.equal(st.phases.find((p) => p.name === 'hosts')?.state, 'pending');
        const failed = st.steps.find((s) => s.host === 'cp-1');
        assert.equal(failed?.state, 'failed');
        assert.match(failed?.lastError ?? '', /not on any interface/);
      },
    );
    assert.equal(calls.filter((c) => c.activity === 'preflight' && c.host === 'cp-1').length, 1);
    assert.equal(calls.filter((c) => c.activity === 'hostsFile').length, 0);
  });

  it('up attaches to a running bring-up, and re-converges a finished one keeping its pod ranges', async () => {
    const calls: CallRecord[] = [];
    const spec = seedSpec('attach');
    await withWorker({ delayMs: 100 }, calls, async () => {
      const first = await startOrAttach(env.client, spec);
      assert.equal(first.attached, false);
      const second = await startOrAttach(env.client, spec);
      assert.equal(second.attached, true);
      const firstRunId = (await first.handle.describe()).runId;
      assert.equal((await second.handle.describe()).runId, firstRunId);
      const done = await first.handle.result();
      // Only one bring-up ran: ten preflights, not twenty.
      assert.equal(calls.filter((c) => c.activity === 'preflight').length, 10);

      const again = await startOrAttach(env.client, spec);
      assert.equal(again.attached, false);
      const rerun = await again.handle.result();
      assert.notEqual((await again.handle.describe()).runId, firstRunId);
      assert.deepEqual(rerun.podAllocations, done.podAllocations);
      assert.equal(calls.filter((c) => c.activity === 'preflight').length, 20);
    });
  });

  it('finds the cluster by its search attributes', async () => {
    const handle = env.client.workflow.getHandle(workflowIdFor('order'));
    const desc = await handle.describe();
    const attrs = desc.typedSearchAttributes;
    assert.equal(attrs.get(CLUSTER_NAME), 'order');
    assert.equal(attrs.get(CLUSTER_PHASE), 'done:loadbalancer');
    // and the list API finds it by name
    let found: string[] = [];
    for (let i = 0; i < 50 && !found.length; i++) {
      if (i) await new Promise((r) => setTimeout(r, 200)); // visibility is eventually consistent
      found = [];
      for await (const w of env.client.workflow.list({ query: `HardwayCluster = 'order'` })) found.push(w.workflowId);
    }
    assert.deepEqual(found, [workflowIdFor('order')]);
  });
});
