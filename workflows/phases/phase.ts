// A bring-up phase as a value: its name, its title, the hosts it touches and its steps. Pure: the workflow's
// runner (workflows/runner.ts) schedules the steps; `hardway up --dry-run` walks the same values.
import type { ActivityInput, ActivityName } from '../../activities/types.js';
import type { ClusterPlan } from '../../model/types.js';

export interface Step<K extends ActivityName = ActivityName> {
  /** The activity type, "<phase>/<step>"; with "/<host>" it is the activity id and the step's status name. */
  activity: K;
  /**
   * Hosts the step runs for, in order (one entry for a cluster-wide step: the host it runs on). `established`: the
   * hosts a finished converge set up (none for a new cluster, and in a dry run).
   */
  hosts(plan: ClusterPlan, established?: readonly string[]): string[];
  /** The fragment of the plan the activity needs for one host: never the whole plan. */
  input(plan: ClusterPlan, host: string, established?: readonly string[]): ActivityInput<K>;
  /** Hosts one at a time, in order, always (etcd members join one by one). */
  oneAtATime?: boolean;
  /** "bounded" (default): at most the workflow's parallelism at once; "all": every host at once. */
  fanOut?: 'bounded' | 'all';
  /**
   * Once any of its hosts is established (a converge finished with it), the step runs on one host at a time, in order,
   * whatever `fanOut` says: etcd members restart one by one, each gated on the quorum. `since` is the patch id it
   * runs behind (converges recorded before it fanned out).
   */
  rolling?: { since: string };
}

/** Erases a step's activity type for the phase's list, keeping the input builder checked against it. */
export type AnyStep = { [K in ActivityName]: Step<K> }[ActivityName];

export interface Phase {
  name: string;
  title: string;
  steps: AnyStep[];
  /**
   * For a phase added after a release: the `patched()` id it runs behind, e.g. "phase-controlplane". A converge
   * that a workflow recorded before the phase existed replays without it; every converge after the upgrade runs
   * it. Phases of the first entity release (0.2) have none. Keep the id forever (or until `deprecatePatch`).
   */
  since?: string;
}

/** Declares a step; the input builder's return type is checked against the activity's parameter. */
export function step<K extends ActivityName>(s: Step<K>): Step<K> {
  return s;
}
