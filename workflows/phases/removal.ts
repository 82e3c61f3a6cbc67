// remove: the hosts a `removeWorker` or `replaceEtcdMember` request takes out, before the rest of the converge (which
// drops them from every host's /etc/hosts, and joins a replacing etcd member). A worker's Node is drained and deleted
// from the first control plane; an etcd member is removed from the membership through a running member. Then the host
// is cleaned: services stopped and disabled, containers removed, hardway's files gone. A lost host is not cleaned. Built per
// converge from the removals the workflow holds: the removed hosts are no longer in the plan, so what reaches them
// (their target, what hardway put on them) was taken from the plan that still had them, when the request came.
import type { HostTarget } from '../../activities/types.js';
import type { HostFootprint } from '../../model/footprint.js';
import { PlanError } from '../../model/plan.js';
import { clusterObjectsInput, firstControlPlane } from './cluster-access.js';
import { runningAskers } from './etcd.js';
import { step, type Phase } from './phase.js';

/** A worker or an etcd member on its way out. Plain JSON, carried through continue-as-new until its converge has finished. */
export interface Removal {
  name: string;
  /** worker: drained and its Node deleted; etcd: removed from the membership. Then its host is cleaned. */
  kind: 'worker' | 'etcd';
  /** An etcd member's peer URL (how the membership knows it before it has a name). */
  peerUrl?: string;
  target: HostTarget;
  hostLost: boolean;
  /** What hardway put on the host, from the plan that still had it. */
  footprint: HostFootprint;
}

export const REMOVAL_PHASE = { name: 'remove', title: 'remove nodes (drain, delete, clean)' } as const;

export function removalPhase(removals: readonly Removal[]): Phase {
  const of = (host: string): Removal => {
    const r = removals.find((x) => x.name === host);
    if (!r) throw new PlanError(`${host} is not being removed`);
    return r;
  };
  return {
    ...REMOVAL_PHASE,
    steps: [
      step({
        activity: 'remove/etcd-leave',
        hosts: () => removals.filter((r) => r.kind === 'etcd').map((r) => r.name),
        input: (plan, host, established) => {
          const r = of(host);
          if (!r.peerUrl) throw new PlanError(`the removal of etcd member ${host} has no peer URL`);
          return {
            cluster: plan.name,
            target: r.target,
            member: { name: host, peerUrl: r.peerUrl },
            via: runningAskers(plan, established),
          };
        },
      }),
      step({
        activity: 'remove/drain',
        hosts: () => removals.filter((r) => r.kind === 'worker').map((r) => r.name),
        input: (plan, host) => {
          const r = of(host);
          return {
            ...clusterObjectsInput(plan, firstControlPlane(plan), 'admin'),
            target: r.target,
            node: host,
            hostLost: r.hostLost,
          };
        },
      }),
      step({
        activity: 'remove/clean',
        hosts: () => removals.filter((r) => !r.hostLost).map((r) => r.name),
        input: (plan, host) => {
          const r = of(host);
          return { cluster: plan.name, target: r.target, footprint: r.footprint };
        },
      }),
    ],
  };
}
