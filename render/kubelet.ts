// The kubelet's configuration file (KubeletConfiguration v1beta1) and systemd unit. Pure: from the node's fragment of
// the plan and its facts (render/containerd.ts NodeFacts).
import { KUBELET_CONFIG_PATH, KUBERNETES_BIN_DIR, STATIC_POD_PATH } from '../model/paths.js';
import { CONTAINERD_SOCKET, cgroupDriver, type NodeFacts } from './containerd.js';

export { KUBELET_CONFIG_PATH, KUBELET_UNIT_PATH, STATIC_POD_PATH } from '../model/paths.js';

export interface KubeletConfigInput {
  host: string;
  /** The node's pod range (also what its CNI configuration hands out). */
  podCidr: string;
  clusterDns: string;
  clusterDomain?: string;
  /**
   * How the kubelet meets the API server: its kubeconfig, and the CA that signs client certificates. Absent: the
   * kubelet runs standalone (static pods only), and its API trusts no one.
   */
  apiServer?: { kubeconfig: string; clientCaFile: string; tlsCertFile: string; tlsPrivateKeyFile: string };
  /** A control plane: registered with the NoSchedule taint, so that only what tolerates it runs there. */
  controlPlane?: boolean;
}

export function renderKubeletConfig(input: KubeletConfigInput, facts: NodeFacts): string {
  const api = input.apiServer;
  const lines = [
    `# Written by hardway for ${input.host}; changes here are overwritten.`,
    'apiVersion: kubelet.config.k8s.io/v1beta1',
    'kind: KubeletConfiguration',
    'authentication:',
    '  anonymous:',
    '    enabled: false',
    '  webhook:',
    `    enabled: ${api ? 'true' : 'false'}`,
    ...(api ? ['  x509:', `    clientCAFile: ${JSON.stringify(api.clientCaFile)}`] : []),
    'authorization:',
    // Standalone there is nobody to ask: every request is refused by authentication already (no anonymous, no CA).
    `  mode: ${api ? 'Webhook' : 'AlwaysAllow'}`,
    ...(api ? [`tlsCertFile: ${JSON.stringify(api.tlsCertFile)}`, `tlsPrivateKeyFile: ${JSON.stringify(api.tlsPrivateKeyFile)}`] : []),
    `cgroupDriver: ${cgroupDriver(facts)}`,
    // A kubelet 1.35+ refuses cgroup v1 unless told otherwise; the host has what it has.
    ...(facts.cgroup.version === 1 ? ['failCgroupV1: false'] : []),
    `containerRuntimeEndpoint: unix://${CONTAINERD_SOCKET}`,
    `staticPodPath: ${STATIC_POD_PATH}`,
    `podCIDR: ${JSON.stringify(input.podCidr)}`,
    `clusterDomain: ${JSON.stringify(input.clusterDomain ?? 'cluster.local')}`,
    'clusterDNS:',
    `  - ${JSON.stringify(input.clusterDns)}`,
    // What pods with dnsPolicy Default (CoreDNS) get: the host's real resolvers.
    `resolvConf: ${JSON.stringify(facts.resolvConf ?? '/etc/resolv.conf')}`,
    'readOnlyPort: 0',
    // Swap on the host: run anyway, and give pods none of it (the kubelet refuses to start otherwise).
    ...(facts.swap ? ['failSwapOn: false', 'memorySwap:', '  swapBehavior: NoSwap'] : []),
    'protectKernelDefaults: false',
    'serializeImagePulls: false',
    ...(input.controlPlane ? ['registerWithTaints:', '  - key: node-role.kubernetes.io/control-plane', '    effect: NoSchedule'] : []),
    '',
  ];
  return lines.join('\n');
}

export function renderKubeletUnit(input: { version: string; kubeconfig?: string; host?: string; nodeIp?: string }): string {
  const flags = [
    `--config=${KUBELET_CONFIG_PATH}`,
    ...(input.kubeconfig ? [`--kubeconfig=${input.kubeconfig}`] : []),
    // The node's name is the host's name in the cluster file (its certificate says system:node:<name>), and its
    // address the infrastructure one, never the default route's NIC.
    ...(input.host ? [`--hostname-override=${input.host}`] : []),
    ...(input.nodeIp ? [`--node-ip=${input.nodeIp}`] : []),
  ];
  return [
    '[Unit]',
    `Description=Kubernetes kubelet ${input.version} (hardway)`,
    'Documentation=https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/',
    'After=containerd.service',
    'Requires=containerd.service',
    '',
    '[Service]',
    `ExecStart=${KUBERNETES_BIN_DIR}/kubelet ${flags.join(' ')}`,
    'Restart=always',
    'RestartSec=5',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
