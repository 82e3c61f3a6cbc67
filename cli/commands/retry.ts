// hardway retry: resume a blocked converge at the step that failed (steps already done are not run again).
import type { Command } from 'commander';
import { temporalOptions, connectClient, type TemporalFlags } from '../../temporal/connection.js';
import { embeddedWorker, err, out } from '../io.js';
import { detachOnInterrupt, viewFor } from '../live-view.js';
import { temporalFlags } from '../options.js';

export type RetryFlags = TemporalFlags & { wait?: boolean; worker?: boolean; identity?: string };

export function retryCommand(program: Command): void {
  temporalFlags(
    program
      .command('retry')
      .description(
        'resume a blocked converge at the step that failed, once its cause is fixed (same as: temporal workflow signal --name retry)',
      )
      .argument('<cluster>', 'cluster name')
      .option('--wait', 'follow the converge until it has finished or blocked again')
      .option('--worker', 'also run a worker in this process for the duration (implies --wait)')
      .option('--identity <file>', 'SSH private key for the embedded worker'),
  ).action(retryAction);
}

export async function retryAction(cluster: string, o: RetryFlags): Promise<void> {
  const topts = temporalOptions(o);
  const client = await connectClient(topts);
  const { retryCluster, followToEnd } = await import('../cluster-ops.js');
  const stopWorker = o.worker ? await embeddedWorker(topts, o.identity) : undefined;
  try {
    const req = await retryCluster(client, cluster);
    out(`cluster ${cluster}: resuming at the blocked step`);
    if (!o.wait && !o.worker) return;
    const stopDetach = detachOnInterrupt(cluster, { embeddedWorker: !!o.worker, say: err });
    await followToEnd(req, out, viewFor(out)).finally(stopDetach);
  } finally {
    await stopWorker?.();
    await client.connection.close();
  }
}
