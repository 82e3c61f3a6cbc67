// etcd: one member per etcd host, then a quorum check through TLS.
import type { ClusterPlan } from '../../model/types.js';
import { PlanError } from '../../model/plan.js';
import { baseInput, placementOn, targetOf } from './plan-lookup.js';
import { step, type Phase } from './phase.js';

export const ETCD_HEALTHCHECK_CLIENT = 'etcd-healthcheck-client';

const members = (plan: ClusterPlan): string[] => plan.etcd.members.map((m) => m.name);

export const etcd: Phase = {
  name: 'etcd',
  title: 'etcd quorum',
  steps: [
    step({
      activity: 'etcd/member',
      hosts: members,
      // Members of a new cluster wait for each other to form a quorum: start them all at once. Members of a running
      // cluster change one at a time, and each restart waits for the others to hold the quorum.
      fanOut: 'all',
      rolling: { since: 'etcd-rolling' },
      input: (plan, host) => {
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
      },
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
