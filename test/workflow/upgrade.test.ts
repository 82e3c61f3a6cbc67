// An upgrade of hardway under a running cluster workflow: a bring-up started by hardway 0.1 (its own code, taken
// from git) is interrupted, and a worker of this version finishes it. The new workflow code must take the legacy
// path for that history (no entity-workflow patch marker) and the new worker must still answer 0.1's activity
// names. The replay test checks determinism on a recorded history; this one checks a live run end to end.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
const { temporal } = proto;
import { TASK_QUEUE, workflowIdFor } from '../../temporal/constants.js';
import { ENTITY_PATCH } from '../../workflows/cluster.js';
import type { ClusterStatus } from '../../workflows/status.js';
import { devServer } from '../helpers/temporal.js';
import { killWhenStarted, seedSpec, spawnWorker, workerRecords } from './helpers.js';

/** The last commit of hardway 0.1: one bring-up per workflow run. */
const RELEASE_0_1 = 'ad676a6eff33660354b7c5c99bcb0d3154718d9e';
const repo = fileURLToPath(new URL('../../', import.meta.url));

let env: TestWorkflowEnvironment;
let oldTree: string;
const children: ChildProcess[] = [];

before(async () => {
  // The 0.1 source tree, as released, beside this one (sharing node_modules: the dependencies did not change).
  oldTree = mkdtempSync(join(tmpdir(), 'hardway-0.1-'));
  const archive = execFileSync('git', ['-C', repo, 'archive', '--format=tar', RELEASE_0_1], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', oldTree], { input: archive });
  symlinkSync(join(repo, 'node_modules'), join(oldTree, 'node_modules'));
  env = await devServer();
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env?.teardown();
  if (oldTree) rmSync(oldTree, { recursive: true, force: true });
  if (recordDir) rmSync(recordDir, { recursive: true, force: true });
});
let recordDir: string | undefined;

it('finishes on this version a bring-up that hardway 0.1 started', async () => {
  recordDir = mkdtempSync(join(tmpdir(), 'hardway-upgrade-'));
  const recordFile = join(recordDir, 'calls.jsonl');
  // What 0.1's CLI sent: its ClusterSpec had no images and versions of Kubernetes and etcd only.
  const current = seedSpec('upgrade');
  const spec = { ...current, versions: { kubernetes: current.versions.kubernetes, etcd: current.versions.etcd } };

  const old = await spawnWorker(env, { tree: oldTree, generation: 1, recordFile, stall: 'etcdMember', children });
  // As 0.1's `hardway up` started it: input { spec }, the workflow ends after the load balancer.
  const handle = await env.client.workflow.start('clusterWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: workflowIdFor(spec.name),
    args: [{ spec, options: { heartbeatTimeoutSeconds: 2 } }],
  });
  await killWhenStarted(old, recordFile, 'etcdMember');
  await spawnWorker(env, { tree: repo, generation: 2, recordFile, children });
  const result = (await handle.result()) as { status: ClusterStatus; podAllocations: Record<string, string> };
  assert.equal(result.status.state, 'converged');
  assert.equal(result.podAllocations['worker-1'], '10.244.2.0/24');

  const all = workerRecords(recordFile);
  assert.ok(
    all.some((x) => x.generation === 1 && x.activity === 'hostCertificates' && x.event === 'end'),
    '0.1 ran the first phases',
  );
  const after = all.filter((x) => x.generation === 2 && x.event === 'start').map((x) => x.activity);
  // This version's worker ran the rest through 0.1's activity names, adapted to today's activities.
  assert.equal(after.filter((a) => a === 'etcd/member').length, 3);
  assert.ok(after.includes('etcd/quorum') && after.includes('loadbalancer/haproxy'), after.join(', '));
  assert.ok(!after.includes('preflight/checks'), 'nothing done by 0.1 ran again');
  const history = await handle.fetchHistory();
  const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  assert.ok(!bytes.includes(ENTITY_PATCH), 'the legacy path ran, without the entity patch marker');
});
