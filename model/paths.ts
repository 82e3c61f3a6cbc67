// Where things live on the hosts. Pure constants shared by plan, render and activities.

/** Where release binaries go (activities/releases.ts), as their upstream install instructions put them. */
export const ETCD_BIN_DIR = '/usr/local/bin';
export const KUBERNETES_BIN_DIR = '/usr/local/bin';
export const CONTAINERD_BIN_DIR = '/usr/local/bin';
export const RUNC_PATH = '/usr/local/sbin/runc';
export const CNI_BIN_DIR = '/opt/cni/bin';
export const FLANNEL_BIN_DIR = '/usr/local/bin';

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
export const ETCD_PKI_DIR = '/etc/etcd/pki';
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
