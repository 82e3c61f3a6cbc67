// What the cluster workflow reports through its `status` query. Pure types and the query definition.
import { defineQuery } from '@temporalio/workflow';
import type { PhaseName } from './phases.js';

export type StepState = 'pending' | 'running' | 'done' | 'failed';
export type PhaseState = StepState | 'not-built';

export interface StepStatus {
  phase: PhaseName;
  /** Step name within the phase, e.g. "member" or "quorum". */
  step: string;
  host: string;
  state: StepState;
  /** Attempts made so far (1 = first try). */
  attempts: number;
  lastError?: string;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  /** What the step changed on the host; empty when it found everything as planned. */
  changed?: string[];
  /** What the step observed and wants the operator to know (e.g. which NIC every service binds to). */
  notes?: string[];
}

export interface PhaseStatus {
  name: PhaseName;
  state: PhaseState;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
}

export interface ClusterStatus {
  cluster: string;
  state: 'running' | 'done' | 'failed';
  currentPhase?: PhaseName;
  phases: PhaseStatus[];
  steps: StepStatus[];
  error?: string;
  startedAt: string;
  endedAt?: string;
  /** Files and services changed by this run, summed over all steps. */
  changedCount: number;
  notBuilt: PhaseName[];
}

export const statusQuery = defineQuery<ClusterStatus>('status');
