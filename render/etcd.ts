// The etcd member's systemd unit. Pure: everything comes from the plan.
import type { ClusterPlan } from '../model/types.js';
import { placementOn } from './placements.js';

export const ETCD_BIN_DIR = '/usr/local/bin';
export const ETCD_DATA_DIR = '/var/lib/etcd';
export const ETCD_UNIT_PATH = '/etc/systemd/system/etcd.service';

export function renderEtcdUnit(plan: ClusterPlan, member: string): string {
  const m = plan.etcd.members.find((x) => x.name === member);
  if (!m) throw new Error(`${member} is not an etcd member of cluster ${plan.name}`);
  const server = placementOn(plan, `etcd-server-${member}`, member);
  const peer = placementOn(plan, `etcd-peer-${member}`, member);
  const flags = [
    `--name ${m.name}`,
    `--data-dir ${ETCD_DATA_DIR}`,
    `--listen-client-urls ${m.clientUrl},https://127.0.0.1:2379`,
    `--advertise-client-urls ${m.clientUrl}`,
    `--listen-peer-urls ${m.peerUrl}`,
    `--initial-advertise-peer-urls ${m.peerUrl}`,
    `--initial-cluster ${plan.etcd.initialCluster}`,
    `--initial-cluster-token hardway-${plan.name}`,
    '--initial-cluster-state new',
    `--cert-file ${server.certPath}`,
    `--key-file ${server.keyPath}`,
    `--trusted-ca-file ${server.caPath}`,
    '--client-cert-auth',
    `--peer-cert-file ${peer.certPath}`,
    `--peer-key-file ${peer.keyPath}`,
    `--peer-trusted-ca-file ${peer.caPath}`,
    '--peer-client-cert-auth',
  ];
  return `[Unit]
Description=etcd member ${m.name} of cluster ${plan.name} (managed by hardway)
Documentation=https://etcd.io/docs/
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
ExecStart=${ETCD_BIN_DIR}/etcd \\
  ${flags.join(' \\\n  ')}
Restart=on-failure
RestartSec=5
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}
