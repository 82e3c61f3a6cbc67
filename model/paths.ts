// Where things live on the hosts. Pure constants shared by plan, render and activities.

/** Where release binaries go (activities/releases.ts), as their upstream install instructions put them. */
export const ETCD_BIN_DIR = '/usr/local/bin';
export const KUBERNETES_BIN_DIR = '/usr/local/bin';
export const CONTAINERD_BIN_DIR = '/usr/local/bin';
export const RUNC_PATH = '/usr/local/sbin/runc';
export const CNI_BIN_DIR = '/opt/cni/bin';
export const FLANNEL_BIN_DIR = '/usr/local/bin';

/** The files of each release hardway installs (activities/releases.ts puts them in the directories above). */
export const ETCD_BINARIES = ['etcd', 'etcdctl'] as const;
export const KUBERNETES_BINARIES = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kube-proxy',
  'kubectl',
] as const;
export type KubernetesBinary = (typeof KUBERNETES_BINARIES)[number];
/** What each role's step installs of the Kubernetes binaries. */
export const CONTROL_PLANE_BINARIES: readonly KubernetesBinary[] = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
];
export const NODE_BINARIES: readonly KubernetesBinary[] = ['kubelet', 'kube-proxy'];
export const ADMIN_BINARIES: readonly KubernetesBinary[] = ['kubectl'];
/** What a node needs of containerd's release (the v1 shims and containerd-stress are left out). */
export const CONTAINERD_BINARIES = ['containerd', 'containerd-shim-runc-v2', 'ctr'] as const;
/** The standard plugins a node's CNI configuration uses (flannel delegates to bridge, with portmap for hostPort). */
export const CNI_PLUGINS = ['bandwidth', 'bridge', 'firewall', 'host-local', 'loopback', 'portmap', 'tuning'] as const;
/** flanneld, and flannel's CNI plugin beside the standard ones. */
export const FLANNEL_BINARY = 'flanneld';
export const FLANNEL_CNI_PLUGIN_PATH = `${CNI_BIN_DIR}/flannel`;

/** hardway's own state on every host: what it installed (releases/), what each service runs on (services/). */
export const HARDWAY_STATE_DIR = '/var/lib/hardway';
export const RELEASE_STAMP_DIR = `${HARDWAY_STATE_DIR}/releases`;
export const SERVICE_STAMP_DIR = `${HARDWAY_STATE_DIR}/services`;
/** Downloads and image archives on their way in: /var/tmp/hardway-<component>-<version>, /var/tmp/hardway-images. */
export const HARDWAY_TEMP_PREFIX = '/var/tmp/hardway-';
export const IMAGE_IMPORT_DIR = `${HARDWAY_TEMP_PREFIX}images`;
/** What an interrupted write leaves beside its target (a binary, a key, a certificate, a candidate config). */
export const NEW_FILE_SUFFIX = '.hardway-new';
/**
 * Beside a file another owner had put where hardway writes whole (haproxy's package config, an operator's
 * ~/.kube/config): the copy hardway kept before it first replaced it, which a reset puts back.
 */
export const BEFORE_HARDWAY_SUFFIX = '.before-hardway';

/** Units hardway writes (the load balancer's haproxy runs on the unit of its OS package). */
export const SYSTEMD_UNIT_DIR = '/etc/systemd/system';
export const ETCD_UNIT_PATH = `${SYSTEMD_UNIT_DIR}/etcd.service`;
/**
 * How an etcd member first joins: the initial cluster, its state (new or existing) and the token, as etcd's
 * ETCD_INITIAL_* environment. etcd reads them only while its data directory is empty, so they are written only then,
 * and they are not in the unit: a change of membership never rewrites (and restarts) the members that are running.
 */
export const ETCD_BOOTSTRAP_PATH = '/etc/etcd/bootstrap.env';
export const KUBE_APISERVER_UNIT_PATH = `${SYSTEMD_UNIT_DIR}/kube-apiserver.service`;
export const KUBE_CONTROLLER_MANAGER_UNIT_PATH = `${SYSTEMD_UNIT_DIR}/kube-controller-manager.service`;
export const KUBE_SCHEDULER_UNIT_PATH = `${SYSTEMD_UNIT_DIR}/kube-scheduler.service`;
export const CONTAINERD_UNIT_PATH = `${SYSTEMD_UNIT_DIR}/containerd.service`;
export const KUBELET_UNIT_PATH = `${SYSTEMD_UNIT_DIR}/kubelet.service`;
export const KUBE_PROXY_UNIT_PATH = `${SYSTEMD_UNIT_DIR}/kube-proxy.service`;
export const FLANNEL_UNIT_PATH = `${SYSTEMD_UNIT_DIR}/flanneld.service`;

/** Every host: the managed block of /etc/hosts (render/hosts-file.ts). */
export const HOSTS_FILE = '/etc/hosts';

/** etcd members: the data directory (0700). */
export const ETCD_DATA_DIR = '/var/lib/etcd';

/** The load balancer: haproxy's configuration, the OS package's file, which hardway replaces whole. */
export const HAPROXY_CONFIG_PATH = '/etc/haproxy/haproxy.cfg';

/** Nodes: the kernel prerequisites (activities/kernel.ts), at every boot. */
export const MODULES_LOAD_PATH = '/etc/modules-load.d/hardway-kubernetes.conf';
export const SYSCTL_PATH = '/etc/sysctl.d/99-hardway-kubernetes.conf';
/** Nodes: containerd's configuration, socket, state, and the CNI configuration it reads. */
export const CONTAINERD_CONFIG_PATH = '/etc/containerd/config.toml';
export const CONTAINERD_CERTS_DIR = '/etc/containerd/certs.d';
export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';
export const CONTAINERD_ROOT_DIR = '/var/lib/containerd';
export const CONTAINERD_STATE_DIR = '/run/containerd';
/** containerd's opt plugin directory (its default: hardway's config leaves it), made by containerd at start. */
export const CONTAINERD_OPT_DIR = '/opt/containerd';
export const CNI_CONF_DIR = '/etc/cni/net.d';
/** What the CNI plugins keep: host-local's address leases (networks/), flannel's plugin's delegate configs (flannel/). */
export const CNI_STATE_DIR = '/var/lib/cni';
/** The pods' network namespaces (containerd's CRI mounts them at <dir>/cni-<id>). */
export const NETNS_DIR = '/run/netns';
/** The node's network devices: the bridge plugin's (its default name: flannel's delegate names none) and flannel's VXLAN device. */
export const CNI_BRIDGE_DEVICE = 'cni0';
export const FLANNEL_VXLAN_DEVICE = 'flannel.1';
/** The kubelet's container logs (its default podLogsRootDirectory) and their links by container. */
export const POD_LOGS_DIR = '/var/log/pods';
export const CONTAINER_LOGS_DIR = '/var/log/containers';
/** A network configuration of another CNI that hardway's would lose to is renamed aside with this suffix. */
export const CNI_DISABLED_SUFFIX = '.hardway-disabled';

/** CA host: the CA certificate and its private key (the key never leaves this directory). */
export const CA_DIR = '/var/lib/hardway/ca';
export const CA_CERT_PATH = `${CA_DIR}/ca.crt`;
export const CA_KEY_PATH = `${CA_DIR}/ca.key`;
/** The etcd CA (signs only what talks to etcd) and the front-proxy CA (the aggregation layer), beside it. */
export const ETCD_CA_CERT_PATH = `${CA_DIR}/etcd-ca.crt`;
export const ETCD_CA_KEY_PATH = `${CA_DIR}/etcd-ca.key`;
export const FRONT_PROXY_CA_CERT_PATH = `${CA_DIR}/front-proxy-ca.crt`;
export const FRONT_PROXY_CA_KEY_PATH = `${CA_DIR}/front-proxy-ca.key`;

/** etcd members: server, peer and health-check client certificates, and the CA certificate. */
export const ETCD_CONFIG_DIR = '/etc/etcd';
export const ETCD_PKI_DIR = `${ETCD_CONFIG_DIR}/pki`;
/** Control planes and the admin host: Kubernetes certificates, and the CA certificate. */
export const KUBERNETES_DIR = '/etc/kubernetes';
export const KUBERNETES_PKI_DIR = `${KUBERNETES_DIR}/pki`;
/** Nodes running a kubelet. */
export const KUBELET_DIR = '/var/lib/kubelet';
export const KUBELET_PKI_DIR = `${KUBELET_DIR}/pki`;
export const KUBE_PROXY_DIR = '/var/lib/kube-proxy';
export const KUBE_PROXY_PKI_DIR = `${KUBE_PROXY_DIR}/pki`;
/** flanneld's own identity on every node (the Node authorizer lets a kubelet read only its own Node). */
export const FLANNEL_DIR = '/etc/kube-flannel';
export const FLANNEL_PKI_DIR = `${FLANNEL_DIR}/pki`;

/** Nodes: the kubelet's and kube-proxy's configurations, the kubelet's static pods, flannel's files. */
export const KUBELET_CONFIG_PATH = `${KUBELET_DIR}/config.yaml`;
export const STATIC_POD_PATH = `${KUBERNETES_DIR}/manifests`;
export const KUBE_PROXY_CONFIG_PATH = `${KUBE_PROXY_DIR}/config.yaml`;
export const FLANNEL_NET_CONFIG_PATH = `${FLANNEL_DIR}/net-conf.json`;
export const FLANNEL_RUN_DIR = '/run/flannel';
export const FLANNEL_SUBNET_FILE = `${FLANNEL_RUN_DIR}/subnet.env`;
export const FLANNEL_CNI_CONFIG_PATH = `${CNI_CONF_DIR}/10-flannel.conflist`;
/** Control planes: kube-apiserver's audit log. */
export const KUBERNETES_LOG_DIR = '/var/log/kubernetes';
export const AUDIT_LOG_PATH = `${KUBERNETES_LOG_DIR}/audit.log`;

/** Kubeconfigs (they embed a client key: mode 0600). */
export const KUBECONFIG_PATHS = {
  'kube-controller-manager': `${KUBERNETES_DIR}/controller-manager.kubeconfig`,
  'kube-scheduler': `${KUBERNETES_DIR}/scheduler.kubeconfig`,
  admin: `${KUBERNETES_DIR}/admin.kubeconfig`,
  'super-admin': `${KUBERNETES_DIR}/super-admin.kubeconfig`,
  kubelet: `${KUBELET_DIR}/kubeconfig`,
  'kube-proxy': `${KUBE_PROXY_DIR}/kubeconfig`,
  flannel: `${FLANNEL_DIR}/kubeconfig`,
} as const;

/** Where `kubectl` looks by default on the admin host (root's): a copy of the admin kubeconfig. */
export const ADMIN_USER_KUBECONFIG = '/root/.kube/config';

/** The API server's encryption-at-rest configuration (contains a secret key: mode 0600). */
export const ENCRYPTION_CONFIG_PATH = `${KUBERNETES_DIR}/encryption-config.yaml`;

/**
 * The first line of files hardway writes whole where another owner may have put a file before it (haproxy's package,
 * an operator's ~/.kube/config): a reset removes such a file only when it still begins with this.
 */
export const haproxyConfigHeader = (cluster: string): string => `# Managed by hardway for cluster ${cluster}`;
export const kubeconfigHeader = (cluster: string): string => `# Written by hardway for cluster ${cluster}`;

export const MODE_PUBLIC = '0644';
export const MODE_SECRET = '0600';

/** PlannedFile.source values. */
export const fileSource = {
  cert: (certificateId: string) => `cert:${certificateId}`,
  key: (certificateId: string) => `key:${certificateId}`,
  /** The cluster CA's certificate and key; the other CAs' are "ca-cert:<id>" and "ca-key:<id>". */
  caCert: 'ca-cert',
  caKey: 'ca-key',
  authorityCert: (caId: string) => (caId === 'ca' ? 'ca-cert' : `ca-cert:${caId}`),
  authorityKey: (caId: string) => (caId === 'ca' ? 'ca-key' : `ca-key:${caId}`),
  publicKey: (id: string) => `public-key:${id}`,
  kubeconfig: (certificateId: string) => `kubeconfig:${certificateId}`,
  encryptionConfig: 'encryption-config',
} as const;
