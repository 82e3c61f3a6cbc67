// containerd on a node: its configuration (the version 2 format of containerd 1.6 and 1.7) and its systemd unit.
// Pure: everything comes from the node's fragment of the plan and from what the host really is (NodeFacts),
// never from knowing whether the host is a lab host.
import {
  CNI_BIN_DIR,
  CNI_CONF_DIR,
  CONTAINERD_BIN_DIR,
  CONTAINERD_CERTS_DIR,
  CONTAINERD_CONFIG_PATH,
  CONTAINERD_ROOT_DIR,
  CONTAINERD_SOCKET,
  CONTAINERD_STATE_DIR,
  RUNC_PATH,
} from '../model/paths.js';

export { CNI_CONF_DIR, CONTAINERD_CERTS_DIR, CONTAINERD_CONFIG_PATH, CONTAINERD_SOCKET, CONTAINERD_UNIT_PATH } from '../model/paths.js';

/** What a node's container runtime and kubelet are configured from: facts read on the host itself. */
export interface NodeFacts {
  cgroup: { version: 1 | 2; hybrid: boolean };
  /** PID 1 is systemd (/run/systemd/system exists): cgroups are then systemd's to manage. */
  systemd: boolean;
  /** CAP_SYS_RESOURCE is effective: OOM scores below 0 can be set. */
  sysResource: boolean;
  /** Swap is on: the kubelet must be told to run anyway (and to give pods none). */
  swap: boolean;
  /**
   * net.netfilter.nf_conntrack_max can be written here (it cannot in a network namespace other than the first):
   * kube-proxy sizes the conntrack table only where it can. Absent: unknown, taken as writable.
   */
  conntrackMaxWritable?: boolean;
  /**
   * The resolv.conf that lists the host's real resolvers: systemd-resolved's upstream file where it runs (its
   * /etc/resolv.conf names the 127.0.0.53 stub, which a pod cannot reach), else /etc/resolv.conf. Absent: the latter.
   */
  resolvConf?: string;
}

/** The cgroup driver the kubelet and runc must agree on: systemd where systemd runs, else cgroupfs. */
export const cgroupDriver = (f: NodeFacts): 'systemd' | 'cgroupfs' => (f.systemd ? 'systemd' : 'cgroupfs');

export interface ContainerdConfigInput {
  host: string;
  version: string;
  /** containerd's sandbox ("pause") image reference. */
  sandboxImage: string;
}

const toml = (s: string): string => JSON.stringify(s);

export function renderContainerdConfig(input: ContainerdConfigInput, facts: NodeFacts): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const oom = facts.sysResource
    ? []
    : [
        '    # No CAP_SYS_RESOURCE on this host: a negative OOM score (the sandbox asks for -998) cannot be set, so',
        "    # scores are clamped to containerd's own instead of failing every pod sandbox.",
        '    restrict_oom_score_adj = true',
      ];
  return [
    `# Written by hardway for ${input.host} (containerd ${input.version}); changes here are overwritten.`,
    'version = 2',
    `root = ${toml(CONTAINERD_ROOT_DIR)}`,
    `state = ${toml(CONTAINERD_STATE_DIR)}`,
    '',
    '[grpc]',
    `  address = ${toml(CONTAINERD_SOCKET)}`,
    '',
    '[plugins]',
    `  [${cri}]`,
    `    sandbox_image = ${toml(input.sandboxImage)}`,
    ...oom,
    '    # Pods may bind ports below 1024 and ping without extra capabilities (CoreDNS runs as non-root on :53).',
    '    enable_unprivileged_ports = true',
    '    enable_unprivileged_icmp = true',
    `    [${cri}.containerd]`,
    '      snapshotter = "overlayfs"',
    '      default_runtime_name = "runc"',
    `      [${cri}.containerd.runtimes.runc]`,
    '        runtime_type = "io.containerd.runc.v2"',
    `        [${cri}.containerd.runtimes.runc.options]`,
    `          BinaryName = ${toml(RUNC_PATH)}`,
    `          SystemdCgroup = ${facts.systemd ? 'true' : 'false'}`,
    `    [${cri}.cni]`,
    `      bin_dir = ${toml(CNI_BIN_DIR)}`,
    `      conf_dir = ${toml(CNI_CONF_DIR)}`,
    `    [${cri}.registry]`,
    `      config_path = ${toml(CONTAINERD_CERTS_DIR)}`,
    '',
  ].join('\n');
}

export function renderContainerdUnit(input: { version: string }, facts: NodeFacts): string {
  return [
    '[Unit]',
    `Description=containerd ${input.version} (hardway)`,
    'Documentation=https://containerd.io',
    'After=network.target local-fs.target',
    '',
    '[Service]',
    `ExecStart=${CONTAINERD_BIN_DIR}/containerd --config ${CONTAINERD_CONFIG_PATH}`,
    'Type=notify',
    // The shims and the containers stay up when containerd restarts.
    'Delegate=yes',
    'KillMode=process',
    'Restart=always',
    'RestartSec=5',
    'LimitNPROC=infinity',
    'LimitCORE=infinity',
    'LimitNOFILE=infinity',
    'TasksMax=infinity',
    // systemd fails the start when it cannot lower the score, so only where the capability is there.
    ...(facts.sysResource ? ['OOMScoreAdjust=-999'] : []),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
