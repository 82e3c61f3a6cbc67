// hardway remove-worker: take a worker out of a running cluster (the workflow's `removeWorker` update): cordon and
// drain it, delete its Node, stop and clean its services and files, drop it from every host's /etc/hosts.
import type { Command } from 'commander';
import { temporalOptions, type TemporalFlags } from '../../temporal/connection.js';
import { temporalFlags } from '../options.js';
import { runRequest } from '../request-command.js';

export type RemoveWorkerFlags = TemporalFlags & {
  hostLost?: boolean;
  requestId?: string;
  wait?: boolean;
  worker?: boolean;
  identity?: string;
};

export function removeWorkerCommand(program: Command): void {
  temporalFlags(
    program
      .command('remove-worker')
      .description(
        'take a worker out of a running cluster: cordon, drain, delete its Node, stop and clean its services and files; ' +
          'its name and address can be used again (same as: temporal workflow signal --name removeWorker)',
      )
      .argument('<cluster>', 'cluster name')
      .argument('<name>', 'the worker to remove')
      .option('--host-lost', 'the host is gone for good: delete its Node without draining, and do not connect to it')
      .option('--request-id <id>', 'an id of your own: the same request sent again is applied once')
      .option('--wait', 'follow the converge until the worker is removed or a step blocks')
      .option('--worker', 'also run a worker in this process for the duration (implies --wait)')
      .option('--identity <file>', 'SSH private key for the embedded worker'),
  ).action(removeWorkerAction);
}

export async function removeWorkerAction(cluster: string, name: string, o: RemoveWorkerFlags): Promise<void> {
  await runRequest(temporalOptions(o), o, {
    cluster,
    send: async (client) => {
      const { removeWorker } = await import('../cluster-ops.js');
      return removeWorker(client, cluster, {
        name,
        ...(o.hostLost ? { hostLost: true } : {}),
        ...(o.requestId ? { requestId: o.requestId } : {}),
      });
    },
    accepted: `cluster ${cluster}: removing worker ${name}${o.hostLost ? ' (host lost: not drained, not cleaned)' : ''}`,
    ended: (r) => ({
      ok: r.state === 'removed',
      line:
        r.state === 'removed'
          ? `worker ${name} is removed${r.podRange ? ` (its pod range ${r.podRange} stays reserved for the name ${name})` : ''}`
          : `worker ${name} is not removed yet: the converge blocked; fix the cause, then: hardway retry ${cluster}`,
    }),
  });
}
