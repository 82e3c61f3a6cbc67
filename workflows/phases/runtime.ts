// runtime: the container runtime on every host that runs a kubelet (control planes and workers): containerd, runc
// and the CNI plugins, then the images the node needs (side-loaded where images.source says so).
import type { ClusterPlan } from '../../model/types.js';
import { baseInput, kubeletHosts } from './plan-lookup.js';
import { step, type Phase } from './phase.js';

/** Every image a node must hold: the sandbox image, CoreDNS's, and the cluster file's extra ones. */
export const nodeImageReferences = (plan: ClusterPlan): string[] => [
  ...new Set([plan.images.sandbox, plan.images.coredns, ...plan.images.extra]),
];

export const runtime: Phase = {
  name: 'runtime',
  title: 'container runtime (containerd)',
  since: 'phase-runtime',
  steps: [
    step({
      activity: 'runtime/containerd',
      hosts: kubeletHosts,
      input: (plan, host) => ({
        ...baseInput(plan, host),
        versions: { containerd: plan.versions.containerd, runc: plan.versions.runc, cniPlugins: plan.versions.cniPlugins },
        binaries: { ...plan.binaries },
        sandboxImage: plan.images.sandbox,
      }),
    }),
    step({
      activity: 'runtime/images',
      hosts: kubeletHosts,
      input: (plan, host) => {
        const { source, mirror, directory } = plan.images;
        return {
          ...baseInput(plan, host),
          images: { source, ...(mirror !== undefined ? { mirror } : {}), ...(directory !== undefined ? { directory } : {}) },
          references: nodeImageReferences(plan),
        };
      },
    }),
  ],
};
