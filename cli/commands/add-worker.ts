// hardway add-worker: grow a running cluster by one worker (the workflow's `addWorker` update; the signal of the same
// name does it for `temporal workflow signal`). Only the new node is provisioned; the others get its /etc/hosts line.
import type { Command } from 'commander';
import { temporalOptions, connectClient, type TemporalFlags } from '../../temporal/connection.js';
import { embeddedWorker, out } from '../io.js';
import { UsageError } from '../load-spec.js';
import { temporalFlags } from '../options.js';

export type AddWorkerFlags = Omit<TemporalFlags, 'address'> & {
  /** The Temporal frontend (--temporal-address: --address is the node's). */
  temporalAddress?: string;
  name: string;
  address: string;
  user?: string;
  port?: number;
  requestId?: string;
  wait?: boolean;
  worker?: boolean;
  identity?: string;
};

export function addWorkerCommand(program: Command): void {
  temporalFlags(
    program
      .command('add-worker')
      .description(
        'add a worker to a running cluster: it gets the next free pod range, its certificates and the node phases; ' +
          'other hosts only learn its name (same as: temporal workflow signal --name addWorker)',
      )
      .argument('<cluster>', 'cluster name')
      .requiredOption('--name <name>', 'host name of the new worker')
      .requiredOption('--address <address>', 'its address on the infrastructure network')
      .option('--user <user>', "SSH user, when not the cluster file's")
      .option('--port <port>', "SSH port, when not the cluster file's", (v) => Number(v))
      .option('--request-id <id>', 'an id of your own: the same request sent again is applied once')
      .option('--wait', 'follow the converge until the node is Ready or a step blocks')
      .option('--worker', 'also run a worker in this process for the duration (implies --wait)')
      .option('--identity <file>', 'SSH private key for the embedded worker'),
    { addressFlag: '--temporal-address' },
  ).action(addWorkerAction);
}

export async function addWorkerAction(cluster: string, o: AddWorkerFlags): Promise<void> {
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port > 0 && o.port < 65536)) {
    throw new UsageError(`--port ${o.port}: give a TCP port between 1 and 65535`);
  }
  const { temporalAddress, address: _node, ...rest } = o;
  const topts = temporalOptions({ ...rest, ...(temporalAddress ? { address: temporalAddress } : {}) });
  const client = await connectClient(topts);
  const { addWorker, follow } = await import('../cluster-ops.js');
  const { formatStatus } = await import('../status-format.js');
  const stopWorker = o.worker ? await embeddedWorker(topts, o.identity) : undefined;
  try {
    const ssh = { ...(o.user ? { user: o.user } : {}), ...(o.port !== undefined ? { port: o.port } : {}) };
    const req = await addWorker(client, cluster, {
      name: o.name,
      address: o.address,
      ...(Object.keys(ssh).length ? { ssh } : {}),
      ...(o.requestId ? { requestId: o.requestId } : {}),
    });
    out(`cluster ${cluster}: adding worker ${o.name} (${o.address})`);
    if (!o.wait && !o.worker) {
      out(`follow it with: hardway status ${cluster}`);
      return;
    }
    const { result, status } = await follow(req, out);
    out(formatStatus(status));
    out(
      result.state === 'Ready'
        ? `worker ${result.name} is Ready with the pod range ${result.podRange}`
        : `worker ${result.name} (pod range ${result.podRange}) is not Ready: the converge blocked; fix the cause, then: hardway retry ${cluster}`,
    );
    process.exitCode = result.state === 'Ready' ? 0 : 1;
  } finally {
    await stopWorker?.();
    await client.connection.close();
  }
}
