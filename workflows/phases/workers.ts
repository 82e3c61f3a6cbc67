// workers: every host that runs a kubelet (workers, and control planes with a NoSchedule taint). Its Node object is
// created with the plan's pod range before the kubelet registers, then the kubelet, kube-proxy and the node's CNI
// configuration, then the wait until the node is Ready with that range.
import { CLUSTER_DOMAIN } from '../../model/certificates.js';
import { KUBECONFIG_PATHS } from '../../model/paths.js';
import { PlanError } from '../../model/plan.js';
import type { ClusterPlan, PlannedHost } from '../../model/types.js';
import { baseInput, kubeletHosts, placementOn, plannedHost } from './plan-lookup.js';
import { clusterObjectsInput, kubeconfigFor } from './cluster-access.js';
import { step, type Phase } from './phase.js';

export function podCidrOf(plan: ClusterPlan, host: string): { node: PlannedHost; podCidr: string } {
  const node = plannedHost(plan, host);
  if (!node.podCidr) throw new PlanError(`${host} runs a kubelet but the plan of cluster ${plan.name} gives it no pod range`);
  return { node, podCidr: node.podCidr };
}

export const workers: Phase = {
  name: 'workers',
  title: 'nodes (kubelet, kube-proxy)',
  since: 'phase-workers',
  steps: [
    step({
      activity: 'workers/register',
      hosts: kubeletHosts,
      input: (plan, host) => {
        const { node, podCidr } = podCidrOf(plan, host);
        return {
          ...clusterObjectsInput(plan, host, 'admin'),
          node: { name: host, address: node.address, podCidr, controlPlane: node.roles.includes('controlplane') },
        };
      },
    }),
    step({
      activity: 'workers/kubelet',
      hosts: kubeletHosts,
      input: (plan, host) => {
        const { node, podCidr } = podCidrOf(plan, host);
        const url = plan.apiServer.url;
        return {
          ...baseInput(plan, host),
          versions: { kubernetes: plan.versions.kubernetes, flannelCniPlugin: plan.versions.flannelCniPlugin },
          binaries: { ...plan.binaries },
          address: node.address,
          podCidr,
          podRange: plan.networks.pods,
          clusterDns: plan.networks.clusterDns,
          clusterDomain: CLUSTER_DOMAIN,
          controlPlane: node.roles.includes('controlplane'),
          tls: placementOn(plan, `kubelet-${host}`, host),
          kubelet: kubeconfigFor(plan, `kubelet-${host}`, host, `system:node:${host}`, KUBECONFIG_PATHS.kubelet, url),
          kubeProxy: kubeconfigFor(plan, 'kube-proxy', host, 'system:kube-proxy', KUBECONFIG_PATHS['kube-proxy'], url),
        };
      },
    }),
    step({
      activity: 'workers/ready',
      hosts: kubeletHosts,
      input: (plan, host) => ({
        ...clusterObjectsInput(plan, host, 'admin'),
        node: { name: host, podCidr: podCidrOf(plan, host).podCidr },
      }),
    }),
  ],
};
