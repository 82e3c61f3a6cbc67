// Whether the cluster workflow can take a spec, and the plan it would converge: the pure check behind the
// `apply` update's validator (so a bad spec never enters history) and the `apply` signal. Throws an Error whose
// message is what `hardway plan` would print.
import { checkSpec } from '../model/check.js';
import { plan, PlanError } from '../model/plan.js';
import { formatProblems } from '../model/problem-format.js';
import { refusedChanges } from '../model/spec-change.js';
import type { ClusterPlan, ClusterSpec, Problem } from '../model/types.js';

export interface Accepted {
  spec: ClusterSpec;
  plan: ClusterPlan;
  generation: number;
}

export interface ClusterContext {
  cluster: string;
  /** The spec the cluster has now (undefined before the first apply). */
  current?: ClusterSpec;
  /** Hosts a finished converge has set up; none means no converge has finished yet and anything may change. */
  established: readonly string[];
  podAllocations: Record<string, string>;
  /** Hosts a `removeWorker` request takes out of `current` (allowed to go although established). */
  removing?: readonly string[];
  /** Hosts being removed by an earlier request that has not finished: they cannot come back until it has. */
  pendingRemovals?: readonly string[];
}

export class SpecRefused extends Error {
  override name = 'SpecRefused';
}

const describe = (what: string, problems: readonly Problem[]): string => {
  const errors = problems.filter((p) => p.severity === 'error');
  return `${what}: ${errors.length} problem${errors.length === 1 ? '' : 's'}; nothing was changed.\n${formatProblems(errors, 'spec')}`;
};

export function acceptSpec(spec: ClusterSpec, ctx: ClusterContext): Accepted {
  if (!spec || typeof spec !== 'object') throw new SpecRefused('the request has no spec: send { "spec": <cluster spec> }');
  const checked = checkSpec(spec);
  if (!checked.ok) throw new SpecRefused(describe('the cluster spec is not valid', checked.problems));
  if (spec.name !== ctx.cluster) {
    throw new SpecRefused(
      `the spec is for cluster "${spec.name}" but this is the workflow of cluster "${ctx.cluster}": send it to cluster-${spec.name}`,
    );
  }
  const back = spec.hosts.filter((h) => ctx.pendingRemovals?.includes(h.name));
  if (back.length) {
    throw new SpecRefused(
      `${back.map((h) => h.name).join(', ')} ${back.length === 1 ? 'is' : 'are'} being removed and cannot come back until that has finished: ` +
        `hardway status ${ctx.cluster} shows where it stands (hardway retry ${ctx.cluster} resumes it when blocked)`,
    );
  }
  let allocations = ctx.podAllocations;
  if (ctx.current && ctx.established.length) {
    const refused = refusedChanges(ctx.current, spec, ctx.established, { removing: ctx.removing });
    if (refused.length) throw new SpecRefused(describe('this change cannot be applied to the running cluster yet', refused));
  } else if (
    ctx.current &&
    (ctx.current.networks.pods !== spec.networks.pods || ctx.current.networks.nodeMask !== spec.networks.nodeMask)
  ) {
    // No converge has finished yet, so no node holds a range: the pod network may still be corrected.
    allocations = {};
  }
  try {
    return { spec, plan: plan(checked.spec, allocations), generation: 0 };
  } catch (err) {
    if (err instanceof PlanError) throw new SpecRefused(err.message);
    throw err;
  }
}
