// hardway add-worker / add-control-plane: grow a running cluster by one node (the workflow's `addWorker` /
// `addControlPlane` update; the signals of the same names do it for `temporal workflow signal`). Only the new node is
// provisioned; the others get its /etc/hosts line, and for a control plane the load balancer a backend (reloaded).
import type { Command } from 'commander';
import type { AddedRole } from '../../model/add-node.js';
import type { TemporalFlags } from '../../temporal/connection.js';
import { temporalFlags } from '../options.js';
import { runRequest, sshFlags, temporalOptionsBesideNodeAddress } from '../request-command.js';

export type AddNodeFlags = Omit<TemporalFlags, 'address'> & {
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

const WORD: Record<AddedRole, string> = { worker: 'worker', controlplane: 'control plane' };

export function addNodeCommands(program: Command): void {
  for (const [command, role, description] of [
    [
      'add-worker',
      'worker',
      'add a worker to a running cluster: it gets the next free pod range, its certificates and the node phases; ' +
        'other hosts only learn its name (same as: temporal workflow signal --name addWorker)',
    ],
    [
      'add-control-plane',
      'controlplane',
      'add a control plane to a running cluster: its API server certificate, the control-plane and node phases, and a ' +
        'backend on the load balancer, reloaded without dropping a request (same as: temporal workflow signal --name addControlPlane)',
    ],
  ] as const) {
    temporalFlags(
      program
        .command(command)
        .description(description)
        .argument('<cluster>', 'cluster name')
        .requiredOption('--name <name>', `host name of the new ${WORD[role]}`)
        .requiredOption('--address <address>', 'its address on the infrastructure network')
        .option('--user <user>', "SSH user, when not the cluster file's")
        .option('--port <port>', "SSH port, when not the cluster file's", (v) => Number(v))
        .option('--request-id <id>', 'an id of your own: the same request sent again is applied once')
        .option('--wait', 'follow the converge until the node is Ready or a step blocks')
        .option('--worker', 'also run a worker in this process for the duration (implies --wait)')
        .option('--identity <file>', 'SSH private key for the embedded worker'),
      { addressFlag: '--temporal-address' },
    ).action((cluster: string, o: AddNodeFlags) => addNodeAction(cluster, o, role));
  }
}

export async function addNodeAction(cluster: string, o: AddNodeFlags, role: AddedRole): Promise<void> {
  const ssh = sshFlags(o);
  const word = WORD[role];
  await runRequest(temporalOptionsBesideNodeAddress(o), o, {
    cluster,
    send: async (client) => {
      const { addNode } = await import('../cluster-ops.js');
      return addNode(
        client,
        cluster,
        { name: o.name, address: o.address, ...ssh, ...(o.requestId ? { requestId: o.requestId } : {}) },
        role,
      );
    },
    accepted: `cluster ${cluster}: adding ${word} ${o.name} (${o.address})`,
    ended: (r) => ({
      ok: r.state === 'Ready',
      line:
        r.state === 'Ready'
          ? `${word} ${r.name} is Ready with the pod range ${r.podRange}`
          : `${word} ${r.name} (pod range ${r.podRange}) is not Ready: the converge blocked; fix the cause, then: hardway retry ${cluster}`,
    }),
  });
}
