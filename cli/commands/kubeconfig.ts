// hardway kubeconfig: an admin kubeconfig for the operator's workstation.
//
// The admin certificate and its key are read over SSH, in this process, from the host that holds them (the admin host,
// else the first control plane), and written into a 0600 file here: the key never passes through Temporal. hardway
// copies the existing admin certificate instead of minting a new one: Kubernetes cannot revoke a client certificate,
// so every extra admin certificate would be one more that stays valid until it expires. Taking access back means
// removing the certificate's group from the cluster-admin binding (hardway:cluster-admins), which covers this copy too.
import { chmodSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { temporalOptions, connectClient, type TemporalFlags } from '../../temporal/connection.js';
import { workflowIdFor } from '../../temporal/constants.js';
import type { ClusterSpec } from '../../model/types.js';
import { err, out } from '../io.js';
import { loadSpec, UsageError } from '../load-spec.js';
import { temporalFlags } from '../options.js';

export type KubeconfigFlags = TemporalFlags & { file?: string; output?: string; identity?: string };

export function kubeconfigCommand(program: Command): void {
  temporalFlags(
    program
      .command('kubeconfig')
      .description('an admin kubeconfig for this machine: the admin certificate and key, read over SSH (never through Temporal)')
      .argument('[cluster]', 'cluster name: its cluster file is asked from the running workflow')
      .option('-f, --file <cluster.yaml>', 'take the cluster from this file instead (no Temporal needed)')
      .option('-o, --output <file>', 'write it here (mode 0600) instead of printing it')
      .option('--identity <file>', "SSH private key; overrides the cluster file's ssh.identityFile"),
  ).action(kubeconfigAction);
}

async function specOf(name: string | undefined, o: KubeconfigFlags): Promise<ClusterSpec> {
  if (o.file) return loadSpec(o.file);
  if (!name) throw new UsageError('name the cluster: hardway kubeconfig NAME (or -f cluster.yaml)');
  const client = await connectClient(temporalOptions(o));
  try {
    const { specQuery } = await import('../../workflows/status.js');
    const spec = await client.workflow
      .getHandle(workflowIdFor(name))
      .query(specQuery)
      .catch((e: Error) => {
        if (e.name === 'WorkflowNotFoundError') throw new UsageError(`no cluster named ${name} (no workflow ${workflowIdFor(name)})`, 1);
        throw e;
      });
    if (!spec) throw new UsageError(`cluster ${name} has not accepted a cluster file yet: run hardway up -f FILE first`, 1);
    return spec;
  } finally {
    await client.connection.close();
  }
}

export async function kubeconfigAction(name: string | undefined, o: KubeconfigFlags): Promise<void> {
  const spec = await specOf(name, o);
  const [{ checkSpec }, { plan: planCluster }, { targetOf }, { sshShells }, { SshPool }, { renderEmbeddedKubeconfig }] = await Promise.all([
    import('../../model/check.js'),
    import('../../model/plan.js'),
    import('../../workflows/phases/plan-lookup.js'),
    import('../../activities/ssh-shells.js'),
    import('../../remote/pool.js'),
    import('../../render/kubeconfig.js'),
  ]);
  const checked = checkSpec(spec);
  if (!checked.ok)
    throw new UsageError(`the cluster file of ${spec.name} does not check: ${checked.problems.map((p) => p.message).join('; ')}`);
  const plan = planCluster(checked.spec);
  const admin = plan.certificates.find((c) => c.id === 'admin');
  const holder = plan.hosts.find((h) => h.roles.includes('admin')) ?? plan.hosts.find((h) => h.roles.includes('controlplane'));
  const at = admin?.placements.find((p) => p.host === holder?.name);
  if (!admin || !holder || !at) throw new UsageError(`cluster ${plan.name} has no host that holds the admin certificate`, 1);

  const pool = new SshPool();
  try {
    const sh = sshShells(pool, { identityFile: o.identity }).shell(targetOf(plan, holder.name));
    const read = async (path: string) => {
      const b = await sh.readFile(path);
      if (!b) throw new UsageError(`${holder.name}:${path} does not exist: has hardway up finished the pki phase?`, 1);
      return b.toString();
    };
    const [ca, cert, key] = [await read(at.caPath), await read(at.certPath), await read(at.keyPath)];
    const text = renderEmbeddedKubeconfig({ cluster: plan.name, user: 'admin', server: plan.apiServer.url, ca, cert, key });
    if (o.output) {
      const file = resolve(o.output);
      writeFileSync(file, text, { mode: 0o600 });
      chmodSync(file, 0o600);
      err(
        `wrote ${file}: admin of cluster ${plan.name} at ${plan.apiServer.url} (from ${holder.name}); use: KUBECONFIG=${file} kubectl get nodes`,
      );
    } else out(text.trimEnd());
  } finally {
    await pool.close();
  }
}
