// The bring-up order of the seed, as data. Pure.
export const PHASES = [
  'preflight',
  'hosts',
  'pki',
  'etcd',
  'loadbalancer',
  'controlplane',
  'workers',
  'addons',
  'admin',
] as const;
export type PhaseName = (typeof PHASES)[number];

/** Phases this version implements; the rest are reported as "not-built" in the status. */
export const BUILT_PHASES: readonly PhaseName[] = ['preflight', 'hosts', 'pki', 'etcd', 'loadbalancer'];

export const PHASE_TITLES: Record<PhaseName, string> = {
  preflight: 'preflight checks and NIC detection',
  hosts: '/etc/hosts on every host',
  pki: 'certificate authority and certificates',
  etcd: 'etcd quorum',
  loadbalancer: 'API load balancer (HAProxy)',
  controlplane: 'control planes',
  workers: 'worker nodes',
  addons: 'flannel and CoreDNS',
  admin: 'admin kubeconfig',
};
