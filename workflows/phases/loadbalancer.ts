// loadbalancer: HAProxy in TCP mode in front of the control planes' API servers.
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
        controlPlanes: plan.apiServer.controlPlanes.map((c) => ({ ...c })),
      }),
    }),
  ],
};
