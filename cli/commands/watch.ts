// hardway watch: show a cluster's converge live until it has finished or blocked (on a terminal redrawn in place,
// piped one line per change); Ctrl-C detaches. The exit code says where it ended: 0 converged (or reset), 1 blocked.
import type { Command } from 'commander';
import { temporalOptions, connectClient, type TemporalFlags } from '../../temporal/connection.js';
import { workflowIdFor } from '../../temporal/constants.js';
import { err, out } from '../io.js';
import { detachOnInterrupt, viewFor } from '../live-view.js';
import { UsageError } from '../load-spec.js';
import { temporalFlags } from '../options.js';

export function watchCommand(program: Command): void {
  temporalFlags(
    program
      .command('watch')
      .description('show the converge of a cluster live, phase by phase and step by step, until it has finished or blocked')
      .argument('<cluster>', 'cluster name'),
  ).action(watchAction);
}

export async function watchAction(cluster: string, o: TemporalFlags): Promise<void> {
  const client = await connectClient(temporalOptions(o));
  try {
    const { watchCluster } = await import('../cluster-ops.js');
    const { formatStatus } = await import('../status-format.js');
    const handle = client.workflow.getHandle(workflowIdFor(cluster));
    const stopDetach = detachOnInterrupt(cluster, { say: err });
    const st = await watchCluster(handle, viewFor(out))
      .catch((e: Error) => {
        if (e.name === 'WorkflowNotFoundError')
          throw new UsageError(`no cluster named ${cluster} (no workflow ${workflowIdFor(cluster)})`, 1);
        throw e;
      })
      .finally(stopDetach);
    if (!process.stdout.isTTY) out(formatStatus(st));
    process.exitCode = st.state === 'blocked' ? 1 : 0;
  } finally {
    await client.connection.close();
  }
}
