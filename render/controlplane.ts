// The control plane's units: kube-apiserver, kube-controller-manager and kube-scheduler, and the API server's
// encryption-at-rest configuration. Pure: from one control plane's fragment of the plan (ControlPlaneInput).
//
// No cluster-signing key: the CA key never leaves the CA host, so kube-controller-manager runs without
// --cluster-signing-cert-file/-key-file and its CSR signer is off. Every certificate is issued by `hardway up`.
import { LB_BACKEND_CHECK } from './haproxy.js';
import { AUDIT_LOG_PATH, KUBERNETES_BIN_DIR } from '../model/paths.js';

export { KUBE_APISERVER_UNIT_PATH, KUBE_CONTROLLER_MANAGER_UNIT_PATH, KUBE_SCHEDULER_UNIT_PATH } from '../model/paths.js';

/** The name of the one key of the encryption config (the ciphertext in etcd starts "k8s:enc:secretbox:v1:<name>:"). */
export const ENCRYPTION_KEY_NAME = 'key1';

interface Placement {
  certPath: string;
  keyPath: string;
  caPath: string;
}

export interface ApiServerUnitInput {
  cluster: string;
  version: string;
  address: string;
  securePort: number;
  etcdServers: string[];
  serviceRange: string;
  serviceAccount: { issuer: string; keyFiles: string[]; signingKeyFile: string };
  encryptionConfigPath: string;
  caPath: string;
  tls: { server: Placement; etcdClient: Placement; kubeletClient: Placement; frontProxyClient?: Placement };
}

function unit(
  description: string,
  docs: string,
  exec: string,
  flags: string[],
  after = 'network-online.target',
  stopTimeout?: string,
): string {
  return `[Unit]
Description=${description} (managed by hardway)
Documentation=${docs}
After=${after}
Wants=network-online.target

[Service]
ExecStart=${KUBERNETES_BIN_DIR}/${exec} \\
  ${flags.join(' \\\n  ')}
Restart=on-failure
RestartSec=5
LimitNOFILE=65536
${stopTimeout ? `TimeoutStopSec=${stopTimeout}\n` : ''}
[Install]
WantedBy=multi-user.target
`;
}

export function apiServerFlags(i: ApiServerUnitInput): string[] {
  const t = i.tls;
  return [
    `--advertise-address=${i.address}`,
    `--secure-port=${i.securePort}`,
    '--allow-privileged=true',
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    `--client-ca-file=${i.caPath}`,
    `--tls-cert-file=${t.server.certPath}`,
    `--tls-private-key-file=${t.server.keyPath}`,
    `--etcd-servers=${i.etcdServers.join(',')}`,
    `--etcd-cafile=${t.etcdClient.caPath}`,
    `--etcd-certfile=${t.etcdClient.certPath}`,
    `--etcd-keyfile=${t.etcdClient.keyPath}`,
    `--service-cluster-ip-range=${i.serviceRange}`,
    `--service-account-issuer=${i.serviceAccount.issuer}`,
    // Every public key that may have signed a live token (several during a rotation); the private key signs new ones.
    ...i.serviceAccount.keyFiles.map((f) => `--service-account-key-file=${f}`),
    `--service-account-signing-key-file=${i.serviceAccount.signingKeyFile}`,
    `--encryption-provider-config=${i.encryptionConfigPath}`,
    // The API server verifies each kubelet's serving certificate, and shows the kubelet its own client certificate.
    `--kubelet-certificate-authority=${i.caPath}`,
    `--kubelet-client-certificate=${t.kubeletClient.certPath}`,
    `--kubelet-client-key=${t.kubeletClient.keyPath}`,
    // The node's infrastructure address first: kubelet serving certificates carry it, and no DNS is needed.
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    ...(t.frontProxyClient
      ? [
          `--proxy-client-cert-file=${t.frontProxyClient.certPath}`,
          `--proxy-client-key-file=${t.frontProxyClient.keyPath}`,
          `--requestheader-client-ca-file=${t.frontProxyClient.caPath}`,
          '--requestheader-allowed-names=front-proxy-client',
          '--requestheader-username-headers=X-Remote-User',
          '--requestheader-group-headers=X-Remote-Group',
          '--requestheader-extra-headers-prefix=X-Remote-Extra-',
        ]
      : []),
    `--audit-log-path=${AUDIT_LOG_PATH}`,
    '--audit-log-maxage=30',
    '--audit-log-maxbackup=3',
    '--audit-log-maxsize=100',
    '--profiling=false',
    // Stopping, it fails /readyz at once but serves on for this long: the load balancer takes it out first, and keeps
    // it out until the new process is ready (LB_BACKEND_CHECK), so a restart costs clients nothing.
    `--shutdown-delay-duration=${API_SHUTDOWN_DELAY_S}s`,
  ];
}

/** The load balancer's `fall` checks, one more, and a margin. */
export const API_SHUTDOWN_DELAY_S = LB_BACKEND_CHECK.interS * (LB_BACKEND_CHECK.fall + 1) + 2;

export function renderApiServerUnit(i: ApiServerUnitInput): string {
  return unit(
    `Kubernetes API server ${i.version} of cluster ${i.cluster}`,
    'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/',
    'kube-apiserver',
    apiServerFlags(i),
    'network-online.target',
    // It drains its requests within seconds, then waits up to 60 s for long-lived watches to end by themselves:
    // a rolling restart should not wait that long for every control plane (clients re-watch through the others).
    '20s',
  );
}

export interface ControllerManagerUnitInput {
  cluster: string;
  version: string;
  kubeconfig: string;
  caPath: string;
  podRange: string;
  nodeMask: number;
  serviceRange: string;
  serviceAccountKeyFile: string;
}

export function renderControllerManagerUnit(i: ControllerManagerUnitInput): string {
  return unit(
    `Kubernetes controller manager ${i.version} of cluster ${i.cluster}`,
    'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/',
    'kube-controller-manager',
    [
      `--kubeconfig=${i.kubeconfig}`,
      `--authentication-kubeconfig=${i.kubeconfig}`,
      `--authorization-kubeconfig=${i.kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--cluster-name=${i.cluster}`,
      // Each node's range is the plan's: hardway creates the Node with it before its kubelet registers, and the
      // allocator takes ranges already set as used. Same range and mask, so a node it names itself fits the plan too.
      '--allocate-node-cidrs=true',
      `--cluster-cidr=${i.podRange}`,
      `--node-cidr-mask-size=${i.nodeMask}`,
      `--service-cluster-ip-range=${i.serviceRange}`,
      '--leader-elect=true',
      `--root-ca-file=${i.caPath}`,
      `--service-account-private-key-file=${i.serviceAccountKeyFile}`,
      '--use-service-account-credentials=true',
      // No cluster-signing key here (the CA key stays on the CA host): no CSR signer.
      '--controllers=*,bootstrapsigner,tokencleaner,-csrsigning',
      '--profiling=false',
    ],
    'kube-apiserver.service',
  );
}

export function renderSchedulerUnit(i: { cluster: string; version: string; kubeconfig: string }): string {
  return unit(
    `Kubernetes scheduler ${i.version} of cluster ${i.cluster}`,
    'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-scheduler/',
    'kube-scheduler',
    [
      `--kubeconfig=${i.kubeconfig}`,
      `--authentication-kubeconfig=${i.kubeconfig}`,
      `--authorization-kubeconfig=${i.kubeconfig}`,
      '--bind-address=127.0.0.1',
      '--leader-elect=true',
      '--profiling=false',
    ],
    'kube-apiserver.service',
  );
}

/** The encryption config for Secrets: secretbox with one 32-byte key (base64), identity to read what predates it. */
export function renderEncryptionConfig(secretBase64: string): string {
  return [
    '# Written by hardway: the same on every control plane. It holds the key that encrypts Secrets in etcd.',
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: EncryptionConfiguration',
    'resources:',
    '  - resources:',
    '      - secrets',
    '    providers:',
    '      - secretbox:',
    '          keys:',
    `            - name: ${ENCRYPTION_KEY_NAME}`,
    `              secret: ${secretBase64}`,
    '      - identity: {}',
    '',
  ].join('\n');
}

/** The secretbox key of an encryption config hardway wrote, or undefined when the text is not one. */
export function encryptionKeyOf(text: string): string | undefined {
  if (!/kind:\s*EncryptionConfiguration/.test(text)) return undefined;
  const m = /secretbox:\s*\n\s*keys:\s*\n\s*-\s*name:\s*\S+\s*\n\s*secret:\s*(\S+)/.exec(text);
  const key = m?.[1];
  if (!key || Buffer.from(key, 'base64').length !== 32) return undefined;
  return key;
}
