// etcd: members that join a running cluster (one at a time), one member per etcd host, then a quorum check through
// TLS.
import type { ClusterPlan } from '../../model/types.js';
import { PlanError } from '../../model/plan.js';
import { baseInput, placementOn, targetOf } from './plan-lookup.js';
import { step, type Phase } from './phase.js';

export const ETCD_HEALTHCHECK_CLIENT = 'etcd-healthcheck-client';

const members = (plan: ClusterPlan): string[] => plan.etcd.members.map((m) => m.name);

/**
 * Members that join a running cluster: in the plan, not yet set up, while others are (a new cluster has none set up:
 * its members bootstrap it together).
 */
export function joiningMembers(plan: ClusterPlan, established: readonly string[] = []): string[] {
  const all = members(plan);
  if (!all.some((m) => established.includes(m))) return [];
  return all.filter((m) => !established.includes(m));
}

/** The set-up members a joining one asks (the first that answers): never the joining ones. */
export function runningAskers(plan: ClusterPlan, established: readonly string[] = []) {
  return plan.etcd.members
    .filter((m) => established.includes(m.name))
    .map((m) => ({ target: targetOf(plan, m.name), client: placementOn(plan, ETCD_HEALTHCHECK_CLIENT, m.name), clientUrl: m.clientUrl }));
}

const memberInput = (plan: ClusterPlan, host: string) => {
  const m = plan.etcd.members.find((x) => x.name === host);
  if (!m) throw new PlanError(`${host} is not an etcd member of cluster ${plan.name}`);
  return {
    ...baseInput(plan, host),
    member: { ...m },
    initialCluster: plan.etcd.initialCluster,
    version: plan.versions.etcd,
    binaries: { ...plan.binaries },
    tls: { server: placementOn(plan, `etcd-server-${host}`, host), peer: placementOn(plan, `etcd-peer-${host}`, host) },
    client: placementOn(plan, ETCD_HEALTHCHECK_CLIENT, host),
    members: plan.etcd.members.map((x) => ({ name: x.name, clientUrl: x.clientUrl })),
  };
};

export const etcd: Phase = {
  name: 'etcd',
  title: 'etcd quorum',
  steps: [
    step({
      // A member added to a running cluster: as a learner, started with "existing", promoted. One at a time.
      activity: 'etcd/join',
      hosts: joiningMembers,
      oneAtATime: true,
      input: (plan, host, established) => ({ ...memberInput(plan, host), via: runningAskers(plan, established) }),
    }),
    step({
      activity: 'etcd/member',
      hosts: members,
      // Members of a new cluster wait for each other to form a quorum: start them all at once. Members of a running
      // cluster change one at a time, and each restart waits for the others to hold the quorum.
      fanOut: 'all',
      rolling: { since: 'etcd-rolling' },
      input: memberInput,
    }),
    step({
      activity: 'etcd/quorum',
      hosts: (plan) => members(plan).slice(0, 1),
      input: (plan, host) => ({
        ...baseInput(plan, host),
        members: plan.etcd.members.map((m) => ({ name: m.name, clientUrl: m.clientUrl })),
        client: placementOn(plan, ETCD_HEALTHCHECK_CLIENT, host),
        others: members(plan)
          .filter((m) => m !== host)
          .map((m) => ({ target: targetOf(plan, m), client: placementOn(plan, ETCD_HEALTHCHECK_CLIENT, m) })),
      }),
    }),
  ],
};
