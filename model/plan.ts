// plan(spec) -> ClusterPlan: everything derived from a checked cluster spec, deterministically. Pure: the
// cluster workflow calls it (no I/O, no clock, no randomness; output depends only on the arguments).
import type { ClusterPlan, PlannedHost } from './types.js';
import {
  cidrContainsCidr,
  compareCidrs,
  formatCidr,
  formatIPv4,
  nthSubnet,
  subnetCount,
  subnetIndex,
  tryParseCidr,
  type Cidr,
} from './cidr.js';
import { runsKubelet } from './roles.js';
import { buildCertificates, buildFiles } from './certificates.js';
import { CA_CERT_PATH, CA_KEY_PATH } from './paths.js';
import { dnsLabelError } from './field-checks.js';
import { API_SERVER_SECURE_PORT } from './defaults.js';
import type { ValidSpec } from './check.js';

export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

/** The spec cannot be planned: a previous allocation does not fit the pod range, or the range is full. */
export class PlanError extends Error {
  override name = 'PlanError';
}

/**
 * Derive the plan of a checked spec (checkSpec, parseClusterFile). `previousAllocations` is the
 * `podAllocations` of the plan the running cluster was built with: every entry is kept (also those of
 * removed nodes, which stay reserved), and nodes without an entry get the lowest free ranges, in host
 * order. Throws PlanError when a previous allocation does not fit the pod range, or the pod range is full.
 */
export function plan(spec: ValidSpec, previousAllocations?: Record<string, string>): ClusterPlan {
  const { parsed } = spec;
  // A copy ({...spec}, JSON) loses the non-enumerable check result; the type cannot tell.
  if (parsed === undefined) throw new PlanError('plan() needs the spec that checkSpec or parseClusterFile returned, not a copy of it');

  const kubeletNodes = spec.hosts.filter((h) => runsKubelet(h.roles)).map((h) => h.name);
  const podAllocations = allocatePodRanges(parsed.pods, spec.networks.nodeMask, kubeletNodes, previousAllocations);

  const hosts: PlannedHost[] = spec.hosts.map((h) => {
    const ph: PlannedHost = {
      name: h.name,
      address: h.address,
      roles: [...h.roles],
      ssh: { user: h.ssh?.user ?? spec.ssh.user, port: h.ssh?.port ?? spec.ssh.port },
    };
    if (runsKubelet(h.roles)) ph.podCidr = podAllocations[h.name]!;
    return ph;
  });

  const kubernetesService = formatIPv4(parsed.services.network + 1);

  const etcdHosts = hosts.filter((h) => h.roles.includes('etcd'));
  const members = etcdHosts.map((h) => ({
    name: h.name,
    address: h.address,
    clientUrl: `https://${h.address}:${ETCD_CLIENT_PORT}`,
    peerUrl: `https://${h.address}:${ETCD_PEER_PORT}`,
  }));

  const lbHost = hosts.find((h) => h.roles.includes('loadbalancer'));
  const apiAddress = spec.loadBalancer.external?.address ?? lbHost?.address;
  if (apiAddress === undefined) throw new PlanError('no API front end: neither a loadbalancer host nor loadBalancer.external.address');
  const port = spec.loadBalancer.port;

  const caHost = hosts.find((h) => h.roles.includes('ca'));
  if (!caHost) throw new PlanError('no host has the role ca');

  const certificates = buildCertificates({
    clusterName: spec.name,
    hosts,
    kubernetesService,
    apiServerAddress: apiAddress,
    ...(spec.loadBalancer.external === undefined && lbHost ? { loadBalancerHost: lbHost.name } : {}),
    extraSANs: [...spec.apiServer.extraSANs],
    keyAlgorithm: spec.pki.keyAlgorithm,
  });

  const networks: ClusterPlan['networks'] = {
    pods: spec.networks.pods,
    nodeMask: spec.networks.nodeMask,
    services: spec.networks.services,
    kubernetesService,
    clusterDns: spec.networks.clusterDns,
  };
  if (spec.networks.infrastructure !== undefined) networks.infrastructure = spec.networks.infrastructure;

  return {
    name: spec.name,
    hosts,
    networks,
    podAllocations,
    etcd: { members, initialCluster: members.map((m) => `${m.name}=${m.peerUrl}`).join(',') },
    apiServer: {
      address: apiAddress,
      port,
      url: `https://${apiAddress}:${port}`,
      controlPlanes: hosts
        .filter((h) => h.roles.includes('controlplane'))
        .map((h) => ({ name: h.name, address: h.address, port: API_SERVER_SECURE_PORT })),
    },
    ca: { host: caHost.name, certPath: CA_CERT_PATH, keyPath: CA_KEY_PATH },
    certificates,
    files: buildFiles(hosts, certificates),
    versions: clone(spec.versions),
    binaries: clone(spec.binaries),
    images: clone(spec.images),
    ssh: clone(spec.ssh),
    preflight: clone(spec.preflight),
    pki: clone(spec.pki),
    warnings: clone([...spec.warnings]),
  };
}

/**
 * Pod range per node. Keeps every entry of `previous` (including nodes no longer listed: their ranges stay
 * reserved so a re-added or new node never silently inherits routes of an old one), then gives each node
 * of `nodes` without an entry the lowest free /nodeMask range of `podRange`, in the order given. The result's
 * keys are ordered by range. Throws PlanError when a previous range does not fit, or the range is full.
 */
export function allocatePodRanges(
  podRange: Cidr,
  nodeMask: number,
  nodes: readonly string[],
  previous: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const pods = formatCidr(podRange);
  if (!Number.isInteger(nodeMask) || nodeMask < podRange.prefix || nodeMask > 30) {
    throw new PlanError(`nodeMask ${nodeMask} does not fit the pod range ${pods}: it must be between ${podRange.prefix} and 30`);
  }
  const taken: { node: string; range: Cidr }[] = [];
  const byIndex = new Map<number, { node: string; range: Cidr }>();
  for (const node of Object.keys(previous).sort()) {
    const text = previous[node]!;
    const bad = dnsLabelError(node, 'node name');
    if (bad) throw new PlanError(`previous pod allocations: ${bad.message}`);
    const r = typeof text === 'string' ? tryParseCidr(text) : ({ ok: false, error: 'not a string' } as const);
    if (!r.ok) throw new PlanError(`previous pod allocation of node "${node}" is invalid: ${r.error}`);
    const range = r.value;
    if (range.prefix !== nodeMask || !cidrContainsCidr(podRange, range)) {
      throw new PlanError(
        `previous pod allocation ${text} of node "${node}" is not a /${nodeMask} inside the pod range ${pods}: ` +
          'networks.pods and networks.nodeMask of a running cluster cannot change — restore the previous values',
      );
    }
    // Same prefix and aligned: two ranges overlap exactly when they are equal.
    const clash = byIndex.get(subnetIndex(podRange, range, nodeMask));
    if (clash)
      throw new PlanError(`previous pod allocations of nodes "${clash.node}" and "${node}" overlap (${formatCidr(clash.range)}, ${text})`);
    const entry = { node, range };
    byIndex.set(subnetIndex(podRange, range, nodeMask), entry);
    taken.push(entry);
  }
  // All ranges are aligned /nodeMask subnets of the pod range: track them by index. The lowest free index
  // only grows as ranges are handed out (nothing is freed), so one cursor finds them all in O(n).
  const capacity = subnetCount(podRange, nodeMask);
  const usedIndexes = new Set(byIndex.keys());
  let cursor = 0;
  const seen = new Set<string>();
  for (const node of nodes) {
    if (seen.has(node)) throw new PlanError(`node "${node}" is listed twice`);
    seen.add(node);
    if (Object.prototype.hasOwnProperty.call(previous, node)) continue;
    while (usedIndexes.has(cursor)) cursor++;
    if (cursor >= capacity) {
      const reserved = taken.filter((t) => !seen.has(t.node) && !nodes.includes(t.node)).map((t) => t.node);
      throw new PlanError(
        `the pod range ${pods} is full: it holds ${capacity} node ranges of /${nodeMask}, ` +
          `all taken${reserved.length ? ` (including ranges kept reserved for removed nodes: ${reserved.join(', ')})` : ''}; ` +
          `node "${node}" gets none — use a larger networks.pods or a longer networks.nodeMask for a new cluster`,
      );
    }
    usedIndexes.add(cursor);
    taken.push({ node, range: nthSubnet(podRange, nodeMask, cursor) });
  }
  taken.sort((a, b) => compareCidrs(a.range, b.range));
  const out: Record<string, string> = {};
  for (const t of taken) out[t.node] = formatCidr(t.range);
  return out;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
