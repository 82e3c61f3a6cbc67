// HAProxy in TCP mode in front of the control planes' API servers. Pure.
import type { ClusterPlan } from '../model/types.js';

export const HAPROXY_CONFIG_PATH = '/etc/haproxy/haproxy.cfg';

export function renderHaproxyConfig(plan: ClusterPlan, lbHost: string): string {
  const lb = plan.hosts.find((h) => h.name === lbHost);
  if (!lb) throw new Error(`${lbHost} is not a host of cluster ${plan.name}`);
  const port = plan.apiServer.port;
  const servers = plan.apiServer.controlPlanes.map(
    (cp) => `    server ${cp.name} ${cp.address}:6443 check inter 5s fall 3 rise 2`,
  );
  return `# Managed by hardway for cluster ${plan.name}: changes are overwritten.
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
    bind ${lb.address}:${port}
    default_backend control-planes

backend control-planes
    balance roundrobin
    option tcp-check
    default-server on-marked-down shutdown-sessions
${servers.join('\n')}
`;
}
