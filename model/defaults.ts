// The values a cluster file may leave out: the seed architecture's (docs: /work/shared/seed).
export const DEFAULTS = {
  networks: {
    pods: '10.244.0.0/16',
    nodeMask: 24,
    services: '10.32.0.0/24',
    clusterDns: '10.32.0.10',
  },
  loadBalancer: { port: 6443 },
  versions: {
    // What scripts/build/versions.env pins: the lab and air-gapped users get these built from their Go modules.
    kubernetes: 'v1.34.4',
    etcd: 'v3.6.16',
  },
  binaries: { source: 'official' as const },
  ssh: { user: 'root', port: 22 },
  preflight: { memoryPolicy: 'fail' as const },
} as const;
