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
    kubernetes: 'v1.32.3',
    // The lab serves Debian's etcd package (3.4.23) as the "local" binary source.
    etcd: 'v3.4.23',
  },
  binaries: { source: 'official' as const },
  ssh: { user: 'root', port: 22 },
  preflight: { memoryPolicy: 'fail' as const },
} as const;
