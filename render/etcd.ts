// The etcd member's systemd unit. Pure: everything comes from the member's fragment of the plan.
import type { CertificatePlacement } from '../model/types.js';
import { ConfigurationError } from '../model/errors.js';

export { ETCD_BIN_DIR } from '../model/paths.js';
import { ETCD_BIN_DIR } from '../model/paths.js';
export const ETCD_DATA_DIR = '/var/lib/etcd';
export const ETCD_UNIT_PATH = '/etc/systemd/system/etcd.service';

/** What the unit needs (an EtcdMemberInput is one). */
export interface EtcdUnitInput {
  cluster: string;
  member: { name: string; clientUrl: string; peerUrl: string };
  /** "name=https://addr:2380,..." of every member. */
  initialCluster: string;
  /** The member's server and peer certificates, placed on the member itself. */
  tls: { server: CertificatePlacement; peer: CertificatePlacement };
}

export function renderEtcdUnit(input: EtcdUnitInput): string {
  const { cluster, member: m, tls } = input;
  for (const [kind, at] of [
    ['server', tls.server],
    ['peer', tls.peer],
  ] as const) {
    if (at.host !== m.name) {
      throw new ConfigurationError(
        `the etcd ${kind} certificate of ${m.name} is placed on ${at.host}, not on the member (cluster ${cluster})`,
      );
    }
  }
  if (!input.initialCluster.split(',').some((e) => e === `${m.name}=${m.peerUrl}`)) {
    throw new ConfigurationError(`${m.name} (${m.peerUrl}) is not in the initial cluster ${input.initialCluster} of cluster ${cluster}`);
  }
  const flags = [
    `--name ${m.name}`,
    `--data-dir ${ETCD_DATA_DIR}`,
    `--listen-client-urls ${m.clientUrl},https://127.0.0.1:2379`,
    `--advertise-client-urls ${m.clientUrl}`,
    `--listen-peer-urls ${m.peerUrl}`,
    `--initial-advertise-peer-urls ${m.peerUrl}`,
    `--initial-cluster ${input.initialCluster}`,
    `--initial-cluster-token hardway-${cluster}`,
    '--initial-cluster-state new',
    `--cert-file ${tls.server.certPath}`,
    `--key-file ${tls.server.keyPath}`,
    `--trusted-ca-file ${tls.server.caPath}`,
    '--client-cert-auth',
    `--peer-cert-file ${tls.peer.certPath}`,
    `--peer-key-file ${tls.peer.keyPath}`,
    `--peer-trusted-ca-file ${tls.peer.caPath}`,
    '--peer-client-cert-auth',
  ];
  return `[Unit]
Description=etcd member ${m.name} of cluster ${cluster} (managed by hardway)
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
