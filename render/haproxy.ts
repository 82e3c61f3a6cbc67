// HAProxy in TCP mode in front of the control planes' API servers. Pure.
//
// Each backend is checked with GET /readyz over TLS (kube-apiserver answers it without credentials): an API server
// that is up but not ready gets no traffic. The check does not verify the server's certificate (as kubeadm's HA
// guide does): it only decides readiness, while clients verify the API server end to end through the TCP proxy.

import { haproxyConfigHeader } from '../model/paths.js';

export { HAPROXY_CONFIG_PATH } from '../model/paths.js';

/** What haproxy.cfg needs (a LoadBalancerInput is one). */
/**
 * How the load balancer judges an API server: `GET /readyz` every `interS` seconds; `fall` failures take it out,
 * `rise` successes bring it back. The control plane's restarts are timed on it (render/controlplane.ts,
 * activities/controlplane.ts), so that no request reaches an API server that is stopping or not ready yet.
 */
export const LB_BACKEND_CHECK = { interS: 2, fall: 2, rise: 2 } as const;

export interface HaproxyConfigInput {
  cluster: string;
  /** The load balancer's infrastructure address and the API port it listens on. */
  address: string;
  port: number;
  controlPlanes: { name: string; address: string; port: number }[];
}

export function renderHaproxyConfig(input: HaproxyConfigInput): string {
  const servers = input.controlPlanes.map((cp) => `    server ${cp.name} ${cp.address}:${cp.port}`);
  return `${haproxyConfigHeader(input.cluster)}: changes are overwritten.
global
    maxconn 4096
    log stderr format short local0 info
    # Binds as root, then runs as the package's unprivileged user.
    user haproxy
    group haproxy

defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout check 5s
    # A connection an API server refuses (it is stopping) is tried again on another one.
    retries 3
    option redispatch
    # Sessions to an API server that is taken out are not cut: one that stops gracefully finishes its requests and
    # closes its watches itself. One whose host died is noticed by TCP keepalives within about a minute.
    option srvtcpka
    srvtcpka-idle 30s
    srvtcpka-intvl 10s
    srvtcpka-cnt 3

frontend kube-apiserver
    bind ${input.address}:${input.port}
    default_backend control-planes

backend control-planes
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server check check-ssl verify none inter ${LB_BACKEND_CHECK.interS}s fall ${LB_BACKEND_CHECK.fall} rise ${LB_BACKEND_CHECK.rise}
${servers.join('\n')}
`;
}
