// remove-worker's first step: the node leaves Kubernetes. Cordoned (no new pods), drained (its pods evicted, so their
// controllers start them elsewhere; DaemonSet pods stay), and its Node object deleted. From the first control plane,
// with the admin kubeconfig. A node already gone is done; a lost host's node is only cordoned and deleted (its kubelet
// cannot stop the pods: the API's pod garbage collector removes the pods of a deleted node).
import { shellQuote as q } from '../remote/exec.js';
import { kubectl, kubectlReads } from './kubectl.js';
import type { HostShells } from './host-shell.js';
import { nodeState } from './nodes.js';
import { runStep } from './step.js';
import type { NodeDrainInput, StepReport } from './types.js';

/** How long a drain waits for the node's pods to leave before the attempt fails (and is retried). */
const DRAIN_TIMEOUT_S = 120;

export function drainNodeActivity(shells: HostShells) {
  return (input: NodeDrainInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.via);
      const node = input.node;
      const live = await nodeState(sh, input, node);
      if (!live) {
        ctx.notes.push(`Node ${node} is not in the cluster (already deleted)`);
        return;
      }
      const k = (args: string) => kubectl(input.kubeconfig, args);
      const reads = kubectlReads(input.kubeconfig);
      const unschedulable = await sh.exec(k(`get node ${q(node)} -o jsonpath='{.spec.unschedulable}'`), { reads });
      if (unschedulable.stdout.trim() !== 'true') {
        await sh.change(k(`cordon ${q(node)}`), { summary: `cordon ${node}` });
        ctx.changed(`cordoned ${node}`);
      }
      if (!input.hostLost) {
        const pods = await sh.exec(k(`get pods -A --field-selector spec.nodeName=${q(node)} -o name`), { reads });
        const count = pods.stdout.split('\n').filter(Boolean).length;
        ctx.progress(`draining ${node} (${count} pods)`);
        // A drain that runs out of time fails the attempt (retried): a PodDisruptionBudget may let go later.
        await sh.change(
          k(`drain ${q(node)} --ignore-daemonsets --delete-emptydir-data --force --grace-period=30 --timeout=${DRAIN_TIMEOUT_S}s`),
          { summary: `drain ${node}`, timeoutMs: (DRAIN_TIMEOUT_S + 30) * 1000 },
        );
        if (count) ctx.changed(`drained ${node} (${count} pod${count === 1 ? '' : 's'} on it)`);
      } else {
        ctx.notes.push(`${node}'s host is lost: not drained; the pods of the deleted Node are removed by the API's garbage collector`);
      }
      await sh.change(k(`delete node ${q(node)} --ignore-not-found --wait=true`), { summary: `delete node ${node}` });
      ctx.changed(`deleted Node ${node}`);
    });
}
