// What the Temporal UI shows of a cluster's workflow before anyone opens its history: its one-line summary and its
// static details (Markdown): the cluster, its hosts by role, its versions and networks, as the file that started it
// said. Later changes show in the workflow's current details and in `hardway status`. Pure.
import type { ClusterSpec, Role } from '../model/types.js';

const ROLE_ORDER: readonly Role[] = ['ca', 'etcd', 'loadbalancer', 'controlplane', 'worker', 'admin'];

export function workflowSummary(spec: ClusterSpec): string {
  return `hardway cluster ${spec.name}: ${spec.hosts.length} hosts, Kubernetes ${spec.versions.kubernetes}`;
}

export function workflowDetails(spec: ClusterSpec): string {
  const count = (r: Role) => spec.hosts.filter((h) => h.roles.includes(r)).length;
  const roles = ROLE_ORDER.filter((r) => count(r) > 0).map((r) => `${r} ${count(r)}`);
  const n = spec.networks;
  const v = spec.versions;
  return [
    `**hardway cluster ${spec.name}** (as the file that started this workflow had it)`,
    '',
    `- hosts: ${spec.hosts.length} (${roles.join(', ')})`,
    `- versions: Kubernetes ${v.kubernetes}, etcd ${v.etcd}, containerd ${v.containerd}, runc ${v.runc}, flannel ${v.flannel}, CNI plugins ${v.cniPlugins}`,
    `- networks: ${n.infrastructure ? `infrastructure ${n.infrastructure}, ` : ''}pods ${n.pods} (a /${n.nodeMask} per node), services ${n.services}, cluster DNS ${n.clusterDns}`,
    `- API: ${spec.loadBalancer.external ? `external load balancer ${spec.loadBalancer.external.address}` : 'load balancer'}:${spec.loadBalancer.port}`,
    '',
    'Steps are activities named `<phase>/<step>/<host>`; `hardway status ' + spec.name + '` shows them too.',
  ].join('\n');
}
