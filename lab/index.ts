// Local test hosts on this machine (Linux, root): one network + UTS + mount namespace per host, a real
// sshd in each, a bridge for the infrastructure network and a NAT-like second NIC that reaches nothing.
export { labUp, type LabUpOptions } from './up.js';
export { labDown } from './down.js';
export { labStatus, labExec, type LabHostStatus } from './status.js';
export { defaultLabDir } from './paths.js';
export { assertLabSupported } from './support.js';
export type { LabHost, LabHostState, LabState } from './state.js';
