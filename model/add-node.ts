// Growing a running cluster by one node, or replacing an etcd member: the spec the cluster workflow applies for an `addWorker` or
// `addControlPlane` request (signal, update or `hardway add-worker` / `add-control-plane`). A thin layer over
// `apply`: the result goes through the same checks and plan, so the new node gets the next free pod range, its
// certificates and the node phases (a control plane also its API server certificate, the control-plane phase and a
// backend on the load balancer), and nothing else changes. Pure.
import type { ClusterSpec, HostSpec } from './types.js';

export interface AddNodeRequest {
  name: string;
  address: string;
  /** Per-host SSH settings when they differ from the cluster file's `ssh`. */
  ssh?: { user?: string; port?: number };
  /** De-duplicates a signal sent twice (updates are de-duplicated by their update id). */
  requestId?: string;
}

/** The roles a node can be added with (an etcd member comes in through withReplacedEtcdMember or the file). */
export type AddedRole = 'worker' | 'controlplane';
type NewHostRole = AddedRole | 'etcd';
const ROLE_WORD: Record<NewHostRole, string> = { worker: 'worker', controlplane: 'control plane', etcd: 'etcd member' };
const EXAMPLE_NAME: Record<NewHostRole, string> = { worker: 'worker-3', controlplane: 'cp-3', etcd: 'etcd-4' };

export class AddNodeRefused extends Error {
  override name = 'AddNodeRefused';
}

/**
 * `current` with a node of `role` added at the end, or AddNodeRefused saying why not when the name or the address is
 * taken (the plan's checks say the rest: the infrastructure network, a free pod range).
 */
export function withAddedNode(current: ClusterSpec | undefined, req: AddNodeRequest, role: NewHostRole): ClusterSpec {
  const word = ROLE_WORD[role];
  if (!current) throw new AddNodeRefused('the cluster has no spec yet: bring it up with `hardway up -f FILE` first');
  if (!req || typeof req !== 'object') {
    throw new AddNodeRefused(`send { "name": "${EXAMPLE_NAME[role]}", "address": "192.168.56.33" }`);
  }
  const name = typeof req.name === 'string' ? req.name.trim() : '';
  const address = typeof req.address === 'string' ? req.address.trim() : '';
  if (!name) {
    throw new AddNodeRefused(`the request has no name: give the new ${word} a host name, e.g. { "name": "${EXAMPLE_NAME[role]}", ... }`);
  }
  if (!address)
    throw new AddNodeRefused(`the request has no address: give ${name} its infrastructure address, e.g. "address": "192.168.56.33"`);
  const byName = current.hosts.find((h) => h.name === name);
  if (byName) {
    throw new AddNodeRefused(`the name ${name} is already in use (${byName.address}, ${byName.roles.join(', ')}): choose another name`);
  }
  const byAddress = current.hosts.find((h) => h.address === address);
  if (byAddress) {
    throw new AddNodeRefused(`the address ${address} is already in use by ${byAddress.name}: give ${name} an address of its own`);
  }
  const host: HostSpec = { name, address, roles: [role] };
  const ssh = req.ssh && {
    ...(req.ssh.user !== undefined ? { user: req.ssh.user } : {}),
    ...(req.ssh.port !== undefined ? { port: req.ssh.port } : {}),
  };
  if (ssh && Object.keys(ssh).length) host.ssh = ssh;
  return { ...current, hosts: [...current.hosts, host] };
}

export const withAddedWorker = (current: ClusterSpec | undefined, req: AddNodeRequest): ClusterSpec =>
  withAddedNode(current, req, 'worker');
export const withAddedControlPlane = (current: ClusterSpec | undefined, req: AddNodeRequest): ClusterSpec =>
  withAddedNode(current, req, 'controlplane');

/**
 * `current` with etcd member `old` replaced, in its place in the file, by a new etcd host (`replaceEtcdMember`): the
 * old member is removed from etcd first, then the new one joins. The new host needs a name of its own; it may take
 * the old one's address (a rebuilt machine). AddNodeRefused says why not.
 */
export function withReplacedEtcdMember(current: ClusterSpec | undefined, old: string, req: AddNodeRequest): ClusterSpec {
  if (!current) throw new AddNodeRefused('the cluster has no spec yet: bring it up with `hardway up -f FILE` first');
  const at = current.hosts.findIndex((h) => h.name === old);
  const was = current.hosts[at];
  if (!was) {
    const members = current.hosts.filter((h) => h.roles.includes('etcd')).map((h) => h.name);
    throw new AddNodeRefused(`cluster ${current.name} has no host ${old}: its etcd members are ${members.join(', ') || '(none)'}`);
  }
  if (was.roles.length !== 1 || was.roles[0] !== 'etcd') {
    throw new AddNodeRefused(`${old} is not only an etcd member (roles: ${was.roles.join(', ')}): only etcd-only hosts can be replaced`);
  }
  const rest = { ...current, hosts: current.hosts.filter((h) => h.name !== old) };
  if (req?.name?.trim() === old) {
    throw new AddNodeRefused(`give the new member a name of its own (not ${old}: the old member's name stays with it until it is gone)`);
  }
  const added = withAddedNode(rest, req, 'etcd').hosts.at(-1)!; // the same checks of name and address
  const hosts = [...rest.hosts];
  hosts.splice(at, 0, added);
  return { ...current, hosts };
}
