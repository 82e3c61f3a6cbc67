// What the cluster workflow reports through its `status` query, and the messages it takes. Pure types and
// definitions: the CLI imports them too.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AddWorkerRequest } from '../model/add-node.js';
export type { AddWorkerRequest } from '../model/add-node.js';
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
  | 'blocked';

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
  /** The most recent requests, newest last. */
  changes: ChangeRecord[];
}

export interface ApplyRequest {
  spec: ClusterSpec;
  /** De-duplicates a signal sent twice (updates are de-duplicated by their update id). */
  requestId?: string;
  /** Per-host steps of one phase running at once (5 when never given; `hardway up` sends 10). */
  parallelism?: number;
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

/** What `addWorker` answers once the node's converge has ended. */
export interface AddWorkerResult {
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
export const addWorkerUpdate = defineUpdate<AddWorkerResult, [AddWorkerRequest]>('addWorker');
/** The same, fire-and-forget, for `temporal workflow signal --name addWorker`; a refusal is recorded in `changes`. */
export const addWorkerSignal = defineSignal<[AddWorkerRequest]>('addWorker');
