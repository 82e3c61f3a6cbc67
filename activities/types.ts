// The contract between the cluster workflow and its activities. Types only: the workflow imports nothing else
// from activities/. Inputs and results are public data: never a private key, token or key material.
//
// Every activity takes ONE input: the fragment of the plan its host needs (built by the phase that schedules
// it, see workflows/phases/). Never the whole plan: a 110-host plan is ~2 MB of history per phase otherwise.
//
// Activity types are path-style names, "<phase>/<step>", and the same name (plus "/<host>") is the activity
// id, the UI summary and the step's name in the status: one name everywhere, as kubeadm's "etcd/local".
import type { HostFootprint } from '../model/footprint.js';
import type { CertificatePlacement, PlannedCertificate, Role } from '../model/types.js';

/** How to reach one host over SSH. Unset fields take the worker's defaults (activities/ssh-shells.ts). */
export interface HostTarget {
  name: string;
  address: string;
  user: string;
  port: number;
  /** The cluster file's ssh.identityFile, if any (a path on the worker's machine, never key material). */
  identityFile?: string;
  knownHostsFile?: string;
  /** A pinned host key fingerprint ("SHA256:..."), from the cluster file's ssh.fingerprints. */
  fingerprint?: string;
}

/** What every input carries: the cluster's name and the host the step converges. */
export interface StepInput {
  cluster: string;
  target: HostTarget;
  /**
   * Set by the workflow on the first pass of a rolling step (every host at once): a running service that needs a
   * restart is not restarted but marked for it on its host, and the report says `restartDeferred`. The second pass
   * takes those hosts one at a time, without this flag, and restarts.
   */
  deferRestarts?: boolean;
}

export interface PreflightInput extends StepInput {
  roles: Role[];
  memoryPolicy: 'fail' | 'warn';
}

export interface HostsFileInput extends StepInput {
  /** Every cluster host, in cluster-file order. */
  hosts: { name: string; address: string }[];
}

/** The CA host: every CA of the cluster (cluster, etcd, front-proxy), and the service-account key pair shared by the control planes. */
export interface CertificateAuthorityInput extends StepInput {
  authorities: { certificate: PlannedCertificate; certPath: string; keyPath: string }[];
  /** Holders of the one service-account key pair (control planes), with how to reach each. */
  serviceAccounts?: { certificate: PlannedCertificate; holders: { target: HostTarget; at: CertificatePlacement }[] };
}

/** One host's certificates; each PlannedCertificate keeps only this host's placement. */
export interface HostCertificatesInput extends StepInput {
  /** The CA host, and where each CA's certificate and key are on it, by CA id (a certificate's `issuer`). */
  ca: { target: HostTarget; authorities: Record<string, { certPath: string; keyPath: string }> };
  certificates: PlannedCertificate[];
}

export interface BinariesInput {
  source: 'official' | 'mirror' | 'local';
  mirror?: string;
  directory?: string;
}

export interface EtcdMemberInput extends StepInput {
  member: { name: string; address: string; clientUrl: string; peerUrl: string };
  /** "name=https://addr:2380,..." of every member. */
  initialCluster: string;
  version: string;
  binaries: BinariesInput;
  tls: { server: CertificatePlacement; peer: CertificatePlacement };
  /** The health-check client certificate on the member: what checks that it answers (never its server certificate). */
  client: CertificatePlacement;
  /** Every member (this one included): a restart waits until the others hold the quorum without it. */
  members: { name: string; clientUrl: string }[];
}

/** Running members to ask, in order (the first that answers): their target and health-check client certificate. */
export interface EtcdAsker {
  target: HostTarget;
  client: CertificatePlacement;
  clientUrl: string;
}

/** A member joining a running cluster: added as a learner through `via`, set up, started, promoted. */
export interface EtcdJoinInput extends EtcdMemberInput {
  via: EtcdAsker[];
}

/** A member leaving (`replaceEtcdMember`): removed from the membership through `via`. The target is the member. */
export interface EtcdLeaveInput extends StepInput {
  member: { name: string; peerUrl: string };
  via: EtcdAsker[];
}

export interface EtcdQuorumInput extends StepInput {
  members: { name: string; clientUrl: string }[];
  /** The health-check client certificate on the target host. */
  client: CertificatePlacement;
  /** The other members, asked in order when the target cannot be reached: a quorum may stand without it. */
  others: { target: HostTarget; client: CertificatePlacement }[];
}

export interface LoadBalancerInput extends StepInput {
  address: string;
  port: number;
  controlPlanes: { name: string; address: string; port: number }[];
}

/** A node's container runtime: containerd, runc and the CNI plugins, configured for the host (render/containerd.ts). */
export interface ContainerRuntimeInput extends StepInput {
  versions: { containerd: string; runc: string; cniPlugins: string };
  binaries: BinariesInput;
  sandboxImage: string;
}

/** Where a node's images come from (the cluster file's images section, without the references). */
export interface ImageSourceInput {
  source: 'registry' | 'mirror' | 'local';
  mirror?: string;
  directory?: string;
}

/** The images a node must have in containerd's k8s.io namespace. */
export interface NodeImagesInput extends StepInput {
  images: ImageSourceInput;
  references: string[];
}

/** A kubeconfig a step writes: it names its client certificate and key by path (render/kubeconfig.ts). */
export interface KubeconfigFile {
  path: string;
  user: string;
  server: string;
  caPath: string;
  certPath: string;
  keyPath: string;
}

/** The API server's encryption-at-rest config: one key, the same on every control plane, made in the worker's memory. */
export interface EncryptionConfigInput extends StepInput {
  path: string;
  /** Every control plane (the target is one of them). */
  holders: HostTarget[];
}

/** kube-apiserver, kube-controller-manager and kube-scheduler on one control plane (render/controlplane.ts). */
export interface ControlPlaneInput extends StepInput {
  version: string;
  binaries: BinariesInput;
  /** The infrastructure address: advertised to the cluster (the `kubernetes` endpoints). */
  address: string;
  securePort: number;
  etcdServers: string[];
  serviceRange: string;
  podRange: string;
  nodeMask: number;
  serviceAccount: { issuer: string; keyFiles: string[]; signingKeyFile: string };
  encryptionConfigPath: string;
  tls: {
    server: CertificatePlacement;
    etcdClient: CertificatePlacement;
    kubeletClient: CertificatePlacement;
    frontProxyClient?: CertificatePlacement;
  };
  /** The cluster CA certificate on the host (clients, kubelet serving certificates). */
  caPath: string;
  controllerManager: KubeconfigFile;
  scheduler: KubeconfigFile;
  /** admin and super-admin kubeconfigs for the operator and the cluster-wide steps that run here. */
  kubeconfigs: KubeconfigFile[];
  /** The other control planes' API servers: a restart of this one waits until one of them is ready. */
  peers?: { name: string; url: string }[];
}

/** Cluster-wide objects applied with server-side apply through the load balancer, from a control plane. */
export interface ClusterObjectsInput extends StepInput {
  /** The control plane that runs kubectl (the target names the step's subject: a node, or that control plane). */
  via: HostTarget;
  /** The kubeconfig on `via` that applies them (super-admin for RBAC, admin otherwise). */
  kubeconfig: string;
  /** The API front end, checked for /readyz. */
  apiServerUrl: string;
  caPath: string;
  /** The kubeconfig's client certificate and key on `via`: reads of single objects go by curl, not kubectl. */
  client: { certPath: string; keyPath: string };
}

export interface RbacInput extends ClusterObjectsInput {
  adminGroup: string;
  kubeletClientUser: string;
  /** flanneld's user (its certificate's common name), when the plan has that certificate. */
  flannelUser?: string;
}

/** A node's Node object, created before its kubelet registers so that its pod range is the plan's. */
export interface NodeRegistrationInput extends ClusterObjectsInput {
  node: { name: string; address: string; podCidr: string; controlPlane: boolean };
}

/** kubelet, kube-proxy and the node's CNI configuration (render/kubelet.ts, render/kube-proxy.ts, render/flannel.ts). */
export interface NodeInput extends StepInput {
  versions: { kubernetes: string; flannelCniPlugin: string };
  binaries: BinariesInput;
  address: string;
  podCidr: string;
  podRange: string;
  clusterDns: string;
  clusterDomain: string;
  controlPlane: boolean;
  /** The node's certificate: its client certificate to the API and its serving certificate. */
  tls: CertificatePlacement;
  kubelet: KubeconfigFile;
  kubeProxy: KubeconfigFile;
}

/** remove-worker: the node to cordon, drain and delete (the target is the node; kubectl runs on `via`). */
export interface NodeDrainInput extends ClusterObjectsInput {
  node: string;
  /** Its host is gone: cordon and delete, without a drain that would wait for a kubelet that cannot answer. */
  hostLost: boolean;
}

export interface NodeReadyInput extends ClusterObjectsInput {
  node: { name: string; podCidr: string };
}

/** flanneld on one node, pinned to its infrastructure address. */
export interface FlannelInput extends StepInput {
  version: string;
  binaries: BinariesInput;
  address: string;
  podRange: string;
  podCidr: string;
  /** flanneld's own kubeconfig (its certificate, bound to read Nodes and patch their status). */
  kubeconfig: KubeconfigFile;
}

export interface CoreDnsInput extends ClusterObjectsInput {
  /** The nodes CoreDNS may run on (the workers): their resolvers decide whether it forwards other names. */
  nodes?: HostTarget[];
  image: string;
  clusterDns: string;
  clusterDomain: string;
  replicas: number;
}

/** kubectl and the admin kubeconfig on the admin host. */
export interface AdminInput extends StepInput {
  version: string;
  binaries: BinariesInput;
  /** The admin kubeconfig in /etc/kubernetes, and the copy kubectl finds by default. */
  kubeconfigs: KubeconfigFile[];
}

/**
 * One host back to its state before hardway (`hardway reset`; the cleaning of a removed worker): what hardway put there,
 * built by the workflow from the plan (model/footprint.ts). Paths, unit and device names only.
 */
export interface ResetHostInput extends StepInput {
  footprint: HostFootprint;
}

export interface StepReport {
  host: string;
  /** Human-readable list of what changed ("wrote /etc/hosts", "restarted etcd"); empty on a no-op. */
  changed: string[];
  /** Observations worth showing (warnings, facts). */
  notes: string[];
  /** The attempt that succeeded (1 = first try). */
  attempt: number;
  /** A restart was needed and, as the input asked (`deferRestarts`), left marked on the host for a later pass. */
  restartDeferred?: boolean;
}

export interface HostFacts {
  os: string;
  arch: string;
  memoryMiB: number;
  /** The NIC that holds the host's infrastructure address: every service binds and advertises there. */
  infraInterface: string;
  /** The NIC of the default route, and its address. */
  defaultRouteInterface?: string;
  defaultRouteAddress?: string;
  /** The default route leaves through another NIC than the infrastructure one (the Vagrant/VirtualBox trap). */
  defaultNicIsNotInfra: boolean;
  /** The cgroup hierarchy the host's processes live in: the kubelet and containerd are configured from it. */
  cgroup: { version: 1 | 2; hybrid: boolean };
  /** Effective capabilities that change how nodes are configured (known: CapEff was readable). */
  capabilities: { sysResource: boolean; known: boolean };
  /** Active swap devices (the kubelet is configured around them). */
  swapDevices: number;
  /** Kernel support a node needs: the overlay filesystem and bridge netfilter. */
  modules: { overlay: boolean; brNetfilter: boolean };
  /** Kernel settings of WATCHED_SYSCTLS that cannot be written here, and those the kernel does not have. */
  readOnlySysctls: string[];
  missingSysctls: string[];
}

export interface PreflightReport extends StepReport {
  facts: HostFacts;
}

/** The details a failed step's ApplicationFailure carries (activities/step.ts), read by the workflow's runner. */
export interface StepFailureDetails {
  attempt: number;
  /** What this and earlier attempts changed before the failure: kept in the step's report. */
  changed: string[];
}

export interface ClusterActivities {
  'preflight/checks'(input: PreflightInput): Promise<PreflightReport>;
  'hosts/hosts-file'(input: HostsFileInput): Promise<StepReport>;
  'pki/authority'(input: CertificateAuthorityInput): Promise<StepReport>;
  'pki/certificates'(input: HostCertificatesInput): Promise<StepReport>;
  'etcd/member'(input: EtcdMemberInput): Promise<StepReport>;
  'etcd/quorum'(input: EtcdQuorumInput): Promise<StepReport>;
  'etcd/join'(input: EtcdJoinInput): Promise<StepReport>;
  'remove/etcd-leave'(input: EtcdLeaveInput): Promise<StepReport>;
  'loadbalancer/haproxy'(input: LoadBalancerInput): Promise<StepReport>;
  'runtime/containerd'(input: ContainerRuntimeInput): Promise<StepReport>;
  'runtime/images'(input: NodeImagesInput): Promise<StepReport>;
  'controlplane/encryption-config'(input: EncryptionConfigInput): Promise<StepReport>;
  'controlplane/services'(input: ControlPlaneInput): Promise<StepReport>;
  'controlplane/rbac'(input: RbacInput): Promise<StepReport>;
  'workers/register'(input: NodeRegistrationInput): Promise<StepReport>;
  'workers/kubelet'(input: NodeInput): Promise<StepReport>;
  'workers/ready'(input: NodeReadyInput): Promise<StepReport>;
  'remove/drain'(input: NodeDrainInput): Promise<StepReport>;
  'addons/flannel'(input: FlannelInput): Promise<StepReport>;
  'addons/coredns'(input: CoreDnsInput): Promise<StepReport>;
  'admin/kubectl'(input: AdminInput): Promise<StepReport>;
  'reset/host'(input: ResetHostInput): Promise<StepReport>;
  /** remove-worker / replace-etcd-member: the same as reset/host, for the host taken out. */
  'remove/clean'(input: ResetHostInput): Promise<StepReport>;
}

export type ActivityName = keyof ClusterActivities;
export type ActivityInput<K extends ActivityName> = Parameters<ClusterActivities[K]>[0];
export type ActivityResult<K extends ActivityName> = Awaited<ReturnType<ClusterActivities[K]>>;
