// Rules on hosts: a list of them, unique names and addresses, and addresses that can be a host's
// infrastructure address (inside the infrastructure network, outside the pod and service ranges, never a
// VirtualBox NAT, loopback or unspecified address). The external load balancer's address too.
import type { Problem } from '../types.js';
import type { LooseHost, LooseSpec } from '../loose-view.js';
import { cidrContains, formatCidr, formatIPv4, isNetworkOrBroadcast, lastAddress, parseCidr } from '../cidr.js';
import type { PathSegment } from '../field-path.js';
import { quote } from '../excerpt.js';
import { error, hostLabel } from './report.js';

/** VirtualBox's NAT network: every VM has 10.0.2.15 on its NAT NIC (eth0); nothing else reaches it there. */
export const VIRTUALBOX_NAT_NETWORK = parseCidr('10.0.2.0/24');
const LOOPBACK_NETWORK = parseCidr('127.0.0.0/8');

const ASK_THE_HOST = '`ip -4 addr` on the host lists its addresses';

/** Why `address` can never be the address other hosts reach a host at, or undefined when it can. */
function unusableAddress(segs: PathSegment[], address: number, owner: string): Problem | undefined {
  const text = formatIPv4(address);
  if (cidrContains(VIRTUALBOX_NAT_NETWORK, address)) {
    return error(
      segs,
      'address-virtualbox-nat',
      `address ${text} ${owner} is in ${formatCidr(VIRTUALBOX_NAT_NETWORK)}, the VirtualBox NAT network: no other host can reach it there (and it would land in the certificates)`,
      "10.0.2.x is the address of VirtualBox's NAT NIC (eth0, the default route): every VM has the same one, for outbound traffic only; " +
        `use the address of the VM's host-only or private-network NIC instead, e.g. 192.168.56.x on eth1 (${ASK_THE_HOST})`,
    );
  }
  if (cidrContains(LOOPBACK_NETWORK, address)) {
    return error(
      segs,
      'address-loopback',
      `address ${text} ${owner} is a loopback address: on every host it means that host itself`,
      `use the address other hosts reach it at (${ASK_THE_HOST})`,
    );
  }
  if (address === 0) {
    return error(
      segs,
      'address-unspecified',
      `address 0.0.0.0 ${owner} is the unspecified address ("any address"), not the address of a host`,
      `use the address other hosts reach it at (${ASK_THE_HOST})`,
    );
  }
  return undefined;
}

function addressProblems(l: LooseSpec, h: LooseHost, address: number, text: string): Problem[] {
  const out: Problem[] = [];
  const segs = ['hosts', h.index, 'address'];
  const who = hostLabel(h);
  if (l.infrastructure) {
    const infra = formatCidr(l.infrastructure);
    if (!cidrContains(l.infrastructure, address)) {
      out.push(
        error(
          segs,
          'address-outside-infrastructure',
          `address ${text} of ${who} is outside the infrastructure network ${infra}`,
          `use an address inside ${infra}, or correct networks.infrastructure`,
        ),
      );
    } else if (isNetworkOrBroadcast(l.infrastructure, address)) {
      const which = address === l.infrastructure.network ? 'network' : 'broadcast';
      out.push(
        error(
          segs,
          'address-reserved',
          `address ${text} of ${who} is the ${which} address of ${infra}`,
          `use a host address between ${formatIPv4(l.infrastructure.network + 1)} and ${formatIPv4(lastAddress(l.infrastructure) - 1)}`,
        ),
      );
    }
  }
  if (l.pods && cidrContains(l.pods, address)) {
    out.push(
      error(
        segs,
        'address-in-pod-range',
        `address ${text} of ${who} is inside the pod range ${formatCidr(l.pods)}`,
        'choose a pod range (networks.pods) that exists nowhere on your network',
      ),
    );
  }
  if (l.services && cidrContains(l.services, address)) {
    out.push(
      error(
        segs,
        'address-in-service-range',
        `address ${text} of ${who} is inside the service range ${formatCidr(l.services)}`,
        'choose a service range (networks.services) that exists nowhere on your network',
      ),
    );
  }
  return out;
}

export function hostProblems(l: LooseSpec): Problem[] {
  const out: Problem[] = [];
  if (l.hostsIsArray && l.hosts.length === 0) {
    out.push(
      error(
        ['hosts'],
        'no-hosts',
        'the hosts list is empty',
        "list the cluster's hosts with their addresses and roles (see examples/seed-cluster.yaml)",
      ),
    );
  }
  const byName = new Map<string, LooseHost>();
  const byAddress = new Map<number, LooseHost>();
  for (const h of l.hosts) {
    if (h.name !== undefined) {
      const first = byName.get(h.name);
      if (first)
        out.push(
          error(
            ['hosts', h.index, 'name'],
            'duplicate-name',
            `host name ${quote(h.name)} is already used by hosts[${first.index}]`,
            'give every host a unique name',
          ),
        );
      else byName.set(h.name, h);
    }
    if (h.address === undefined || h.addressText === undefined) continue;
    const unusable = unusableAddress(['hosts', h.index, 'address'], h.address, `of ${hostLabel(h)}`);
    // A NAT or loopback address is wrong whatever else holds: say that, and only that.
    if (unusable) {
      out.push(unusable);
      continue;
    }
    const first = byAddress.get(h.address);
    if (first)
      out.push(
        error(
          ['hosts', h.index, 'address'],
          'duplicate-address',
          `address ${h.addressText} is already used by ${hostLabel(first)}`,
          'give every host its own IPv4 address',
        ),
      );
    else byAddress.set(h.address, h);
    out.push(...addressProblems(l, h, h.address, h.addressText));
  }
  if (l.externalAddress !== undefined) {
    const unusable = unusableAddress(['loadBalancer', 'external', 'address'], l.externalAddress, 'of the external load balancer');
    if (unusable) out.push(unusable);
  }
  return out;
}
