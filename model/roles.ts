// Which components run where. One place so that plan, render and activities agree. Pure.
import type { Role } from './types.js';

/**
 * Roles whose hosts run a kubelet, kube-proxy and flannel, and therefore get a pod range, a kubelet
 * certificate and the kube-proxy certificate.
 *
 * Choice: control planes run a kubelet too (registered with a NoSchedule taint, like kubeadm). Without it
 * flannel has no agent on the control planes, and the API servers could not reach pod IPs (admission
 * webhooks, aggregated APIs such as metrics-server, `kubectl port-forward/exec` to pods are fine either
 * way, but webhooks are not). The seed keeps control planes and workers on separate hosts; that stays
 * true, both just run a kubelet.
 */
export const KUBELET_ROLES: readonly Role[] = ['controlplane', 'worker'];

export function runsKubelet(roles: readonly Role[]): boolean {
  return roles.some((r) => KUBELET_ROLES.includes(r));
}

export function hasRole(host: { roles: readonly Role[] }, role: Role): boolean {
  return host.roles.includes(role);
}
