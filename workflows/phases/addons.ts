// addons: flanneld on every node (pod traffic between nodes, pinned to the infrastructure address), then CoreDNS
// at the plan's DNS address, applied from the first control plane through the load balancer.
import { CLUSTER_DOMAIN, FLANNEL_CERTIFICATE, FLANNEL_USER } from '../../model/certificates.js';
import { KUBECONFIG_PATHS } from '../../model/paths.js';
import { hasRole } from '../../model/roles.js';
import { baseInput, kubeletHosts, targetOf } from './plan-lookup.js';
import { clusterObjectsInput, firstControlPlane, kubeconfigFor } from './cluster-access.js';
import { podCidrOf } from './workers.js';
import { step, type Phase } from './phase.js';

export const addons: Phase = {
  name: 'addons',
  title: 'flannel and CoreDNS',
  since: 'phase-addons',
  steps: [
    step({
      activity: 'addons/flannel',
      hosts: kubeletHosts,
      input: (plan, host) => {
        const { node, podCidr } = podCidrOf(plan, host);
        return {
          ...baseInput(plan, host),
          version: plan.versions.flannel,
          binaries: { ...plan.binaries },
          address: node.address,
          podRange: plan.networks.pods,
          podCidr,
          kubeconfig: kubeconfigFor(plan, FLANNEL_CERTIFICATE, host, FLANNEL_USER, KUBECONFIG_PATHS.flannel, plan.apiServer.url),
        };
      },
    }),
    step({
      activity: 'addons/coredns',
      hosts: (plan) => [firstControlPlane(plan)],
      input: (plan, host) => {
        const schedulable = plan.hosts.filter((h) => hasRole(h, 'worker')).length;
        return {
          ...clusterObjectsInput(plan, host, 'admin'),
          image: plan.images.coredns,
          clusterDns: plan.networks.clusterDns,
          clusterDomain: CLUSTER_DOMAIN,
          replicas: Math.max(1, Math.min(2, schedulable)),
          nodes: plan.hosts.filter((h) => hasRole(h, 'worker')).map((h) => targetOf(plan, h.name)),
        };
      },
    }),
  ],
};
