// A small typed ClusterSpec for lab tests that need hosts, not a whole valid cluster: every other field is the
// default, and the infrastructure network is the lab's subnet.
import { readFileSync } from 'node:fs';
import { DEFAULTS } from '../../model/defaults.js';
import type { ClusterSpec, HostSpec } from '../../model/types.js';
import { parseClusterFile } from '../../model/validate.js';

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

/** The seed's ten hosts (examples/seed-cluster.yaml) moved to `subnet`, so that a test never meets a demo lab. */
export function seedOnSubnet(subnet: string, name: string): ClusterSpec {
  const text = readFileSync(new URL('../../examples/seed-cluster.yaml', import.meta.url), 'utf8').replaceAll('192.168.56.', `${subnet}.`);
  const r = parseClusterFile(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return { ...r.spec, name };
}
