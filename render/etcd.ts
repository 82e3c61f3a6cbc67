// The etcd member's systemd unit and its bootstrap settings. Pure: everything comes from the member's fragment of the plan.
import type { CertificatePlacement } from '../model/types.js';
import { ConfigurationError } from '../model/errors.js';

export { ETCD_BIN_DIR, ETCD_BOOTSTRAP_PATH, ETCD_DATA_DIR, ETCD_UNIT_PATH } from '../model/paths.js';
import { ETCD_BIN_DIR, ETCD_BOOTSTRAP_PATH, ETCD_DATA_DIR } from '../model/paths.js';

/** What the unit needs (an EtcdMemberInput is one). */
export interface EtcdUnitInput {
  cluster: string;
  member: { name: string; clientUrl: string; peerUrl: string };
  /** The member's server and peer certificates, placed on the member itself. */
  tls: { server: CertificatePlacement; peer: CertificatePlacement };
}

export interface EtcdBootstrapInput {
  cluster: string;
  member: { name: string; peerUrl: string };
  /** "name=https://addr:2380,..." of the members it starts with (itself included). */
  initialCluster: string;
  /** new: the members bootstrap a cluster together; existing: it joins a running one (added with `member add`). */
  state: 'new' | 'existing';
}

export function renderEtcdBootstrap(input: EtcdBootstrapInput): string {
  const { cluster, member: m } = input;
  if (!input.initialCluster.split(',').some((e) => e === `${m.name}=${m.peerUrl}`)) {
    throw new ConfigurationError(`${m.name} (${m.peerUrl}) is not in the initial cluster ${input.initialCluster} of cluster ${cluster}`);
  }
  return `# How etcd member ${m.name} first joined cluster ${cluster} (managed by hardway). Read only while its data
# directory is empty: later changes of membership go through etcd itself (member add / remove).
ETCD_INITIAL_CLUSTER=${input.initialCluster}
ETCD_INITIAL_CLUSTER_STATE=${input.state}
ETCD_INITIAL_CLUSTER_TOKEN=hardway-${cluster}
`;
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
  const flags = [
    `--name ${m.name}`,
    `--data-dir ${ETCD_DATA_DIR}`,
    `--listen-client-urls ${m.clientUrl},https://127.0.0.1:2379`,
    `--advertise-client-urls ${m.clientUrl}`,
    `--listen-peer-urls ${m.peerUrl}`,
    `--initial-advertise-peer-urls ${m.peerUrl}`,
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
EnvironmentFile=-${ETCD_BOOTSTRAP_PATH}
ExecStart=${ETCD_BIN_DIR}/etcd \\
  ${flags.join(' \\\n  ')}
Restart=on-failure
RestartSec=5
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}
