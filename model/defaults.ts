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
    // Debian 12's builds in the lab (scripts/build/versions.env); upstream publishes the same versions.
    containerd: 'v1.6.20',
    runc: 'v1.1.5',
    cniPlugins: 'v1.1.1',
    // github.com/flannel-io/flannel and github.com/flannel-io/cni-plugin releases. The lab's mirror serves the flannel
    // CNI plugin of another version (scripts/build/versions.env): its cluster.yaml names that one.
    flannel: 'v0.28.10',
    flannelCniPlugin: 'v1.7.1-flannel1',
  },
  binaries: { source: 'official' as const },
  apiServer: { extraSANs: [] as string[] },
  // What kubeadm v1.34 deploys. Nodes pull them unless images.source side-loads archives.
  images: { source: 'registry' as const, sandbox: 'registry.k8s.io/pause:3.10.1', coredns: 'registry.k8s.io/coredns/coredns:v1.12.1' },
  ssh: { user: 'root', port: 22 },
  preflight: { memoryPolicy: 'fail' as const },
  // ECDSA P-256 as k3s and RKE2 use, and kubeadm offers: every component of Kubernetes, etcd and flannel takes it,
  // and a key is made in milliseconds where RSA-2048 takes a third of a second of CPU (a cluster makes ~50).
  pki: { keyAlgorithm: 'ECDSA-P256' as const },
} as const;

/** kube-apiserver's --secure-port on every control plane (the load balancer's backends). */
export const API_SERVER_SECURE_PORT = 6443;
