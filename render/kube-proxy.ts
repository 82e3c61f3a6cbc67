// kube-proxy's configuration (KubeProxyConfiguration v1alpha1, iptables mode) and unit. Pure: from the node's
// fragment of the plan and its facts.
import { KUBE_PROXY_CONFIG_PATH, KUBERNETES_BIN_DIR } from '../model/paths.js';
import type { NodeFacts } from './containerd.js';

export { KUBE_PROXY_CONFIG_PATH, KUBE_PROXY_UNIT_PATH } from '../model/paths.js';

export interface KubeProxyConfigInput {
  host: string;
  kubeconfig: string;
  /** The cluster's pod range: traffic from outside it to a service is masqueraded. */
  podRange: string;
}

export function renderKubeProxyConfig(i: KubeProxyConfigInput, facts: Pick<NodeFacts, 'conntrackMaxWritable'>): string {
  return [
    `# Written by hardway for ${i.host}; changes here are overwritten.`,
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
    'kind: KubeProxyConfiguration',
    'clientConnection:',
    `  kubeconfig: ${JSON.stringify(i.kubeconfig)}`,
    'mode: iptables',
    `clusterCIDR: ${JSON.stringify(i.podRange)}`,
    `hostnameOverride: ${JSON.stringify(i.host)}`,
    // Where the kernel will not let this host size the conntrack table (a network namespace other than the
    // first), leave it as it is instead of failing to start.
    ...(facts.conntrackMaxWritable === false ? ['conntrack:', '  maxPerCore: 0', '  min: 0'] : []),
    '',
  ].join('\n');
}

export function renderKubeProxyUnit(i: { version: string }): string {
  return [
    '[Unit]',
    `Description=Kubernetes kube-proxy ${i.version} (managed by hardway)`,
    'Documentation=https://kubernetes.io/docs/reference/command-line-tools-reference/kube-proxy/',
    'After=network-online.target',
    '',
    '[Service]',
    `ExecStart=${KUBERNETES_BIN_DIR}/kube-proxy --config=${KUBE_PROXY_CONFIG_PATH}`,
    'Restart=on-failure',
    'RestartSec=5',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
