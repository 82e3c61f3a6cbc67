// hardway cancel: stop the converge in progress (the workflow's `cancel` update). Its running steps are cancelled
// and it ends blocked at them; `hardway retry` resumes there. The workflow, its spec and pod ranges live on.
import type { Command } from 'commander';
import { temporalOptions, connectClient, type TemporalFlags } from '../../temporal/connection.js';
import { out } from '../io.js';
import { temporalFlags } from '../options.js';

export function cancelCommand(program: Command): void {
  temporalFlags(
    program
      .command('cancel')
      .description('stop the converge in progress: its running steps are cancelled; hardway retry resumes where it stopped')
      .argument('<cluster>', 'cluster name'),
  ).action(cancelAction);
}

export async function cancelAction(cluster: string, o: TemporalFlags): Promise<void> {
  const client = await connectClient(temporalOptions(o));
  try {
    const { cancelConverge, clusterStatus } = await import('../cluster-ops.js');
    const { formatStatus } = await import('../status-format.js');
    const req = await cancelConverge(client, cluster);
    const result = await req.update.result();
    out(formatStatus(await clusterStatus(req.handle)));
    out(`cluster ${cluster}: the converge of generation ${result.generation} stopped; resume it with: hardway retry ${cluster}`);
  } finally {
    await client.connection.close();
  }
}
