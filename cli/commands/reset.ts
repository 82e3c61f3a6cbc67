// hardway reset: every host of a cluster back to its state before hardway (the workflow's `reset` update), like
// `kubeadm reset`: services stopped and disabled, containers removed, hardway's files and binaries removed, the
// /etc/hosts block removed. The CA's files stay unless --include-ca. Asks first unless --yes. The workflow ends.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { temporalOptions, type TemporalFlags } from '../../temporal/connection.js';
import { out } from '../io.js';
import { UsageError } from '../load-spec.js';
import { temporalFlags } from '../options.js';
import { runRequest } from '../request-command.js';

export type ResetFlags = TemporalFlags & {
  includeCa?: boolean;
  yes?: boolean;
  wait?: boolean;
  worker?: boolean;
  identity?: string;
};

export function resetCommand(program: Command): void {
  temporalFlags(
    program
      .command('reset')
      .description(
        'take every host of a cluster back to its state before hardway (services, containers, files, binaries); ' +
          'keeps the CA unless --include-ca; the cluster workflow then ends',
      )
      .argument('<cluster>', 'cluster name')
      .option('--include-ca', "also delete the CA's certificates and keys (every certificate of the cluster becomes worthless)")
      .option('-y, --yes', 'do not ask for confirmation')
      .option('--wait', 'follow the reset until it has finished or a step blocks')
      .option('--worker', 'also run a worker in this process for the duration (implies --wait)')
      .option('--identity <file>', 'SSH private key for the embedded worker'),
  ).action(resetAction);
}

/** Asks on the terminal; without one (a script, CI), refuses: --yes says it. */
async function confirmed(cluster: string, includeCa: boolean): Promise<boolean> {
  const what = `every host of cluster ${cluster}${includeCa ? ', the CA included,' : ''} will be reset: its Kubernetes, etcd and data are deleted`;
  if (!process.stdin.isTTY) throw new UsageError(`${what}. Not on a terminal, so nothing was asked: run again with --yes to go ahead`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${what}.\nType the cluster name to go ahead: `);
    return answer.trim() === cluster;
  } finally {
    rl.close();
  }
}

export async function resetAction(cluster: string, o: ResetFlags): Promise<void> {
  if (!o.yes && !(await confirmed(cluster, !!o.includeCa))) {
    out('not confirmed: nothing was changed');
    process.exitCode = 1;
    return;
  }
  await runRequest(temporalOptions(o), o, {
    cluster,
    send: async (client) => {
      const { resetCluster } = await import('../cluster-ops.js');
      return resetCluster(client, cluster, { includeCa: !!o.includeCa });
    },
    accepted: `cluster ${cluster}: resetting every host${o.includeCa ? ', the CA too' : ' (the CA is kept)'}`,
    ended: (r) => ({
      ok: r.state === 'reset',
      line:
        r.state === 'reset'
          ? `cluster ${cluster} is reset (${r.hosts.length} hosts${r.keptCa ? '; the CA kept' : ''}); hardway up -f FILE starts it again`
          : `the reset blocked; fix the cause, then: hardway retry ${cluster}`,
    }),
  });
}
