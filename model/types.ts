// The shapes every layer agrees on. Pure types only: no runtime code here.
//
// ClusterSpec is what the user writes (cluster.yaml, validated by model/spec.ts).
// ClusterPlan is what plan(spec) derives from it, deterministically (model/plan.ts).
// Both are plain JSON (no Map/Set/Date) so they can travel through Temporal payloads.
import type { RuleId } from './rule-ids.js';

export type { RuleId } from './rule-ids.js';

export const ROLES = ['ca', 'etcd', 'loadbalancer', 'controlplane', 'worker', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const BINARY_SOURCES = ['official', 'mirror', 'local'] as const;
export type BinarySourceKind = (typeof BINARY_SOURCES)[number];

export const IMAGE_SOURCES = ['registry', 'mirror', 'local'] as const;
export type ImageSourceKind = (typeof IMAGE_SOURCES)[number];

/** Versions of what hardway installs on hosts. */
export interface Versions {
  kubernetes: string;
  etcd: string;
  containerd: string;
  runc: string;
  cniPlugins: string;
  /** flanneld (the pod network's agent, a host service on every node) and flannel's CNI plugin. */
  flannel: string;
  flannelCniPlugin: string;
}

/**
 * Container images the nodes need, and where nodes get them: pulled by containerd from their registries, or
 * side-loaded from image archives (a mirror URL or a directory on the worker's machine, each with a REFERENCES
 * file of "<archive> <reference>" lines and a SHA256SUMS file) for air-gapped hosts.
 */
export interface ImagesSpec {
  source: ImageSourceKind;
  mirror?: string;
  directory?: string;
  /** containerd's sandbox ("pause") image. */
  sandbox: string;
  coredns: string;
  /** Further references every node gets (side-loaded sources only): the images your workloads need offline. */
  extra: string[];
}

export const MEMORY_POLICIES = ['fail', 'warn'] as const;
/** The algorithm of the keys hardway makes (kubeadm's names for its `encryptionAlgorithm`). */
export const KEY_ALGORITHMS = ['ECDSA-P256', 'RSA-2048', 'RSA-3072', 'RSA-4096'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];
export type MemoryPolicy = (typeof MEMORY_POLICIES)[number];

export interface HostSpec {
  name: string;
  address: string;
  roles: Role[];
  ssh?: { user?: string; port?: number };
}

export interface ClusterSpec {
  name: string;
  hosts: HostSpec[];
  networks: {
    /** Infrastructure network, e.g. 192.168.56.0/24. Optional; when given every host address must be inside. */
    infrastructure?: string;
    pods: string;
    nodeMask: number;
    services: string;
    clusterDns: string;
  };
  /** API front end. Either a host with role loadbalancer, or an external address. */
  loadBalancer: { port: number; external?: { address: string } };
  versions: Versions;
  binaries: { source: BinarySourceKind; mirror?: string; directory?: string };
  images: ImagesSpec;
  /** Extra names and addresses in the API server certificate, e.g. an external load balancer's DNS name. */
  apiServer: { extraSANs: string[] };
  /** How hardway reaches hosts. Defaults: user root, port 22, ~/.ssh/id_ed25519 or the agent, ~/.ssh/known_hosts. */
  ssh: {
    user: string;
    port: number;
    identityFile?: string;
    knownHostsFile?: string;
    /** host name -> "SHA256:..." fingerprints, an alternative to known_hosts */
    fingerprints?: Record<string, string>;
  };
  preflight: { memoryPolicy: MemoryPolicy };
  /** Keys hardway makes from now on; keys already on the hosts are kept (a renewal keeps its key). */
  pki: { keyAlgorithm: KeyAlgorithm };
}

export type Severity = 'error' | 'warning';

export interface Problem {
  severity: Severity;
  /** Field path in the cluster file, e.g. "hosts[3].address" ("" for the whole file). */
  path: string;
  message: string;
  /** What to do about it. */
  fix?: string;
  /** 1-based line and column of the offending node in the cluster file, when it can be located. */
  line?: number;
  column?: number;
  /** Stable machine-readable rule id, e.g. "unknown-field", "etcd-even" (model/rule-ids.ts). */
  code?: RuleId;
}

export interface PlannedHost {
  name: string;
  address: string;
  roles: Role[];
  ssh: { user: string; port: number };
  /**
   * Pod range of this node. Set exactly for hosts that run a kubelet: every host with the role
   * controlplane or worker (see model/roles.ts runsKubelet). Control planes register as (tainted) nodes
   * so that flannel gives the API server a route into the pod network (webhooks, aggregated APIs).
   */
  podCidr?: string;
}

export type KeyUsage = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign' | 'serverAuth' | 'clientAuth';

export interface CertificatePlacement {
  host: string;
  certPath: string;
  keyPath: string;
  /** Where the CA certificate goes next to it on that host. */
  caPath: string;
}

export interface PlannedCertificate {
  /** Stable id, e.g. "etcd-server-etcd-1", "kube-apiserver", "admin". */
  id: string;
  commonName: string;
  organization?: string;
  dnsNames: string[];
  ipAddresses: string[];
  usages: KeyUsage[];
  isCA: boolean;
  /** The id of the CA certificate that signs this one (leaves only): "ca", "etcd-ca" or "front-proxy-ca". */
  issuer?: string;
  /** A bare key pair, not a certificate (the service-account signing key: certPath holds the public key). */
  keyPairOnly?: boolean;
  /** Hosts that receive this certificate and key, and where. */
  placements: CertificatePlacement[];
  validityDays: number;
  /** The algorithm of a key made for it. Absent in plans of releases before 0.6: RSA (2048 for leaves, 3072 for CAs). */
  keyAlgorithm?: KeyAlgorithm;
}

export interface PlannedFile {
  host: string;
  path: string;
  mode: string; // octal, e.g. "0644"
  /**
   * What produces the contents (see model/paths.ts fileSource helpers):
   *   "cert:<certificate id>"     PEM certificate
   *   "key:<certificate id>"      PEM private key (mode 0600)
   *   "ca-cert"                   the cluster CA certificate (0644); "ca-key" only on the CA host (0600)
   *   "ca-cert:<id>", "ca-key:<id>"  the same for the etcd CA and the front-proxy CA
   *   "public-key:<id>"           the public half of a key pair (sa.pub)
   *   "kubeconfig:<certificate id>"  a kubeconfig embedding that client certificate (0600)
   *   "encryption-config"         the API server's secret encryption config (0600)
   */
  source: string;
}

export interface ClusterPlan {
  name: string;
  hosts: PlannedHost[];
  networks: {
    infrastructure?: string;
    pods: string;
    nodeMask: number;
    services: string;
    /** First usable address of the service range (network address + 1): the `kubernetes` service. */
    kubernetesService: string;
    clusterDns: string;
  };
  /** Node name -> pod CIDR, including ranges of nodes that have been removed (kept reserved). */
  podAllocations: Record<string, string>;
  etcd: { members: { name: string; address: string; clientUrl: string; peerUrl: string }[]; initialCluster: string };
  /** The API front end (port: where clients connect) and the API servers behind it (port: their --secure-port). */
  apiServer: { address: string; port: number; url: string; controlPlanes: { name: string; address: string; port: number }[] };
  ca: { host: string; certPath: string; keyPath: string };
  certificates: PlannedCertificate[];
  files: PlannedFile[];
  versions: Versions;
  binaries: { source: BinarySourceKind; mirror?: string; directory?: string };
  images: ImagesSpec;
  ssh: ClusterSpec['ssh'];
  preflight: ClusterSpec['preflight'];
  pki: ClusterSpec['pki'];
  warnings: Problem[];
}
