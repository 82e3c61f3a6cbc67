// The cluster commands that talk to Temporal: up (start, attach or re-converge) and status (query + describe).
import { createHash } from 'node:crypto';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { ClusterSpec } from '../model/types.js';
import { TASK_QUEUE, workflowIdFor } from '../temporal/constants.js';
import type { clusterWorkflow, ClusterWorkflowInput } from '../workflows/cluster.js';
import { statusQuery, type ClusterStatus, type StepStatus } from '../workflows/status.js';
import { formatDuration } from './status-format.js';

type ClusterHandle = WorkflowHandle<typeof clusterWorkflow>;

export interface UpResult {
  handle: ClusterHandle;
  attached: boolean;
}

/** Starts the cluster workflow, or attaches to the one that is running. A finished cluster is re-converged. */
export async function startOrAttach(
  client: Client,
  spec: ClusterSpec,
  options: ClusterWorkflowInput['options'] = {},
  log: (line: string) => void = () => {},
): Promise<UpResult> {
  const workflowId = workflowIdFor(spec.name);
  const existing = client.workflow.getHandle<typeof clusterWorkflow>(workflowId);
  const desc = await existing.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  });
  if (desc?.status.name === 'RUNNING') {
    if (desc.memo?.specDigest !== specDigest(spec)) {
      log(`note: the running bring-up started from a different cluster file; run up again when it ends to apply yours`);
    }
    log(`attaching to the bring-up of ${spec.name} that is already running (workflow ${workflowId}, run ${desc.runId})`);
    return { handle: existing, attached: true };
  }
  let previousAllocations: Record<string, string> | undefined;
  if (desc?.status.name === 'COMPLETED') {
    previousAllocations = (await existing.result()).podAllocations;
  }
  const handle = await client.workflow.start<typeof clusterWorkflow>('clusterWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [{ spec, previousAllocations, options }],
    memo: { specDigest: specDigest(spec) },
    staticSummary: `hardway bring-up of cluster ${spec.name} (${spec.hosts.length} hosts)`,
  });
  log(`${desc ? 're-converging' : 'bringing up'} cluster ${spec.name}: workflow ${workflowId}, run ${handle.firstExecutionRunId}`);
  return { handle, attached: false };
}

/** The workflow's status, with the attempt count and last error of steps Temporal is retrying right now. */
export async function clusterStatus(handle: ClusterHandle): Promise<ClusterStatus> {
  const [status, desc] = await Promise.all([handle.query(statusQuery), handle.describe()]);
  for (const pending of desc.raw.pendingActivities ?? []) {
    const step = status.steps.find((s) => stepActivityId(s) === pending.activityId);
    if (!step || step.state !== 'running') continue;
    step.attempts = pending.attempt ?? step.attempts;
    if (pending.lastFailure?.message) step.lastError = pending.lastFailure.message;
  }
  return status;
}

export const stepActivityId = (s: Pick<StepStatus, 'phase' | 'step' | 'host'>): string => `${s.phase}:${s.step}:${s.host}`;

/** Follows a run until it ends, printing each step as it starts, retries and ends. Returns the final status. */
export async function follow(handle: ClusterHandle, print: (line: string) => void, pollMs = 1000): Promise<ClusterStatus> {
  const seen = new Map<string, string>();
  const t0 = Date.now();
  let waitingSaid = false;
  const report = (st: ClusterStatus) => {
    for (const s of st.steps) {
      const key = stepActivityId(s);
      const line = `${s.state}${s.attempts > 1 ? ` (attempt ${s.attempts}${s.lastError ? `: ${s.lastError}` : ''})` : ''}`;
      if (seen.get(key) === line) continue;
      seen.set(key, line);
      const when = `[${formatDuration(Date.now() - t0).padStart(9)}]`;
      const detail =
        s.state === 'done'
          ? ` in ${formatDuration(s.durationMs)}: ${s.changed?.length ? s.changed.join(', ') : 'no change'}${s.notes?.length ? ` (${s.notes.join('; ')})` : ''}`
          : s.state === 'failed'
            ? `: ${s.lastError}`
            : '';
      print(`${when} ${s.phase.padEnd(12)} ${s.step.padEnd(12)} ${s.host.padEnd(10)} ${line}${detail}`);
    }
  };
  const done = handle.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    try {
      report(await clusterStatus(handle));
      waitingSaid = false;
    } catch (err) {
      if (!waitingSaid && !finished) print(`waiting for a worker on task queue ${TASK_QUEUE} (${(err as Error).message})`);
      waitingSaid = true;
    }
    await Promise.race([done, new Promise((r) => setTimeout(r, pollMs))]);
  }
  const err = await done;
  const final = await clusterStatus(handle).catch(() => undefined);
  if (final) {
    report(final);
    return final;
  }
  if (err instanceof WorkflowFailedError) throw new Error(`bring-up failed: ${err.cause?.message ?? err.message}`);
  throw err instanceof Error ? err : new Error(String(err));
}

/** A digest of the cluster file's meaning (not its formatting), kept in the workflow's memo. */
export function specDigest(spec: ClusterSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}
