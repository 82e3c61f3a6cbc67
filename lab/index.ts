// Local test hosts on this machine (Linux, root): per host a network, UTS, mount, PID and cgroup namespace with its
// own cgroups and a real sshd, a bridge for the infrastructure network, a NAT-like second NIC that reaches nothing,
// and a binary mirror served over HTTP on the bridge address.
export { labUp, type LabUpOptions } from './up.js';
export { labDown } from './down.js';
export { labStatus, labExec, type LabHostStatus } from './status.js';
export { labMirrorUrl, type MirrorOptions } from './mirror.js';
export { defaultLabDir, labId, mirrorDir, DEFAULT_MIRROR_PORT } from './paths.js';
export { assertLabSupported } from './support.js';
export type { LabHost, LabHostState, LabMirror, LabState } from './state.js';
