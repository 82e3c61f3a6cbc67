// reset: every host of the cluster back to its state before hardway (`hardway reset`), like `kubeadm reset`. One
// step per host, all hosts in lanes; the CA's files stay unless the request includes the CA. Pure.
import { hostFootprint } from '../../model/footprint.js';
import { baseInput, everyHost } from './plan-lookup.js';
import { step, type Phase } from './phase.js';

export function resetPhase(includeCa: boolean): Phase {
  return {
    name: 'reset',
    title: `reset every host${includeCa ? ' (the CA too)' : ' (the CA kept)'}`,
    steps: [
      step({
        activity: 'reset/host',
        hosts: everyHost,
        input: (plan, host) => ({ ...baseInput(plan, host), footprint: hostFootprint(plan, host, { includeCa }) }),
      }),
    ],
  };
}
