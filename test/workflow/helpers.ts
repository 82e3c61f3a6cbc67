// Shared by the workflow tests: one dev server per file, a worker with activity doubles, seed specs.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseClusterFile } from '../../model/validate.js';
import type { ClusterSpec, HostSpec } from '../../model/types.js';
import { TASK_QUEUE } from '../../temporal/constants.js';
import { workflowsPath } from '../../worker.js';
import { activityDoubles, type CallRecord, type DoubleBehaviour } from './fixtures/doubles.js';

/** The seed's cluster file as the plain spec a client sends (no parsed networks). */
export function seedSpec(name: string): ClusterSpec {
  const r = parseClusterFile(readFileSync(new URL('../../examples/seed-cluster.yaml', import.meta.url), 'utf8'));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const { name: _n, hosts, networks, loadBalancer, versions, binaries, ssh, preflight } = r.spec;
  return JSON.parse(JSON.stringify({ name, hosts, networks, loadBalancer, versions, binaries, ssh, preflight })) as ClusterSpec;
}

export function withHost(spec: ClusterSpec, host: HostSpec, before?: string): ClusterSpec {
  const hosts = [...spec.hosts];
  const at = before ? hosts.findIndex((h) => h.name === before) : hosts.length;
  hosts.splice(at < 0 ? hosts.length : at, 0, host);
  return { ...spec, hosts };
}

export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  behaviour: DoubleBehaviour,
  calls: CallRecord[],
  fn: () => Promise<T>,
): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: TASK_QUEUE,
    workflowsPath: workflowsPath(),
    activities: activityDoubles(calls, behaviour),
  });
  return worker.runUntil(fn());
}

export const callsOf = (calls: CallRecord[], activity: CallRecord['activity'], host?: string): CallRecord[] =>
  calls.filter((c) => c.activity === activity && (host === undefined || c.host === host));

export async function eventually<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One line of the record file that test/workflow/fixtures/worker-process.ts appends to. */
export interface WorkerRecord {
  generation: number;
  event: 'start' | 'end';
  activity: string;
  host: string;
}

export const workerRecords = (file: string): WorkerRecord[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as WorkerRecord)
    : [];

/**
 * A worker in a process of its own (so a test can kill it), with activity doubles that log to `recordFile`;
 * `tree` is the source tree whose fixture runs (this one, or an older release's). Resolves once it polls.
 */
export function spawnWorker(
  env: TestWorkflowEnvironment,
  o: { tree: string; generation: number; recordFile: string; stall?: string; children: ChildProcess[] },
): Promise<ChildProcess> {
  const script = join(o.tree, 'test/workflow/fixtures/worker-process.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: o.tree,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      RECORD_FILE: o.recordFile,
      GENERATION: String(o.generation),
      STALL_ACTIVITY: o.stall ?? '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  o.children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.on('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
}

/** Waits until the recorded calls show `activity` started, then kills the worker without warning. */
export async function killWhenStarted(worker: ChildProcess, recordFile: string, activity: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!workerRecords(recordFile).some((x) => x.activity === activity && x.event === 'start')) {
    if (Date.now() > deadline) throw new Error(`${activity} never started`);
    await new Promise((r) => setTimeout(r, 100));
  }
  worker.kill('SIGKILL');
  await new Promise((r) => worker.once('exit', r));
}

/**
 * Holds the first attempt of `activity` (on `host`, or on every host) until release(): `reached` resolves when the
 * first one starts. Its `onStart` goes into the doubles' behaviour.
 */
export function holdAt(activity: CallRecord['activity'], host?: string) {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let reachedNow!: () => void;
  const reached = new Promise<void>((r) => (reachedNow = r));
  const onStart = async (r: CallRecord): Promise<void> => {
    if (r.activity !== activity || r.attempt !== 1 || (host !== undefined && r.host !== host)) return;
    reachedNow();
    await held;
  };
  return { onStart, reached, release };
}
