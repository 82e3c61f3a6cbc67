// controlplane: the encryption key shared by the API servers, then kube-apiserver, kube-controller-manager and
// kube-scheduler on every control plane (one at a time once the cluster runs, so the API stays up), then the RBAC
// bindings, applied once the API answers through the load balancer.
import { API_SERVER_SECURE_PORT } from '../../model/defaults.js';
import { CLUSTER_ADMINS_GROUP, CLUSTER_DOMAIN, FLANNEL_CERTIFICATE } from '../../model/certificates.js';
import { ENCRYPTION_CONFIG_PATH, KUBECONFIG_PATHS } from '../../model/paths.js';
import type { ClusterPlan } from '../../model/types.js';
import { PlanError } from '../../model/plan.js';
import { certificate, baseInput, placementOn, plannedHost, targetOf } from './plan-lookup.js';
import { clusterObjectsInput, controlPlanes, firstControlPlane, kubeconfigFor } from './cluster-access.js';
import { step, type Phase } from './phase.js';

/** The issuer of service-account tokens (kubeadm's): the in-cluster name of the API. */
export const serviceAccountIssuer = (): string => `https://kubernetes.default.svc.${CLUSTER_DOMAIN}`;

function securePort(plan: ClusterPlan, host: string): number {
  const cp = plan.apiServer.controlPlanes.find((c) => c.name === host);
  if (!cp) throw new PlanError(`${host} is not a control plane of cluster ${plan.name}`);
  return cp.port ?? API_SERVER_SECURE_PORT;
}

export const controlplane: Phase = {
  name: 'controlplane',
  title: 'control planes (kube-apiserver, controller manager, scheduler)',
  since: 'phase-controlplane',
  steps: [
    step({
      activity: 'controlplane/encryption-config',
      hosts: (plan) => [firstControlPlane(plan)],
      input: (plan, host) => ({
        ...baseInput(plan, host),
        path: ENCRYPTION_CONFIG_PATH,
        holders: controlPlanes(plan).map((h) => targetOf(plan, h)),
      }),
    }),
    step({
      activity: 'controlplane/services',
      hosts: controlPlanes,
      // A restart of a running control plane takes one at a time: the load balancer sends the API's clients to the others.
      rolling: { since: 'phase-controlplane' },
      input: (plan, host) => {
        const port = securePort(plan, host);
        const address = plannedHost(plan, host).address;
        const local = `https://${address}:${port}`;
        const sa = certificate(plan, 'sa').placements.find((p) => p.host === host);
        if (!sa) throw new PlanError(`the service-account key pair is not placed on ${host}`);
        const frontProxy = plan.certificates.some((c) => c.id === 'front-proxy-client')
          ? { frontProxyClient: placementOn(plan, 'front-proxy-client', host) }
          : {};
        const server = placementOn(plan, 'kube-apiserver', host);
        return {
          ...baseInput(plan, host),
          version: plan.versions.kubernetes,
          binaries: { ...plan.binaries },
          address,
          securePort: port,
          etcdServers: plan.etcd.members.map((m) => m.clientUrl),
          serviceRange: plan.networks.services,
          podRange: plan.networks.pods,
          nodeMask: plan.networks.nodeMask,
          serviceAccount: { issuer: serviceAccountIssuer(), keyFiles: [sa.certPath], signingKeyFile: sa.keyPath },
          encryptionConfigPath: ENCRYPTION_CONFIG_PATH,
          tls: {
            server,
            etcdClient: placementOn(plan, 'apiserver-etcd-client', host),
            kubeletClient: placementOn(plan, 'apiserver-kubelet-client', host),
            ...frontProxy,
          },
          caPath: server.caPath,
          controllerManager: kubeconfigFor(
            plan,
            'kube-controller-manager',
            host,
            'system:kube-controller-manager',
            KUBECONFIG_PATHS['kube-controller-manager'],
            local,
          ),
          scheduler: kubeconfigFor(plan, 'kube-scheduler', host, 'system:kube-scheduler', KUBECONFIG_PATHS['kube-scheduler'], local),
          kubeconfigs: [
            kubeconfigFor(plan, 'admin', host, 'admin', KUBECONFIG_PATHS.admin, plan.apiServer.url),
            kubeconfigFor(plan, 'super-admin', host, 'super-admin', KUBECONFIG_PATHS['super-admin'], plan.apiServer.url),
          ],
          peers: controlPlanes(plan)
            .filter((h) => h !== host)
            .map((h) => ({ name: h, url: `https://${plannedHost(plan, h).address}:${securePort(plan, h)}` })),
        };
      },
    }),
    step({
      activity: 'controlplane/rbac',
      hosts: (plan) => [firstControlPlane(plan)],
      input: (plan, host) => ({
        ...clusterObjectsInput(plan, host, 'super-admin'),
        adminGroup: CLUSTER_ADMINS_GROUP,
        kubeletClientUser: certificate(plan, 'apiserver-kubelet-client').commonName,
        ...(plan.certificates.some((c) => c.id === FLANNEL_CERTIFICATE)
          ? { flannelUser: certificate(plan, FLANNEL_CERTIFICATE).commonName }
          : {}),
      }),
    }),
  ],
};
