// The activity names and signatures of hardway 0.1, as adapters over today's activities, so that a bring-up
// started by 0.1 finishes after an upgrade (see workflows/legacy/bringup-v0.ts). Each builds today's input from
// the 0.1 plan it gets with the phase's own input builder.
import type { ClusterPlan } from '../model/types.js';
import { stepOf } from '../workflows/phases/index.js';
import type { LegacyActivities } from '../workflows/legacy/bringup-v0.js';
import type { ClusterActivities } from './types.js';

export function legacyActivities(acts: ClusterActivities): LegacyActivities {
  return {
    preflight: (plan: ClusterPlan, host: string) => acts['preflight/checks'](stepOf('preflight/checks').input(plan, host)),
    hostsFile: (plan, host) => acts['hosts/hosts-file'](stepOf('hosts/hosts-file').input(plan, host)),
    certificateAuthority: (plan) => acts['pki/authority'](stepOf('pki/authority').input(plan, plan.ca.host)),
    hostCertificates: (plan, host) => acts['pki/certificates'](stepOf('pki/certificates').input(plan, host)),
    etcdMember: (plan, host) => acts['etcd/member'](stepOf('etcd/member').input(plan, host)),
    etcdQuorum: (plan) => acts['etcd/quorum'](stepOf('etcd/quorum').input(plan, plan.etcd.members[0]!.name)),
    loadBalancer: (plan, host) => acts['loadbalancer/haproxy'](stepOf('loadbalancer/haproxy').input(plan, host)),
  };
}
