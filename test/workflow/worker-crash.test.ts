// A worker process killed in the middle of a phase: a new worker finishes the run, and nothing that had
// finished runs again.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseClusterFile } from '../../model/validate.js';
import { TASK_QUEUE, workflowIdFor } from '../../temporal/constants.js';
import { clusterWorkflow } from '../../workflows/cluster.js';
import { devServer } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
const children: ChildProcess[] = [];
before(async () => {
  env = await devServer();
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env?.teardown();
});

interface Rec {
  generation: number;
  event: 'start' | 'end';
  activity: string;
  host: string;
}

function startWorker(generation: number, recordFile: string, stall?: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, RECORD_FILE: recordFile, GENERATION: String(generation), STALL_ACTIVITY: stall ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.on('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
}

const records = (file: string): Rec[] =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec) : [];

it('resumes on a new worker after the first is killed mid-phase, without re-running finished steps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hardway-crash-'));
  const recordFile = join(dir, 'calls.jsonl');
  const r = parseClusterFile(readFileSync(new URL('../../examples/seed-cluster.yaml', import.meta.url), 'utf8'));
  if (!r.ok) throw new Error('seed does not validate');
  const spec = { ...r.spec, name: 'crash' };

  const first = await startWorker(1, recordFile, 'etcdMember');
  const handle = await env.client.workflow.start(clusterWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: workflowIdFor(spec.name),
    args: [{ spec, options: { heartbeatTimeoutSeconds: 2 } }],
  });
  // Wait until the etcd phase is running in the first worker, then kill it without warning.
  const deadline = Date.now() + 60_000;
  while (!records(recordFile).some((x) => x.activity === 'etcdMember' && x.event === 'start')) {
    assert.ok(Date.now() < deadline, 'etcd phase never started');
    await new Promise((res) => setTimeout(res, 100));
  }
  first.kill('SIGKILL');
  await new Promise((res) => first.once('exit', res));

  await startWorker(2, recordFile);
  const result = await handle.result();
  assert.equal(result.status.state, 'done');

  const all = records(recordFile);
  const finishedBefore = all.filter((x) => x.generation === 1 && x.event === 'end');
  const startedAfter = all.filter((x) => x.generation === 2 && x.event === 'start');
  assert.ok(finishedBefore.length >= 10 + 1 + 1, 'preflight, hosts and pki finished in the first worker');
  for (const done of finishedBefore) {
    assert.ok(
      !startedAfter.some((s) => s.activity === done.activity && s.host === done.host),
      `${done.activity} on ${done.host} finished before the crash and must not run again`,
    );
  }
  // The interrupted phase resumed on the new worker and the run went on to the end.
  assert.equal(startedAfter.filter((s) => s.activity === 'etcdMember').length, 3);
  assert.ok(startedAfter.some((s) => s.activity === 'loadBalancer'));
});
