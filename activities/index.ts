// All activities, built around their dependencies (the hosts' shells), as in the Temporal samples: the worker
// calls createActivities(shells) once and registers the result; a dry run builds them on dryRunShells(...).
// The keys are the activity types (path-style, see types.ts).
import type { HostShells } from './host-shell.js';
import { etcdJoinActivity, etcdLeaveActivity, etcdMemberActivity, etcdQuorumActivity } from './etcd.js';
import { hostsFileActivity } from './hosts-file.js';
import { loadBalancerActivity } from './loadbalancer.js';
import { certificateAuthorityActivity, hostCertificatesActivity } from './pki.js';
import { preflightActivity } from './preflight.js';
import { containerRuntimeActivity, nodeImagesActivity } from './runtime.js';
import type { ClusterActivities } from './types.js';
import { controlPlaneActivity, encryptionConfigActivity, rbacActivity } from './controlplane.js';
import { kubeletActivity, nodeReadyActivity, registerNodeActivity } from './nodes.js';
import { adminActivity, coreDnsActivity, flannelActivity } from './addons.js';
import { resetHostActivity } from './reset.js';
import { drainNodeActivity } from './drain.js';

export function createActivities(shells: HostShells): ClusterActivities {
  return {
    'preflight/checks': preflightActivity(shells),
    'hosts/hosts-file': hostsFileActivity(shells),
    'pki/authority': certificateAuthorityActivity(shells),
    'pki/certificates': hostCertificatesActivity(shells),
    'etcd/member': etcdMemberActivity(shells),
    'etcd/quorum': etcdQuorumActivity(shells),
    'etcd/join': etcdJoinActivity(shells),
    'remove/etcd-leave': etcdLeaveActivity(shells),
    'loadbalancer/haproxy': loadBalancerActivity(shells),
    'runtime/containerd': containerRuntimeActivity(shells),
    'runtime/images': nodeImagesActivity(shells),
    'controlplane/encryption-config': encryptionConfigActivity(shells),
    'controlplane/services': controlPlaneActivity(shells),
    'controlplane/rbac': rbacActivity(shells),
    'workers/register': registerNodeActivity(shells),
    'workers/kubelet': kubeletActivity(shells),
    'workers/ready': nodeReadyActivity(shells),
    'remove/drain': drainNodeActivity(shells),
    'addons/flannel': flannelActivity(shells),
    'addons/coredns': coreDnsActivity(shells),
    'admin/kubectl': adminActivity(shells),
    'reset/host': resetHostActivity(shells),
    'remove/clean': resetHostActivity(shells),
  };
}

export { dryRunShells, type DryRunShells, type DryRunAction } from './dry-run.js';
export { sshShells, sshTarget, type SshDefaults } from './ssh-shells.js';
export type { HostShell, HostShells } from './host-shell.js';
export { NON_RETRYABLE_TYPES } from '../model/errors.js';
