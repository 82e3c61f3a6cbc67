// preflight: reach every host, learn its OS, memory and NICs, stop early on what would break later.
import { baseInput, everyHost, plannedHost } from './plan-lookup.js';
import { step, type Phase } from './phase.js';

export const preflight: Phase = {
  name: 'preflight',
  title: 'preflight checks and NIC detection',
  steps: [
    step({
      activity: 'preflight/checks',
      hosts: everyHost,
      input: (plan, host) => ({
        ...baseInput(plan, host),
        roles: [...plannedHost(plan, host).roles],
        memoryPolicy: plan.preflight.memoryPolicy,
      }),
    }),
  ],
};
