// How the cluster-wide steps reach the API: from the first control plane, with a kubeconfig there, through the load
// balancer. Pure.
import type { ClusterObjectsInput, KubeconfigFile } from '../../activities/types.js';
import { KUBECONFIG_PATHS } from '../../model/paths.js';
import { PlanError } from '../../model/plan.js';
import type { ClusterPlan } from '../../model/types.js';
import { baseInput, hostsWithRole, placementOn, targetOf } from './plan-lookup.js';

export const controlPlanes = hostsWithRole('controlplane');

/** The control plane that applies cluster-wide objects: the first one of the cluster file. */
export function firstControlPlane(plan: ClusterPlan): string {
  const cp = controlPlanes(plan)[0];
  if (cp === undefined) throw new PlanError(`cluster ${plan.name} has no control plane`);
  return cp;
}

/** A kubeconfig on `host` for the certificate `id` (its placement there), pointing at `server`. */
export function kubeconfigFor(plan: ClusterPlan, id: string, host: string, user: string, path: string, server: string): KubeconfigFile {
  const at = placementOn(plan, id, host);
  return { path, user, server, caPath: at.caPath, certPath: at.certPath, keyPath: at.keyPath };
}

/** The input of a step that applies or reads objects from the first control plane, as `certificate` (admin or super-admin). */
export function clusterObjectsInput(plan: ClusterPlan, host: string, certificate: 'admin' | 'super-admin'): ClusterObjectsInput {
  const via = firstControlPlane(plan);
  const at = placementOn(plan, certificate, via);
  return {
    ...baseInput(plan, host),
    via: targetOf(plan, via),
    kubeconfig: KUBECONFIG_PATHS[certificate],
    apiServerUrl: plan.apiServer.url,
    caPath: at.caPath,
    client: { certPath: at.certPath, keyPath: at.keyPath },
  };
}
