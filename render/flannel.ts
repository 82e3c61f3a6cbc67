// flannel: flanneld as a host service on every node (it programs the host's VXLAN device, routes and iptables
// rules, so it runs beside the kubelet as the other node agents do), its network config, and the node's CNI
// configuration that hands pods to flannel's plugin. Pure.
import { FLANNEL_BIN_DIR, FLANNEL_BINARY, FLANNEL_NET_CONFIG_PATH, FLANNEL_SUBNET_FILE } from '../model/paths.js';

export {
  FLANNEL_CNI_CONFIG_PATH,
  FLANNEL_CNI_PLUGIN_PATH,
  FLANNEL_NET_CONFIG_PATH,
  FLANNEL_SUBNET_FILE,
  FLANNEL_UNIT_PATH,
} from '../model/paths.js';
/** The annotation flannel sets on each Node: the address other nodes send its pods' traffic to. */
export const FLANNEL_PUBLIC_IP_ANNOTATION = 'flannel.alpha.coreos.com/public-ip';

/** flannel's network config: the cluster's pod range (never a literal 10.244.0.0/16), VXLAN. */
export function renderFlannelNetConfig(podRange: string): string {
  return `${JSON.stringify({ Network: podRange, EnableIPv4: true, Backend: { Type: 'vxlan' } }, null, 2)}\n`;
}

export interface FlannelUnitInput {
  host: string;
  version: string;
  /** The node's infrastructure address: flannel's public IP and the VXLAN device's underlay, never the default NIC. */
  address: string;
  kubeconfig: string;
}

export function renderFlannelUnit(i: FlannelUnitInput): string {
  const flags = [
    '--kube-subnet-mgr',
    `--kubeconfig-file=${i.kubeconfig}`,
    `--net-config-path=${FLANNEL_NET_CONFIG_PATH}`,
    // Pinned to the infrastructure address: on a Vagrant/VirtualBox host the default route's NIC (10.0.2.15)
    // reaches no other host, and pods on different nodes could not talk.
    `--iface=${i.address}`,
    `--public-ip=${i.address}`,
    '--ip-masq',
    `--subnet-file=${FLANNEL_SUBNET_FILE}`,
  ];
  return `[Unit]
Description=flannel ${i.version} on ${i.host} (managed by hardway)
Documentation=https://github.com/flannel-io/flannel
After=network-online.target kubelet.service
Wants=network-online.target

[Service]
Environment=NODE_NAME=${i.host}
ExecStart=${FLANNEL_BIN_DIR}/${FLANNEL_BINARY} \\
  ${flags.join(' \\\n  ')}
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}

/** The node's CNI configuration: flannel's plugin (it reads flanneld's subnet file) delegating to bridge, and portmap. */
export function renderFlannelCniConfig(): string {
  return `${JSON.stringify(
    {
      name: 'cbr0',
      cniVersion: '0.3.1',
      plugins: [
        { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}
