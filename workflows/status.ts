// What the cluster workflow reports through its `status` query, and the messages it takes. Pure types and
// definitions: the CLI imports them too.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AddNodeRequest } from '../model/add-node.js';
export type { AddNodeRequest } from '../model/add-node.js';
import type { ClusterSpec } from '../model/types.js';

export type StepState = 'pending' | 'running' | 'done' | 'failed';
export type PhaseState = StepState | 'not-built';

export interface StepStatus {
  /** The step's one name: "<phase>/<step>/<host>", also its activity id and UI summary. */
  name: string;
  phase: string;
  host: string;
  state: StepState;
  /** Attempts made so far (1 = first try). */
  attempts: number;
  lastError?: string;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  /** What the step changed on the host, over all its attempts; empty when it found everything as planned. */
  changed?: string[];
  /** What the step observed and wants the operator to know (e.g. which NIC every service binds to). */
  notes?: string[];
  /** Done in an earlier run of this converge, with the same input: not run again. */
  reused?: boolean;
}

export interface PhaseStatus {
  name: string;
  title: string;
  state: PhaseState;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
}

/** A step that failed past its retries (or for good): the converge waits here for `retry` or a new `apply`. */
export interface BlockedStep {
  step: string;
  host: string;
  error: string;
}

export interface ChangeRecord {
  generation: number;
  at: string;
  via: 'start' | 'update' | 'signal';
  requestId?: string;
  /** Who sent it (user@machine), when the sender said: tells two operators' requests apart. */
  by?: string;
  /** What the request changed in the spec, in a few words ("added worker-3"), or why it was refused. */
  summary: string;
  accepted: boolean;
}

export type ClusterState =
  /** Started without a spec: waiting for the first `apply`. */
  | 'waiting'
  | 'converging'
  | 'converged'
  /** A step failed past its retries; `retry` or a corrected `apply` resumes. */
  | 'blocked'
  /** `reset` took every host back to its state before hardway: the workflow ends. */
  | 'reset';

export interface ClusterStatus {
  cluster: string;
  state: ClusterState;
  /** Accepted applies so far (the spec's generation) and the one the current or last converge works on. */
  generation: number;
  convergingGeneration?: number;
  convergedGeneration?: number;
  currentPhase?: string;
  phases: PhaseStatus[];
  steps: StepStatus[];
  blocked?: BlockedStep[];
  error?: string;
  startedAt?: string;
  endedAt?: string;
  /** Files and services changed by the current or last converge, summed over its steps. */
  changedCount: number;
  notBuilt: string[];
  /** Node -> pod range, including ranges kept reserved for removed nodes. */
  podAllocations: Record<string, string>;
  /** Hosts a `removeWorker` or `replaceEtcdMember` request is taking out, until its converge has finished. */
  removing?: string[];
  /** A `reset` in progress or finished (then the workflow ends). */
  reset?: { includeCa: boolean };
  /** The most recent requests, newest last. */
  changes: ChangeRecord[];
}

export interface ApplyRequest {
  spec: ClusterSpec;
  /** De-duplicates a signal sent twice (updates are de-duplicated by their update id). */
  requestId?: string;
  /** Per-host steps of one phase running at once (5 when never given; `hardway up` sends 10). */
  parallelism?: number;
  /** Who sends it (user@machine; `hardway up` says), recorded in the status's change log. */
  requestedBy?: string;
}

export interface ConvergeResult {
  generation: number;
  outcome: 'converged' | 'blocked';
  changedCount: number;
  blocked?: BlockedStep[];
  podAllocations: Record<string, string>;
}

export const statusQuery = defineQuery<ClusterStatus>('status');
/** The cluster file the workflow converges to (the last accepted one), or null before any: public data only. */
export const specQuery = defineQuery<ClusterSpec | null>('spec');
/** Apply a cluster spec: validated before it enters history; returns when its converge has finished or blocked. */
export const applyUpdate = defineUpdate<ConvergeResult, [ApplyRequest]>('apply');
/** The same, fire-and-forget, for `temporal workflow signal`; a refused spec is recorded in `changes`. */
export const applySignal = defineSignal<[ApplyRequest]>('apply');
/** Resume a blocked converge at the step that failed; returns when it has finished or blocked again. */
export const retryUpdate = defineUpdate<ConvergeResult, []>('retry');
export const retrySignal = defineSignal<[]>('retry');
/**
 * Stop the converge in progress: its running steps are cancelled and it ends blocked at them (`retry` resumes
 * there); the workflow lives on. Answers with that converge's result. Refused when no converge runs.
 */
export const cancelUpdate = defineUpdate<ConvergeResult, []>('cancel');
export const cancelSignal = defineSignal<[]>('cancel');

/** What `addWorker` and `addControlPlane` answer once the node's converge has ended. */
export interface AddNodeResult {
  name: string;
  /** Its pod range (the next free one; never one another node has or had). */
  podRange: string;
  /** Ready when the converge that added it finished; blocked (see `blocked`) when a step failed for good. */
  state: 'Ready' | 'blocked';
  generation: number;
  blocked?: BlockedStep[];
}

/**
 * Add a worker to the running cluster: { name, address, ssh? }. Validated before it enters history (a name or
 * address in use, an address outside the infrastructure network, no free pod range are refused); returns when the
 * node is Ready or its converge blocked. The same as `apply` with the host added to the spec.
 */
export const addWorkerUpdate = defineUpdate<AddNodeResult, [AddNodeRequest]>('addWorker');
/** The same, fire-and-forget, for `temporal workflow signal --name addWorker`; a refusal is recorded in `changes`. */
export const addWorkerSignal = defineSignal<[AddNodeRequest]>('addWorker');
/** Add a control plane: the same as `addWorker`, with the control-plane phase on it and a backend on the load balancer. */
export const addControlPlaneUpdate = defineUpdate<AddNodeResult, [AddNodeRequest]>('addControlPlane');
export const addControlPlaneSignal = defineSignal<[AddNodeRequest]>('addControlPlane');

export interface RemoveWorkerRequest {
  name: string;
  /** The host is gone for good: delete its Node without draining it, and do not connect to it to clean it. */
  hostLost?: boolean;
  /** De-duplicates a signal sent twice (updates are de-duplicated by their update id). */
  requestId?: string;
}

export interface RemoveWorkerResult {
  name: string;
  /** Its pod range, kept reserved for the name: a node added later under another name never gets it. */
  podRange?: string;
  /** removed: drained, its Node deleted, its host cleaned, and the other hosts no longer list it. */
  state: 'removed' | 'blocked';
  generation: number;
  blocked?: BlockedStep[];
}

/**
 * Take a worker out of the running cluster: cordon and drain it, delete its Node, stop and clean its services and
 * files, and drop it from every host's /etc/hosts. Refused before it enters history when the host is not a worker,
 * or the cluster would be left without enough workers.
 */
export const removeWorkerUpdate = defineUpdate<RemoveWorkerResult, [RemoveWorkerRequest]>('removeWorker');
export const removeWorkerSignal = defineSignal<[RemoveWorkerRequest]>('removeWorker');

export interface ReplaceEtcdMemberRequest {
  /** The member to take out. */
  old: string;
  /** The new member: a host name of its own, its address (it may be the old one's), SSH settings. */
  name: string;
  address: string;
  ssh?: { user?: string; port?: number };
  /** The old member's host is gone: do not connect to it to clean it. */
  hostLost?: boolean;
  requestId?: string;
}

export interface ReplaceEtcdMemberResult {
  old: string;
  name: string;
  /** replaced: the old member is out of etcd, the new one a voting member, the API servers use it. */
  state: 'replaced' | 'blocked';
  generation: number;
  blocked?: BlockedStep[];
}

/**
 * Replace an etcd member (e.g. its host is lost): it is removed from etcd through a running member and its host
 * cleaned (unless lost), then the new host joins as a learner, is promoted, and the API servers are pointed at it.
 */
export const replaceEtcdMemberUpdate = defineUpdate<ReplaceEtcdMemberResult, [ReplaceEtcdMemberRequest]>('replaceEtcdMember');
export const replaceEtcdMemberSignal = defineSignal<[ReplaceEtcdMemberRequest]>('replaceEtcdMember');

export interface ResetRequest {
  /** Also delete the CA (its keys: every certificate of the cluster becomes worthless). */
  includeCa?: boolean;
  requestId?: string;
}

export interface ResetResult {
  state: 'reset' | 'blocked';
  hosts: string[];
  /** Whether the CA's files were kept on the CA host. */
  keptCa: boolean;
  blocked?: BlockedStep[];
}

/**
 * Take every host back to its state before hardway (like `kubeadm reset`): services stopped and disabled, containers
 * removed, files, binaries and the /etc/hosts block removed; the CA's files kept unless `includeCa`. When it has
 * finished, the cluster's workflow ends: `hardway up` starts a new cluster.
 */
export const resetUpdate = defineUpdate<ResetResult, [ResetRequest]>('reset');
export const resetSignal = defineSignal<[ResetRequest]>('reset');
