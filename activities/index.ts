// All activities, built around their dependencies (the hosts' shells), as in the Temporal samples:
// the worker calls createActivities(deps) once and registers the result.
import type { HostShells } from './host-shell.js';
import { etcdMemberActivity, etcdQuorumActivity } from './etcd.js';
import { hostsFileActivity } from './hosts-file.js';
import { loadBalancerActivity } from './loadbalancer.js';
import { certificateAuthorityActivity, hostCertificatesActivity } from './pki.js';
import { preflightActivity } from './preflight.js';
import type { ClusterActivities } from './types.js';

export function createActivities(shells: HostShells): ClusterActivities {
  return {
    preflight: preflightActivity(shells),
    hostsFile: hostsFileActivity(shells),
    certificateAuthority: certificateAuthorityActivity(shells),
    hostCertificates: hostCertificatesActivity(shells),
    etcdMember: etcdMemberActivity(shells),
    etcdQuorum: etcdQuorumActivity(shells),
    loadBalancer: loadBalancerActivity(shells),
  };
}
