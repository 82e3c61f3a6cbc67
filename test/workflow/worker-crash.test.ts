// A worker process killed in the middle of a phase: a new worker finishes the converge, and nothing that had
// finished runs again.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TASK_QUEUE, workflowIdFor } from '../../temporal/constants.js';
import { clusterWorkflow } from '../../workflows/cluster.js';
import { applyUpdate } from '../../workflows/status.js';
import { devServer } from '../helpers/temporal.js';
import { killWhenStarted, seedSpec, spawnWorker, workerRecords } from './helpers.js';

let env: TestWorkflowEnvironment;
const children: ChildProcess[] = [];
before(async () => {
  env = await devServer();
});
const dirs: string[] = [];
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env?.teardown();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const repo = fileURLToPath(new URL('../../', import.meta.url));

it('resumes on a new worker after the first is killed mid-phase, without re-running finished steps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hardway-crash-'));
  dirs.push(dir);
  const recordFile = join(dir, 'calls.jsonl');
  const spec = seedSpec('crash');

  const first = await spawnWorker(env, { tree: repo, generation: 1, recordFile, stall: 'etcd/member', children });
  const handle = await env.client.workflow.start(clusterWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: workflowIdFor(spec.name),
    args: [{ options: { heartbeatTimeoutSeconds: 2 } }],
  });
  const applied = handle.executeUpdate(applyUpdate, { args: [{ spec }] });
  // Once the etcd phase runs in the first worker, kill it without warning.
  await killWhenStarted(first, recordFile, 'etcd/member');
  await spawnWorker(env, { tree: repo, generation: 2, recordFile, children });
  const result = await applied;
  assert.equal(result.outcome, 'converged');

  const all = workerRecords(recordFile);
  const finishedBefore = all.filter((x) => x.generation === 1 && x.event === 'end');
  const startedAfter = all.filter((x) => x.generation === 2 && x.event === 'start');
  assert.ok(finishedBefore.length >= 10 + 1 + 1, 'preflight, hosts and pki finished in the first worker');
  for (const done of finishedBefore) {
    assert.ok(
      !startedAfter.some((s) => s.activity === done.activity && s.host === done.host),
      `${done.activity} on ${done.host} finished before the crash and must not run again`,
    );
  }
  assert.equal(startedAfter.filter((s) => s.activity === 'etcd/member').length, 3);
  assert.ok(startedAfter.some((s) => s.activity === 'loadbalancer/haproxy'));
});
