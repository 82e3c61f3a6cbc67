// The certificate catalogue and the file manifest, following Kubernetes the hard way and kubeadm
// conventions. Pure.
//
// Three CAs, as kubeadm has them, all on the CA host: the cluster CA ("ca") signs what talks to the API and the
// kubelets; the etcd CA signs only etcd's own certificates and the API server's etcd client, so that no node
// certificate is trusted by etcd; the front-proxy CA signs the aggregation layer's client. Their private keys are
// placed on the CA host only; pki/ reads them there into memory to sign, and no other placement refers to them.
// Consequence for render/: kube-controller-manager runs WITHOUT --cluster-signing-cert-file/-key-file (the
// CA key never leaves the CA host), so every kubelet gets a client+serving certificate issued here.
import type { CertificatePlacement, KeyAlgorithm, KeyUsage, PlannedCertificate, PlannedFile, PlannedHost } from './types.js';
import { runsKubelet } from './roles.js';
import {
  CA_CERT_PATH,
  CA_KEY_PATH,
  ETCD_CA_CERT_PATH,
  ETCD_CA_KEY_PATH,
  FRONT_PROXY_CA_CERT_PATH,
  FRONT_PROXY_CA_KEY_PATH,
  ENCRYPTION_CONFIG_PATH,
  ETCD_PKI_DIR,
  KUBECONFIG_PATHS,
  KUBELET_PKI_DIR,
  KUBE_PROXY_PKI_DIR,
  FLANNEL_PKI_DIR,
  KUBERNETES_PKI_DIR,
  MODE_PUBLIC,
  MODE_SECRET,
  fileSource,
} from './paths.js';

export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 365;
/** The cluster DNS domain (kubelet --cluster-domain, CoreDNS). */
export const CLUSTER_DOMAIN = 'cluster.local';

const CA_USAGES: KeyUsage[] = ['digitalSignature', 'keyEncipherment', 'keyCertSign', 'cRLSign'];
const SERVER: KeyUsage[] = ['digitalSignature', 'keyEncipherment', 'serverAuth'];
const CLIENT: KeyUsage[] = ['digitalSignature', 'keyEncipherment', 'clientAuth'];
const SERVER_CLIENT: KeyUsage[] = ['digitalSignature', 'keyEncipherment', 'serverAuth', 'clientAuth'];
const SIGNING_KEY: KeyUsage[] = ['digitalSignature', 'keyEncipherment'];

export interface CertificateInput {
  clusterName: string;
  /** All hosts, in file order, with their roles and addresses. */
  hosts: PlannedHost[];
  /** First usable address of the service range. */
  kubernetesService: string;
  /** Address of the API front end (load balancer host or external). */
  apiServerAddress: string;
  /** Name of the load balancer host, when the front end is one of the hosts. */
  loadBalancerHost?: string;
  /** The cluster file's apiServer.extraSANs: names and addresses clients also reach the API by. */
  extraSANs?: string[];
  /** The algorithm of the keys made for these certificates; RSA when absent (RSA-2048 leaves, RSA-3072 CAs). */
  keyAlgorithm?: KeyAlgorithm;
}

/** A CA's key: RSA-2048 leaves get an RSA-3072 CA (as before 0.6), any other algorithm the leaves' own. */
export function authorityKeyAlgorithm(leaves: KeyAlgorithm): KeyAlgorithm {
  return leaves === 'RSA-2048' ? 'RSA-3072' : leaves;
}

/** Certificate ids that get a kubeconfig next to them, and where it goes. */
export function kubeconfigPathFor(certificateId: string): string | undefined {
  if (certificateId === 'kube-controller-manager') return KUBECONFIG_PATHS['kube-controller-manager'];
  if (certificateId === 'kube-scheduler') return KUBECONFIG_PATHS['kube-scheduler'];
  if (certificateId === 'admin') return KUBECONFIG_PATHS.admin;
  if (certificateId === 'super-admin') return KUBECONFIG_PATHS['super-admin'];
  if (certificateId === 'kube-proxy') return KUBECONFIG_PATHS['kube-proxy'];
  if (certificateId === FLANNEL_CERTIFICATE) return KUBECONFIG_PATHS.flannel;
  if (certificateId.startsWith('kubelet-')) return KUBECONFIG_PATHS.kubelet;
  return undefined;
}

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

function place(host: string, dir: string, base: string, caPath: string): CertificatePlacement {
  return { host, certPath: `${dir}/${base}.crt`, keyPath: `${dir}/${base}.key`, caPath };
}

/** The CA certificates' ids. */
export const CLUSTER_CA = 'ca';
export const ETCD_CA = 'etcd-ca';
export const FRONT_PROXY_CA = 'front-proxy-ca';
/** The service-account signing key pair (not a certificate). */
export const SERVICE_ACCOUNT_KEY = 'sa';
/** flanneld's client certificate (one identity on every node, as kube-proxy's), and its user name for RBAC. */
export const FLANNEL_CERTIFICATE = 'flannel';
export const FLANNEL_USER = 'hardway:flannel';
/** The group of the admin certificate, bound to the cluster-admin ClusterRole. */
export const CLUSTER_ADMINS_GROUP = 'hardway:cluster-admins';

// Where each host keeps the CA certificate that verifies its peers (kubeadm's paths).
const ETCD_CA_ON_MEMBER = `${ETCD_PKI_DIR}/ca.crt`;
const ETCD_CA_ON_CONTROL_PLANE = `${KUBERNETES_PKI_DIR}/etcd/ca.crt`;
const FRONT_PROXY_CA_ON_CONTROL_PLANE = `${KUBERNETES_PKI_DIR}/front-proxy-ca.crt`;
const K8S_CA = `${KUBERNETES_PKI_DIR}/ca.crt`;
const KUBELET_CA = `${KUBELET_PKI_DIR}/ca.crt`;
const KUBE_PROXY_CA = `${KUBE_PROXY_PKI_DIR}/ca.crt`;
const FLANNEL_CA = `${FLANNEL_PKI_DIR}/ca.crt`;

/**
 * The certificate catalogue, in a fixed order: ca, etcd-ca, front-proxy-ca, etcd-server-<m> and etcd-peer-<m> per
 * member, etcd-healthcheck-client, apiserver-etcd-client, kube-apiserver, apiserver-kubelet-client,
 * kube-controller-manager, kube-scheduler, sa (a key pair), front-proxy-client, kubelet-<node> per kubelet node,
 * kube-proxy, flannel, admin, super-admin.
 *
 * Placement choices:
 *  - kubelet-<node> and kube-proxy go to every host that runs a kubelet (controlplane and worker roles).
 *  - admin goes to the admin host (if any) AND to every control plane (like kubeadm's admin.conf), so that
 *    cluster add-ons (flannel, CoreDNS, RBAC for the API server -> kubelet) can be applied from a
 *    control plane when the cluster has no admin host.
 *  - sa is one key pair shared by all control planes (tokens must verify on every one).
 *  - super-admin (system:masters) goes to the control planes only; admin (hardway:cluster-admins) also to the
 *    admin host.
 */
export function buildCertificates(input: CertificateInput): PlannedCertificate[] {
  const { hosts } = input;
  const caHost = hosts.find((h) => h.roles.includes('ca'));
  const etcd = hosts.filter((h) => h.roles.includes('etcd'));
  const cps = hosts.filter((h) => h.roles.includes('controlplane'));
  const nodes = hosts.filter((h) => runsKubelet(h.roles));
  const admin = hosts.find((h) => h.roles.includes('admin'));

  const certs: PlannedCertificate[] = [];
  const algorithm = (isCA: boolean): { keyAlgorithm?: KeyAlgorithm } =>
    input.keyAlgorithm === undefined ? {} : { keyAlgorithm: isCA ? authorityKeyAlgorithm(input.keyAlgorithm) : input.keyAlgorithm };
  /** A leaf certificate, signed by the cluster CA unless `issuer` says otherwise. */
  const leaf = (c: Omit<PlannedCertificate, 'isCA' | 'validityDays' | 'issuer'> & { issuer?: string }): void => {
    certs.push({ ...c, issuer: c.issuer ?? CLUSTER_CA, isCA: false, validityDays: LEAF_VALIDITY_DAYS, ...algorithm(false) });
  };
  const authority = (id: string, commonName: string, certPath: string, keyPath: string): void => {
    certs.push({
      id,
      commonName,
      organization: 'hardway',
      dnsNames: [],
      ipAddresses: [],
      usages: CA_USAGES,
      isCA: true,
      validityDays: CA_VALIDITY_DAYS,
      ...algorithm(true),
      placements: caHost ? [{ host: caHost.name, certPath, keyPath, caPath: certPath }] : [],
    });
  };

  authority(CLUSTER_CA, `hardway ${input.clusterName} CA`, CA_CERT_PATH, CA_KEY_PATH);
  authority(ETCD_CA, `hardway ${input.clusterName} etcd CA`, ETCD_CA_CERT_PATH, ETCD_CA_KEY_PATH);
  authority(FRONT_PROXY_CA, `hardway ${input.clusterName} front-proxy CA`, FRONT_PROXY_CA_CERT_PATH, FRONT_PROXY_CA_KEY_PATH);

  for (const m of etcd) {
    const sans = { dnsNames: uniq([m.name, 'localhost']), ipAddresses: uniq([m.address, '127.0.0.1']) };
    leaf({
      id: `etcd-server-${m.name}`,
      commonName: m.name,
      ...sans,
      usages: SERVER_CLIENT,
      issuer: ETCD_CA,
      placements: [place(m.name, ETCD_PKI_DIR, 'server', ETCD_CA_ON_MEMBER)],
    });
    leaf({
      id: `etcd-peer-${m.name}`,
      commonName: m.name,
      ...sans,
      usages: SERVER_CLIENT,
      issuer: ETCD_CA,
      placements: [place(m.name, ETCD_PKI_DIR, 'peer', ETCD_CA_ON_MEMBER)],
    });
  }
  leaf({
    id: 'etcd-healthcheck-client',
    commonName: 'kube-etcd-healthcheck-client',
    dnsNames: [],
    ipAddresses: [],
    usages: CLIENT,
    issuer: ETCD_CA,
    placements: etcd.map((m) => place(m.name, ETCD_PKI_DIR, 'healthcheck-client', ETCD_CA_ON_MEMBER)),
  });
  leaf({
    id: 'apiserver-etcd-client',
    commonName: 'kube-apiserver-etcd-client',
    dnsNames: [],
    ipAddresses: [],
    usages: CLIENT,
    issuer: ETCD_CA,
    placements: cps.map((h) => place(h.name, KUBERNETES_PKI_DIR, 'apiserver-etcd-client', ETCD_CA_ON_CONTROL_PLANE)),
  });

  const dnsNames = uniq([
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${CLUSTER_DOMAIN}`,
    'localhost',
    ...cps.map((h) => h.name),
    ...(input.loadBalancerHost ? [input.loadBalancerHost] : []),
    ...(input.extraSANs ?? []).filter((s) => !IPV4.test(s)),
  ]);
  const ipAddresses = uniq([
    input.kubernetesService,
    input.apiServerAddress,
    ...cps.map((h) => h.address),
    '127.0.0.1',
    ...(input.extraSANs ?? []).filter((s) => IPV4.test(s)),
  ]);
  leaf({
    id: 'kube-apiserver',
    commonName: 'kubernetes',
    dnsNames,
    ipAddresses,
    usages: SERVER,
    placements: cps.map((h) => place(h.name, KUBERNETES_PKI_DIR, 'apiserver', K8S_CA)),
  });
  leaf({
    id: 'apiserver-kubelet-client',
    commonName: 'kube-apiserver-kubelet-client',
    dnsNames: [],
    ipAddresses: [],
    usages: CLIENT,
    placements: cps.map((h) => place(h.name, KUBERNETES_PKI_DIR, 'apiserver-kubelet-client', K8S_CA)),
  });
  leaf({
    id: 'kube-controller-manager',
    commonName: 'system:kube-controller-manager',
    organization: 'system:kube-controller-manager',
    dnsNames: [],
    ipAddresses: [],
    usages: CLIENT,
    placements: cps.map((h) => place(h.name, KUBERNETES_PKI_DIR, 'controller-manager', K8S_CA)),
  });
  leaf({
    id: 'kube-scheduler',
    commonName: 'system:kube-scheduler',
    organization: 'system:kube-scheduler',
    dnsNames: [],
    ipAddresses: [],
    usages: CLIENT,
    placements: cps.map((h) => place(h.name, KUBERNETES_PKI_DIR, 'scheduler', K8S_CA)),
  });
  leaf({
    id: SERVICE_ACCOUNT_KEY,
    commonName: 'service-accounts',
    dnsNames: [],
    ipAddresses: [],
    usages: SIGNING_KEY,
    keyPairOnly: true,
    // kubeadm's names: sa.key signs service-account tokens, sa.pub verifies them on every API server.
    placements: cps.map((h) => ({
      host: h.name,
      certPath: `${KUBERNETES_PKI_DIR}/sa.pub`,
      keyPath: `${KUBERNETES_PKI_DIR}/sa.key`,
      caPath: K8S_CA,
    })),
  });
  leaf({
    id: 'front-proxy-client',
    commonName: 'front-proxy-client',
    dnsNames: [],
    ipAddresses: [],
    usages: CLIENT,
    issuer: FRONT_PROXY_CA,
    placements: cps.map((h) => place(h.name, KUBERNETES_PKI_DIR, 'front-proxy-client', FRONT_PROXY_CA_ON_CONTROL_PLANE)),
  });
  for (const n of nodes) {
    leaf({
      id: `kubelet-${n.name}`,
      commonName: `system:node:${n.name}`,
      organization: 'system:nodes',
      dnsNames: [n.name],
      ipAddresses: [n.address],
      usages: SERVER_CLIENT,
      placements: [place(n.name, KUBELET_PKI_DIR, 'kubelet', KUBELET_CA)],
    });
  }
  leaf({
    id: 'kube-proxy',
    commonName: 'system:kube-proxy',
    organization: 'system:node-proxier',
    dnsNames: [],
    ipAddresses: [],
    usages: CLIENT,
    placements: nodes.map((h) => place(h.name, KUBE_PROXY_PKI_DIR, 'kube-proxy', KUBE_PROXY_CA)),
  });
  leaf({
    id: FLANNEL_CERTIFICATE,
    // Bound by controlplane/rbac to what flanneld needs: read every Node, patch Node status (its lease annotations).
    commonName: FLANNEL_USER,
    dnsNames: [],
    ipAddresses: [],
    usages: CLIENT,
    placements: nodes.map((h) => place(h.name, FLANNEL_PKI_DIR, 'flannel', FLANNEL_CA)),
  });
  const adminHosts = uniq([...(admin ? [admin.name] : []), ...cps.map((h) => h.name)]);
  leaf({
    id: 'admin',
    commonName: 'admin',
    // Bound to cluster-admin by a ClusterRoleBinding, so RBAC can take it away; system:masters bypasses RBAC and a
    // client certificate cannot be revoked (kubeadm does the same since 1.29).
    organization: CLUSTER_ADMINS_GROUP,
    dnsNames: [],
    ipAddresses: [],
    usages: CLIENT,
    placements: adminHosts.map((h) => place(h, KUBERNETES_PKI_DIR, 'admin', K8S_CA)),
  });
  leaf({
    id: 'super-admin',
    commonName: 'super-admin',
    // Only where it cannot be avoided: the control planes, to create that binding (and repair RBAC) before anyone
    // else can act. Never on the admin host.
    organization: 'system:masters',
    dnsNames: [],
    ipAddresses: [],
    usages: CLIENT,
    placements: cps.map((h) => place(h.name, KUBERNETES_PKI_DIR, 'super-admin', K8S_CA)),
  });
  return certs;
}

/**
 * Every file each host receives: certificates (0644), private keys (0600), the CA certificate (0644),
 * the CA key (0600, CA host only), kubeconfigs (0600: they embed a client key) and the API server's
 * encryption config (0600). Sorted by host (file order), then path; no duplicate (host, path).
 */
export function buildFiles(hosts: PlannedHost[], certificates: PlannedCertificate[]): PlannedFile[] {
  const files = new Map<string, PlannedFile>();
  const add = (f: PlannedFile) => {
    const k = `${f.host}\u0000${f.path}`;
    if (!files.has(k)) files.set(k, f);
  };
  for (const c of certificates) {
    for (const p of c.placements) {
      if (c.isCA) {
        add({ host: p.host, path: p.certPath, mode: MODE_PUBLIC, source: fileSource.authorityCert(c.id) });
        add({ host: p.host, path: p.keyPath, mode: MODE_SECRET, source: fileSource.authorityKey(c.id) });
        continue;
      }
      if (c.keyPairOnly) {
        add({ host: p.host, path: p.certPath, mode: MODE_PUBLIC, source: fileSource.publicKey(c.id) });
        add({ host: p.host, path: p.keyPath, mode: MODE_SECRET, source: fileSource.key(c.id) });
        continue;
      }
      add({ host: p.host, path: p.certPath, mode: MODE_PUBLIC, source: fileSource.cert(c.id) });
      add({ host: p.host, path: p.keyPath, mode: MODE_SECRET, source: fileSource.key(c.id) });
      add({ host: p.host, path: p.caPath, mode: MODE_PUBLIC, source: fileSource.authorityCert(c.issuer ?? 'ca') });
      const kc = kubeconfigPathFor(c.id);
      if (kc) add({ host: p.host, path: kc, mode: MODE_SECRET, source: fileSource.kubeconfig(c.id) });
    }
  }
  for (const h of hosts) {
    if (h.roles.includes('controlplane')) {
      add({ host: h.name, path: ENCRYPTION_CONFIG_PATH, mode: MODE_SECRET, source: fileSource.encryptionConfig });
    }
  }
  const order = new Map(hosts.map((h, i) => [h.name, i]));
  return [...files.values()].sort((a, b) => {
    const d = (order.get(a.host) ?? Infinity) - (order.get(b.host) ?? Infinity);
    if (d !== 0 && !Number.isNaN(d)) return d;
    return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  });
}
