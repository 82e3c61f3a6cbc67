// hardway status: ask the cluster workflow where it is (a query), and print it as a table or JSON.
import type { Command } from 'commander';
import { temporalOptions, connectClient, type TemporalFlags } from '../../temporal/connection.js';
import { workflowIdFor } from '../../temporal/constants.js';
import { out } from '../io.js';
import { loadSpec, UsageError } from '../load-spec.js';
import { temporalFlags } from '../options.js';
import { formatStatus } from '../status-format.js';

export type StatusFlags = TemporalFlags & { file?: string; json?: boolean };

export function statusCommand(program: Command): void {
  temporalFlags(
    program
      .command('status')
      .description('phase, per-host steps, attempts, errors and timings of a cluster (a workflow query)')
      .argument('[cluster]', 'cluster name (default: the name in -f FILE)')
      .option('-f, --file <cluster.yaml>', 'take the cluster name from this file')
      .option('--json', 'print the status as JSON'),
  ).action(statusAction);
}

export async function statusAction(name: string | undefined, o: StatusFlags): Promise<void> {
  const cluster = name ?? (o.file ? loadSpec(o.file).name : undefined);
  if (!cluster) throw new UsageError('name the cluster: hardway status NAME (or -f cluster.yaml)');
  const client = await connectClient(temporalOptions(o));
  try {
    const { clusterStatus } = await import('../cluster-ops.js');
    const st = await clusterStatus(client.workflow.getHandle(workflowIdFor(cluster))).catch((e: Error) => {
      if (e.name === 'WorkflowNotFoundError')
        throw new UsageError(`no cluster named ${cluster} (no workflow ${workflowIdFor(cluster)})`, 1);
      throw e;
    });
    out(o.json ? JSON.stringify(st, null, 2) : formatStatus(st));
  } finally {
    await client.connection.close();
  }
}
