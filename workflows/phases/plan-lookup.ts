// Reading the plan from a phase's input builders. Pure. A lookup that fails is a plan inconsistency: it raises a
// PlanError, which the runner turns into a blocked step with this message (never a retried activity).
import type { HostTarget, StepInput } from '../../activities/types.js';
import { PlanError } from '../../model/plan.js';
import { runsKubelet } from '../../model/roles.js';
import type { CertificatePlacement, ClusterPlan, PlannedCertificate, PlannedHost, Role } from '../../model/types.js';

export function plannedHost(plan: ClusterPlan, name: string): PlannedHost {
  const h = plan.hosts.find((x) => x.name === name);
  if (!h) throw new PlanError(`host ${name} is not in the plan of cluster ${plan.name}`);
  return h;
}

export const everyHost = (plan: ClusterPlan): string[] => plan.hosts.map((h) => h.name);

export const hostsWithRole =
  (role: Role) =>
  (plan: ClusterPlan): string[] =>
    plan.hosts.filter((h) => h.roles.includes(role)).map((h) => h.name);

/** Hosts that run a kubelet (control planes and workers), in cluster-file order. */
export const kubeletHosts = (plan: ClusterPlan): string[] => plan.hosts.filter((h) => runsKubelet(h.roles)).map((h) => h.name);

/** How the worker reaches a planned host: its address and SSH settings, never key material. */
export function targetOf(plan: ClusterPlan, name: string): HostTarget {
  const h = plannedHost(plan, name);
  const t: HostTarget = { name: h.name, address: h.address, user: h.ssh.user, port: h.ssh.port };
  if (plan.ssh.identityFile !== undefined) t.identityFile = plan.ssh.identityFile;
  if (plan.ssh.knownHostsFile !== undefined) t.knownHostsFile = plan.ssh.knownHostsFile;
  const pinned = plan.ssh.fingerprints?.[name];
  if (pinned !== undefined) t.fingerprint = pinned;
  return t;
}

export const baseInput = (plan: ClusterPlan, host: string): StepInput => ({ cluster: plan.name, target: targetOf(plan, host) });

export function certificate(plan: ClusterPlan, id: string): PlannedCertificate {
  const c = plan.certificates.find((x) => x.id === id);
  if (!c) throw new PlanError(`certificate ${id} is not in the plan of cluster ${plan.name}`);
  return c;
}

export function placementOn(plan: ClusterPlan, id: string, host: string): CertificatePlacement {
  const p = certificate(plan, id).placements.find((x) => x.host === host);
  if (!p) throw new PlanError(`certificate ${id} is not placed on ${host} in the plan of cluster ${plan.name}`);
  return p;
}
