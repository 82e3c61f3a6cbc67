// Finding things in the plan from inside an activity, with errors that say what is wrong.
import type { ClusterPlan, PlannedHost } from '../model/types.js';
import { ConfigurationError } from './errors.js';

export function plannedHost(plan: ClusterPlan, name: string): PlannedHost {
  const h = plan.hosts.find((x) => x.name === name);
  if (!h) throw new ConfigurationError(`host ${name} is not in the plan of cluster ${plan.name}`);
  return h;
}
