// HAProxy in TCP mode in front of the control planes' API servers. Pure.

export const HAPROXY_CONFIG_PATH = '/etc/haproxy/haproxy.cfg';

/** What haproxy.cfg needs (a LoadBalancerInput is one). */
export interface HaproxyConfigInput {
  cluster: string;
  /** The load balancer's infrastructure address and the API port it listens on. */
  address: string;
  port: number;
  controlPlanes: { name: string; address: string }[];
}

export function renderHaproxyConfig(input: HaproxyConfigInput): string {
  const servers = input.controlPlanes.map((cp) => `    server ${cp.name} ${cp.address}:6443 check inter 5s fall 3 rise 2`);
  return `# Managed by hardway for cluster ${input.cluster}: changes are overwritten.
global
    maxconn 4096
    log stderr format short local0 info

defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout check 5s

frontend kube-apiserver
    bind ${input.address}:${input.port}
    default_backend control-planes

backend control-planes
    balance roundrobin
    option tcp-check
    default-server on-marked-down shutdown-sessions
${servers.join('\n')}
`;
}
