// Growing a running cluster by one node: the spec the cluster workflow applies for an `addWorker` request (signal,
// update or `hardway add-worker`). A thin layer over `apply`: the result goes through the same checks and plan, so
// the new node gets the next free pod range, its certificates and the node phases, and nothing else changes. Pure.
import type { ClusterSpec, HostSpec } from './types.js';

export interface AddWorkerRequest {
  name: string;
  address: string;
  /** Per-host SSH settings when they differ from the cluster file's `ssh`. */
  ssh?: { user?: string; port?: number };
  /** De-duplicates a signal sent twice (updates are de-duplicated by their update id). */
  requestId?: string;
}

export class AddNodeRefused extends Error {
  override name = 'AddNodeRefused';
}

/**
 * `current` with a worker added at the end, or AddNodeRefused saying why not when the name or the address is taken
 * (the plan's checks say the rest: the infrastructure network, a free pod range).
 */
export function withAddedWorker(current: ClusterSpec | undefined, req: AddWorkerRequest): ClusterSpec {
  if (!current) throw new AddNodeRefused('the cluster has no spec yet: bring it up with `hardway up -f FILE` first');
  if (!req || typeof req !== 'object') throw new AddNodeRefused('send { "name": "worker-3", "address": "192.168.56.33" }');
  const name = typeof req.name === 'string' ? req.name.trim() : '';
  const address = typeof req.address === 'string' ? req.address.trim() : '';
  if (!name) throw new AddNodeRefused('the request has no name: give the new worker a host name, e.g. { "name": "worker-3", ... }');
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
  const host: HostSpec = { name, address, roles: ['worker'] };
  const ssh = req.ssh && {
    ...(req.ssh.user !== undefined ? { user: req.ssh.user } : {}),
    ...(req.ssh.port !== undefined ? { port: req.ssh.port } : {}),
  };
  if (ssh && Object.keys(ssh).length) host.ssh = ssh;
  return { ...current, hosts: [...current.hosts, host] };
}
