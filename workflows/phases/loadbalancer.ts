// loadbalancer: HAProxy in TCP mode in front of the control planes' API servers.
import { API_SERVER_SECURE_PORT } from '../../model/defaults.js';
import { baseInput, hostsWithRole, plannedHost } from './plan-lookup.js';
import { step, type Phase } from './phase.js';

export const loadbalancer: Phase = {
  name: 'loadbalancer',
  title: 'API load balancer (HAProxy)',
  steps: [
    step({
      activity: 'loadbalancer/haproxy',
      hosts: hostsWithRole('loadbalancer'),
      input: (plan, host) => ({
        ...baseInput(plan, host),
        address: plannedHost(plan, host).address,
        port: plan.apiServer.port,
        // A plan recorded by 0.1/0.2 (a legacy bring-up finishing after an upgrade) has no port: kube-apiserver's own.
        controlPlanes: plan.apiServer.controlPlanes.map((c) => ({ ...c, port: c.port ?? API_SERVER_SECURE_PORT })),
      }),
    }),
  ],
};
