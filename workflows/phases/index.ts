// The bring-up, in order. Adding a phase: one file in this directory (with `since`, its patch id: running cluster
// workflows recorded converges without it), one line here, and its activities.
import { etcd } from './etcd.js';
import { hosts } from './hosts.js';
import { loadbalancer } from './loadbalancer.js';
import type { ActivityName } from '../../activities/types.js';
import { PlanError } from '../../model/plan.js';
import type { AnyStep, Phase, Step } from './phase.js';
import { pki } from './pki.js';
import { preflight } from './preflight.js';
import { runtime } from './runtime.js';
import { controlplane } from './controlplane.js';
import { workers } from './workers.js';
import { addons } from './addons.js';
import { admin } from './admin.js';

export const PHASES: readonly Phase[] = [preflight, hosts, pki, etcd, loadbalancer, runtime, controlplane, workers, addons, admin];

/** Phases of the seed's order that this version does not build yet: shown as "not-built" in the status. */
export const NOT_BUILT: readonly { name: string; title: string }[] = [];

export type { Phase, Step, AnyStep } from './phase.js';

/** The step that runs `activity`, wherever it is in the bring-up. */
export function stepOf<K extends ActivityName>(activity: K): Step<K> {
  for (const p of PHASES) for (const s of p.steps) if (isStep(s, activity)) return s;
  throw new PlanError(`no phase has a step ${activity}`);
}

function isStep<K extends ActivityName>(s: AnyStep, activity: K): s is Extract<AnyStep, Step<K>> {
  return s.activity === activity;
}
