// hosts: every cluster host listed in /etc/hosts of every host.
import { baseInput, everyHost } from './plan-lookup.js';
import { step, type Phase } from './phase.js';

export const hosts: Phase = {
  name: 'hosts',
  title: '/etc/hosts on every host',
  steps: [
    step({
      activity: 'hosts/hosts-file',
      hosts: everyHost,
      input: (plan, host) => ({ ...baseInput(plan, host), hosts: plan.hosts.map((h) => ({ name: h.name, address: h.address })) }),
    }),
  ],
};
