// Rules on the networks: pod, service and infrastructure ranges apart, a node mask kube-controller-manager
// accepts and that gives every kubelet node a range, a service range kube-apiserver accepts with room for
// Services, and clusterDns a usable address inside it.
import type { Problem } from '../types.js';
import type { LooseSpec } from '../loose-view.js';
import {
  cidrContains,
  cidrOf,
  cidrSize,
  cidrsOverlap,
  formatCidr,
  formatIPv4,
  isNetworkOrBroadcast,
  nthAddress,
  type Cidr,
} from '../cidr.js';
import { KUBELET_ROLES } from '../roles.js';
import type { PathSegment } from '../field-path.js';
import { error } from './report.js';

/** kube-controller-manager refuses a node mask more than 16 bits longer than the cluster CIDR's prefix. */
export const MAX_NODE_MASK_DIFF = 16;
/** kube-apiserver refuses an IPv4 service range larger than a /12. */
export const MIN_SERVICE_PREFIX = 12;
/**
 * The smallest service range accepted: a /28 leaves 12 Service addresses once the `kubernetes` service and
 * cluster DNS have theirs. A /29 (4 left) or /30 (none) fills up with the first add-ons.
 */
export const MAX_SERVICE_PREFIX = 28;

function externalAddressProblems(l: LooseSpec): Problem[] {
  if (l.externalAddress === undefined) return [];
  const out: Problem[] = [];
  const segs = ['loadBalancer', 'external', 'address'];
  if (l.pods && cidrContains(l.pods, l.externalAddress)) {
    out.push(
      error(
        segs,
        'address-in-pod-range',
        `the external load balancer address ${l.externalText} is inside the pod range ${formatCidr(l.pods)}`,
        "use the load balancer's real address, outside networks.pods",
      ),
    );
  }
  if (l.services && cidrContains(l.services, l.externalAddress)) {
    out.push(
      error(
        segs,
        'address-in-service-range',
        `the external load balancer address ${l.externalText} is inside the service range ${formatCidr(l.services)}`,
        "use the load balancer's real address, outside networks.services",
      ),
    );
  }
  return out;
}

function overlapProblems({ pods, services, infrastructure: infra }: LooseSpec): Problem[] {
  const out: Problem[] = [];
  if (pods && services && cidrsOverlap(pods, services)) {
    out.push(
      error(
        ['networks', 'services'],
        'ranges-overlap',
        `the service range ${formatCidr(services)} overlaps the pod range ${formatCidr(pods)}`,
        'use two separate ranges, e.g. pods 10.244.0.0/16 and services 10.32.0.0/24',
      ),
    );
  }
  if (infra && pods && cidrsOverlap(infra, pods)) {
    out.push(
      error(
        ['networks', 'pods'],
        'ranges-overlap',
        `the pod range ${formatCidr(pods)} overlaps the infrastructure network ${formatCidr(infra)}`,
        'choose a pod range that exists nowhere on your network (e.g. 10.244.0.0/16)',
      ),
    );
  }
  if (infra && services && cidrsOverlap(infra, services)) {
    out.push(
      error(
        ['networks', 'services'],
        'ranges-overlap',
        `the service range ${formatCidr(services)} overlaps the infrastructure network ${formatCidr(infra)}`,
        'choose a service range that exists nowhere on your network (e.g. 10.32.0.0/24)',
      ),
    );
  }
  return out;
}

function nodeMaskProblems(l: LooseSpec, pods: Cidr, m: number): Problem[] {
  if (m < pods.prefix || m > 30) {
    return [
      error(
        ['networks', 'nodeMask'],
        'node-mask-range',
        `nodeMask ${m} must be between the pod range's prefix (${pods.prefix}) and 30`,
        `use a node mask from ${Math.min(pods.prefix, 30)} to 30; 24 (256 pod addresses per node) is usual`,
      ),
    ];
  }
  if (m - pods.prefix > MAX_NODE_MASK_DIFF) {
    return [
      error(
        ['networks', 'nodeMask'],
        'node-mask-too-fine',
        `nodeMask ${m} is ${m - pods.prefix} bits longer than the pod range /${pods.prefix}; kube-controller-manager allows at most ${MAX_NODE_MASK_DIFF}`,
        `use a node mask of at most ${pods.prefix + MAX_NODE_MASK_DIFF}, or a smaller pod range`,
      ),
    ];
  }
  const nodes = l.hosts.filter((h) => h.roles.some((r) => KUBELET_ROLES.includes(r)));
  const capacity = 2 ** (m - pods.prefix);
  if (nodes.length <= capacity) return [];
  const bits = Math.ceil(Math.log2(nodes.length));
  const needPrefix = m - bits;
  const fix =
    needPrefix >= 0
      ? `use a larger pod range such as ${formatCidr(cidrOf(pods.network, needPrefix))}, or a longer nodeMask (${Math.min(30, pods.prefix + bits)})`
      : 'use fewer nodes or a longer nodeMask';
  return [
    error(
      ['networks', 'pods'],
      'pod-range-too-small',
      `the pod range ${formatCidr(pods)} holds ${capacity} node range(s) of /${m}, but ${nodes.length} hosts run a kubelet (controlplane and worker)`,
      fix,
    ),
  ];
}

function serviceRangeProblems(l: LooseSpec, services: Cidr): Problem[] {
  const out: Problem[] = [];
  const usual = formatCidr(cidrOf(services.network, 24));
  if (services.prefix < MIN_SERVICE_PREFIX) {
    out.push(
      error(
        ['networks', 'services'],
        'service-range-too-large',
        `the service range ${formatCidr(services)} is larger than a /${MIN_SERVICE_PREFIX}, which kube-apiserver refuses`,
        `use a /${MIN_SERVICE_PREFIX} or smaller, e.g. ${usual}`,
      ),
    );
  } else if (services.prefix > MAX_SERVICE_PREFIX) {
    const usable = Math.max(0, cidrSize(services) - 2);
    out.push(
      error(
        ['networks', 'services'],
        'service-range-too-small',
        `the service range ${formatCidr(services)} has ${usable} usable address(es); the \`kubernetes\` service and cluster DNS take 2, which leaves ${Math.max(0, usable - 2)} for every other Service (add-ons such as metrics-server or an ingress controller, and your applications)`,
        `use a /${MAX_SERVICE_PREFIX} or larger (a /24 is usual), e.g. ${usual}, and keep networks.clusterDns inside it`,
      ),
    );
  }
  if (l.clusterDns === undefined) return out;
  const dns = l.clusterDns;
  const size = cidrSize(services);
  const suggestion = size > 11 ? formatIPv4(nthAddress(services, 10)) : size > 3 ? formatIPv4(nthAddress(services, 2)) : undefined;
  const fix = suggestion ? `use ${suggestion}` : 'use a larger service range';
  const segs: PathSegment[] = ['networks', 'clusterDns'];
  if (!cidrContains(services, dns)) {
    out.push(
      error(segs, 'dns-outside-service-range', `clusterDns ${l.clusterDnsText} is outside the service range ${formatCidr(services)}`, fix),
    );
  } else if (dns === services.network) {
    out.push(
      error(
        segs,
        'dns-is-network-address',
        `clusterDns ${l.clusterDnsText} is the network address of the service range ${formatCidr(services)}`,
        fix,
      ),
    );
  } else if (dns === services.network + 1) {
    out.push(
      error(
        segs,
        'dns-is-kubernetes-service',
        `clusterDns ${l.clusterDnsText} is the first address of the service range, which belongs to the "kubernetes" service`,
        fix,
      ),
    );
  } else if (isNetworkOrBroadcast(services, dns)) {
    out.push(
      error(
        segs,
        'dns-is-broadcast',
        `clusterDns ${l.clusterDnsText} is the broadcast address of the service range ${formatCidr(services)}`,
        fix,
      ),
    );
  }
  return out;
}

export function networkProblems(l: LooseSpec): Problem[] {
  return [
    ...externalAddressProblems(l),
    ...overlapProblems(l),
    ...(l.pods && l.nodeMask !== undefined ? nodeMaskProblems(l, l.pods, l.nodeMask) : []),
    ...(l.services ? serviceRangeProblems(l, l.services) : []),
  ];
}
