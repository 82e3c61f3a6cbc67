// The cluster commands that talk to Temporal: apply a spec (update-with-start), retry, and status.
import { randomUUID } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
  type WorkflowUpdateHandle,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { ClusterSpec } from '../model/types.js';
import { TASK_QUEUE, workflowIdFor } from '../temporal/constants.js';
import type { clusterWorkflow } from '../workflows/cluster.js';
import {
  addControlPlaneUpdate,
  addWorkerUpdate,
  applyUpdate,
  cancelUpdate,
  removeWorkerUpdate,
  replaceEtcdMemberUpdate,
  resetUpdate,
  retryUpdate,
  statusQuery,
  type AddNodeRequest,
  type AddNodeResult,
  type ClusterStatus,
  type ConvergeResult,
  type RemoveWorkerRequest,
  type RemoveWorkerResult,
  type ReplaceEtcdMemberRequest,
  type ReplaceEtcdMemberResult,
  type ResetRequest,
  type ResetResult,
} from '../workflows/status.js';
import type { AddedRole } from '../model/add-node.js';
import { UsageError } from './load-spec.js';
import { formatStatus } from './status-format.js';
import { lineView, type LiveView } from './live-view.js';
import { workflowDetails, workflowSummary } from './workflow-details.js';

const { temporal } = proto;

type ClusterHandle = WorkflowHandle<typeof clusterWorkflow>;

/** A request the workflow accepted: its update, whose result comes when the converge it caused has ended. */
export interface Request<R = ConvergeResult> {
  handle: ClusterHandle;
  update: WorkflowUpdateHandle<R>;
}

/** The workflow's refusal of a request, as a usage error (exit code 2) with the workflow's own words. */
function refused(err: unknown): never {
  if (err instanceof WorkflowUpdateFailedError) {
    throw new UsageError(err.cause?.message ?? err.message);
  }
  if (err instanceof Error && err.name === 'WorkflowNotFoundError') {
    throw new UsageError(`no such cluster: ${err.message} (hardway up -f FILE starts one)`, 1);
  }
  throw err;
}

/**
 * Applies a spec to its cluster's workflow, starting the workflow when there is none (update-with-start).
 * Returns once the workflow has accepted the spec: a spec it refuses raises a UsageError with its reasons.
 */
export async function applySpec(
  client: Client,
  spec: ClusterSpec,
  o: { parallelism?: number; requestedBy?: string } = {},
): Promise<Request> {
  const workflowId = workflowIdFor(spec.name);
  const start = new WithStartWorkflowOperation<typeof clusterWorkflow>('clusterWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [{}],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: workflowSummary(spec),
    staticDetails: workflowDetails(spec),
  });
  const update = await client.workflow
    .startUpdateWithStart(applyUpdate, {
      args: [
        {
          spec,
          requestId: randomUUID(),
          ...(o.parallelism ? { parallelism: o.parallelism } : {}),
          ...(o.requestedBy ? { requestedBy: o.requestedBy } : {}),
        },
      ],
      waitForStage: 'ACCEPTED',
      startWorkflowOperation: start,
    })
    .catch(refused);
  await refusedAtOnce(update);
  return { handle: await start.workflowHandle(), update };
}

/**
 * A request the workflow's validator refuses comes back at once, as a completed update with a failure, but the
 * client only says so through result(): look at it briefly, so that a refusal is reported even without --wait.
 */
async function refusedAtOnce<R>(update: WorkflowUpdateHandle<R>, ms = 1000): Promise<void> {
  const settled = update.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  const err = await Promise.race([settled, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
  if (err) refused(err);
}

/** Resumes a blocked converge at the step that failed. */
export async function retryCluster(client: Client, cluster: string): Promise<Request> {
  const handle = client.workflow.getHandle<typeof clusterWorkflow>(workflowIdFor(cluster));
  const update = await handle.startUpdate(retryUpdate, { waitForStage: 'ACCEPTED' }).catch(refused);
  await refusedAtOnce(update);
  return { handle, update };
}

/**
 * Adds a worker or a control plane to a running cluster (the workflow's `addWorker` / `addControlPlane` update). The
 * request id is the update id: the same request sent again, e.g. by a script that lost its connection, is applied once
 * and answers the same.
 */
export async function addNode(client: Client, cluster: string, req: AddNodeRequest, role: AddedRole): Promise<Request<AddNodeResult>> {
  const requestId = req.requestId ?? randomUUID();
  return startRequest(client, cluster, role === 'worker' ? addWorkerUpdate : addControlPlaneUpdate, { ...req, requestId }, requestId);
}

export const addWorker = (client: Client, cluster: string, req: AddNodeRequest): Promise<Request<AddNodeResult>> =>
  addNode(client, cluster, req, 'worker');

/** Takes a worker out of a running cluster (the `removeWorker` update): drained, deleted, its host cleaned. */
export async function removeWorker(client: Client, cluster: string, req: RemoveWorkerRequest): Promise<Request<RemoveWorkerResult>> {
  const requestId = req.requestId ?? randomUUID();
  return startRequest(client, cluster, removeWorkerUpdate, { ...req, requestId }, requestId);
}

/** Replaces an etcd member (the `replaceEtcdMember` update): the old one removed from etcd, the new one joined. */
export async function replaceEtcdMember(
  client: Client,
  cluster: string,
  req: ReplaceEtcdMemberRequest,
): Promise<Request<ReplaceEtcdMemberResult>> {
  const requestId = req.requestId ?? randomUUID();
  return startRequest(client, cluster, replaceEtcdMemberUpdate, { ...req, requestId }, requestId);
}

/** Resets every host of a cluster (the `reset` update); the workflow ends when it has finished. */
export async function resetCluster(client: Client, cluster: string, req: ResetRequest): Promise<Request<ResetResult>> {
  const requestId = req.requestId ?? randomUUID();
  return startRequest(client, cluster, resetUpdate, { ...req, requestId }, requestId);
}

async function startRequest<R, A>(
  client: Client,
  cluster: string,
  def: UpdateDefinition<R, [A]>,
  arg: A,
  updateId: string,
): Promise<Request<R>> {
  const handle = client.workflow.getHandle<typeof clusterWorkflow>(workflowIdFor(cluster));
  const update = await handle.startUpdate(def, { args: [arg], updateId, waitForStage: 'ACCEPTED' }).catch(refused);
  await refusedAtOnce(update);
  return { handle, update };
}

/** The workflow's status, with the attempt count and last error of steps Temporal is retrying right now. */
export async function clusterStatus(handle: ClusterHandle): Promise<ClusterStatus> {
  const [status, desc] = await Promise.all([handle.query(statusQuery), handle.describe()]);
  for (const pending of desc.raw.pendingActivities ?? []) {
    const step = status.steps.find((s) => s.name === pending.activityId);
    if (!step || step.state !== 'running') continue;
    step.attempts = Math.max(step.attempts, pending.attempt ?? 0);
    if (pending.lastFailure?.message) step.lastError = pending.lastFailure.message;
  }
  return status;
}

/** Shows the converge a request caused (lineView by default) until it has finished or blocked. */
export async function follow<R = ConvergeResult>(
  req: Request<R>,
  print: (line: string) => void,
  pollMs = 1000,
  view: LiveView = lineView(print),
): Promise<{ result: R; status: ClusterStatus }> {
  let finished = false;
  const done = req.update.result().finally(() => (finished = true));
  done.catch(() => undefined);
  while (!finished) {
    await clusterStatus(req.handle).then(
      (st) => view.show(st),
      () => undefined,
    );
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
  }
  const result = await done.catch(refused);
  const status = await clusterStatus(req.handle);
  view.show(status);
  return { result, status };
}

/**
 * Shows a cluster's converge as it runs (no request of ours: `hardway watch`) until no converge runs; the last status.
 * A cluster that is not converging is shown once.
 */
export async function watchCluster(handle: ClusterHandle, view: LiveView, pollMs = 1000): Promise<ClusterStatus> {
  for (;;) {
    const st = await clusterStatus(handle);
    view.show(st);
    if (st.state !== 'converging') return st;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Stops the converge in progress (the `cancel` update); its result once it has stopped. */
export async function cancelConverge(client: Client, cluster: string): Promise<Request> {
  const handle = client.workflow.getHandle<typeof clusterWorkflow>(workflowIdFor(cluster));
  const update = await handle.startUpdate(cancelUpdate, { waitForStage: 'ACCEPTED' }).catch(refused);
  await refusedAtOnce(update);
  return { handle, update };
}

/** Follows a request to its end, prints the final status and sets the exit code: 0 converged, 1 blocked. */
export async function followToEnd(req: Request, print: (line: string) => void, view?: LiveView): Promise<void> {
  const { result, status } = await follow(req, print, 1000, view);
  if (!view || !process.stdout.isTTY) print(formatStatus(status));
  process.exitCode = result.outcome === 'converged' ? 0 : 1;
}

/**
 * What the server knows of a cluster without a worker (a query needs one): the workflow's state and its steps in
 * flight, with their attempts and last errors. For `status` when no worker answers.
 */
export async function statusWithoutWorker(handle: ClusterHandle): Promise<string> {
  const desc = await handle.describe();
  const lines = [`workflow ${handle.workflowId}: ${desc.status.name}`];
  for (const p of desc.raw.pendingActivities ?? []) {
    lines.push(
      `  ${(p.activityId ?? '?').padEnd(36)} attempt ${p.attempt ?? 1}${p.lastFailure?.message ? `: ${p.lastFailure.message}` : ''}`,
    );
  }
  if (!desc.raw.pendingActivities?.length) lines.push('  no step in flight');
  return lines.join('\n');
}
