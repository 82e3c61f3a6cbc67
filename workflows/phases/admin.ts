// admin: kubectl and the admin kubeconfig on the admin host (if the cluster has one), pointing at the load balancer.
import { ADMIN_USER_KUBECONFIG, KUBECONFIG_PATHS } from '../../model/paths.js';
import { baseInput, hostsWithRole } from './plan-lookup.js';
import { kubeconfigFor } from './cluster-access.js';
import { step, type Phase } from './phase.js';

export const admin: Phase = {
  name: 'admin',
  title: 'admin host (kubectl, kubeconfig)',
  since: 'phase-admin',
  steps: [
    step({
      activity: 'admin/kubectl',
      hosts: hostsWithRole('admin'),
      input: (plan, host) => ({
        ...baseInput(plan, host),
        version: plan.versions.kubernetes,
        binaries: { ...plan.binaries },
        kubeconfigs: [KUBECONFIG_PATHS.admin, ADMIN_USER_KUBECONFIG].map((path) =>
          kubeconfigFor(plan, 'admin', host, 'admin', path, plan.apiServer.url),
        ),
      }),
    }),
  ],
};
