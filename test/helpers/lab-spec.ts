// A small typed ClusterSpec for lab tests that need hosts, not a whole valid cluster: every other field is the
// default, and the infrastructure network is the lab's subnet.
import { DEFAULTS } from '../../model/defaults.js';
import type { ClusterSpec, HostSpec } from '../../model/types.js';

export function labTestSpec(name: string, subnet: string, hosts: HostSpec[]): ClusterSpec {
  return {
    name,
    hosts,
    networks: { ...DEFAULTS.networks, infrastructure: `${subnet}.0/24` },
    loadBalancer: { ...DEFAULTS.loadBalancer },
    versions: { ...DEFAULTS.versions },
    binaries: { ...DEFAULTS.binaries },
    images: { ...DEFAULTS.images, extra: [] },
    apiServer: { extraSANs: [] },
    ssh: { ...DEFAULTS.ssh },
    preflight: { memoryPolicy: 'warn' },
    pki: { ...DEFAULTS.pki },
  };
}
