// hardway replace-etcd-member: take an etcd member out and bring a new one in (the workflow's `replaceEtcdMember`
// update), e.g. when its host is lost. The old member is removed from etcd through a running member and its host
// cleaned (unless --host-lost); the new host joins as a learner, is promoted, and the API servers are pointed at it.
import type { Command } from 'commander';
import type { TemporalFlags } from '../../temporal/connection.js';
import { temporalFlags } from '../options.js';
import { runRequest, sshFlags, temporalOptionsBesideNodeAddress } from '../request-command.js';

export type ReplaceEtcdMemberFlags = Omit<TemporalFlags, 'address'> & {
  temporalAddress?: string;
  name: string;
  address: string;
  user?: string;
  port?: number;
  hostLost?: boolean;
  requestId?: string;
  wait?: boolean;
  worker?: boolean;
  identity?: string;
};

export function replaceEtcdMemberCommand(program: Command): void {
  temporalFlags(
    program
      .command('replace-etcd-member')
      .description(
        'replace an etcd member (e.g. its host is lost): remove it from etcd, clean its host, then join a new host as a ' +
          'learner and promote it (same as: temporal workflow signal --name replaceEtcdMember)',
      )
      .argument('<cluster>', 'cluster name')
      .argument('<old>', 'the etcd member to take out')
      .requiredOption('--name <name>', 'host name of the new member (a name of its own)')
      .requiredOption('--address <address>', "its address on the infrastructure network (may be the old member's)")
      .option('--user <user>', "SSH user, when not the cluster file's")
      .option('--port <port>', "SSH port, when not the cluster file's", (v) => Number(v))
      .option('--host-lost', "the old member's host is gone: do not connect to it to clean it")
      .option('--request-id <id>', 'an id of your own: the same request sent again is applied once')
      .option('--wait', 'follow the converge until the new member serves or a step blocks')
      .option('--worker', 'also run a worker in this process for the duration (implies --wait)')
      .option('--identity <file>', 'SSH private key for the embedded worker'),
    { addressFlag: '--temporal-address' },
  ).action(replaceEtcdMemberAction);
}

export async function replaceEtcdMemberAction(cluster: string, old: string, o: ReplaceEtcdMemberFlags): Promise<void> {
  const ssh = sshFlags(o);
  await runRequest(temporalOptionsBesideNodeAddress(o), o, {
    cluster,
    send: async (client) => {
      const { replaceEtcdMember } = await import('../cluster-ops.js');
      return replaceEtcdMember(client, cluster, {
        old,
        name: o.name,
        address: o.address,
        ...ssh,
        ...(o.hostLost ? { hostLost: true } : {}),
        ...(o.requestId ? { requestId: o.requestId } : {}),
      });
    },
    accepted: `cluster ${cluster}: replacing etcd member ${old} with ${o.name} (${o.address})`,
    ended: (r) => ({
      ok: r.state === 'replaced',
      line:
        r.state === 'replaced'
          ? `etcd member ${old} is replaced by ${r.name}`
          : `the replacement blocked; fix the cause, then: hardway retry ${cluster}`,
    }),
  });
}
