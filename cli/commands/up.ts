// hardway up: apply a cluster file to its cluster's workflow, starting the workflow when there is none
// (update-with-start). The action, upAction, is also what `demo` runs.
import { hostname, userInfo } from 'node:os';
import type { Client } from '@temporalio/client';
import { Option, type Command } from 'commander';
import { temporalOptions, connectClient, type TemporalFlags } from '../../temporal/connection.js';
import { embeddedWorker, err, out } from '../io.js';
import { detachOnInterrupt, interruptWhileSending, viewFor, type DetachOptions } from '../live-view.js';
import { loadSpec } from '../load-spec.js';
import { temporalUiUrl, workflowPage } from '../../temporal/ui-url.js';
import { temporalFlags } from '../options.js';
import { sayWhenNoWorker } from '../worker-presence.js';

/**
 * Hosts of one phase step running at once when `up` does not say: the seed's ten hosts in one wave (one pooled SSH
 * connection each, so the cost is commands, not connections); a hundred-node cluster in waves of ten.
 */
export const DEFAULT_PARALLELISM = 10;

export type UpFlags = TemporalFlags & {
  file: string;
  wait?: boolean;
  worker?: boolean;
  identity?: string;
  parallelism?: number;
  dryRun?: boolean;
  uiUrl?: string;
  /** For `demo`: what Ctrl-C says and stops, instead of a plain detach. */
  onInterrupt?: DetachOptions['onInterrupt'];
};

export function upCommand(program: Command): void {
  temporalFlags(
    program
      .command('up')
      .description(
        "apply a cluster file: start the cluster's workflow (id cluster-<name>), or hand the file to the one that runs; " +
          'it converges every host to the file',
      )
      .requiredOption('-f, --file <cluster.yaml>', 'the cluster file')
      .option('--wait', 'follow the converge until it has finished or blocked, and print the final status')
      .option('--worker', 'also run a worker in this process for the duration (implies --wait)')
      .option('--identity <file>', "SSH private key for the embedded worker; overrides the cluster file's ssh.identityFile")
      .option('--parallelism <n>', 'per-host steps of one phase running at once', (v) => Number(v), DEFAULT_PARALLELISM)
      .option('--dry-run', 'list what would change on each host, reading the hosts over SSH and changing nothing (no workflow)')
      .addOption(
        new Option('--ui-url <url>', "the Temporal web UI, for the link printed (default: the dev server's, when it answers)").env(
          'HARDWAY_TEMPORAL_UI',
        ),
      ),
  ).action(upAction);
}

export async function upAction(o: UpFlags): Promise<void> {
  if (o.dryRun) return dryRunAction(o);
  const spec = loadSpec(o.file);
  const topts = temporalOptions(o);
  const client = await connectClient(topts);
  const { applySpec, followToEnd } = await import('../cluster-ops.js');
  // Ctrl-C is ours from here (before the embedded worker starts, whose SDK would otherwise take it to stop only itself).
  const following = o.wait || o.worker;
  const stopDetach = following
    ? detachOnInterrupt(spec.name, { embeddedWorker: !!o.worker, say: err, onInterrupt: o.onInterrupt })
    : interruptWhileSending(spec.name, o.file, err);
  const stopWorker = o.worker ? await embeddedWorker(topts, o.identity) : undefined;
  try {
    await sayWhatRuns(client, topts.namespace, spec.name);
    const sent = applySpec(client, spec, { parallelism: o.parallelism ?? DEFAULT_PARALLELISM, requestedBy: requester() });
    const req = await sayWhenNoWorker(client, topts, err, sent);
    out(`cluster ${spec.name}: the workflow ${req.handle.workflowId} accepted ${o.file}`);
    const ui = await temporalUiUrl(topts.address, o.uiUrl);
    out(
      ui
        ? `Temporal UI: ${workflowPage(ui, topts.namespace, req.handle.workflowId)}`
        : `Temporal UI: not known for ${topts.address} (give it with --ui-url or HARDWAY_TEMPORAL_UI); the workflow is ${req.handle.workflowId}`,
    );
    if (!following) {
      out(`follow it with: hardway status ${spec.name}`);
      return;
    }
    await followToEnd(req, out, viewFor(out));
  } finally {
    stopDetach();
    await stopWorker?.();
    await client.connection.close();
  }
}

/** Who runs this command, for the cluster's change log: another operator's `status` shows it. */
export function requester(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry for this uid: keep $USER
  }
  return `${user}@${hostname()}`;
}

/**
 * Before a file is applied: when the cluster is already converging (another operator's `up`, on this machine or
 * another) or blocked, says so and what this file will do. Quiet when no worker answers within a second or two:
 * it is advice, and the request itself goes on.
 */
async function sayWhatRuns(client: Client, namespace: string, cluster: string): Promise<void> {
  const { clusterStatus } = await import('../cluster-ops.js');
  const { liveWorkers } = await import('../worker-presence.js');
  const { workflowIdFor } = await import('../../temporal/constants.js');
  try {
    if ((await liveWorkers(client, namespace)).length === 0) return;
    const st = await client.withDeadline(Date.now() + 2000, () => clusterStatus(client.workflow.getHandle(workflowIdFor(cluster))));
    const running = st.changes.filter((c) => c.accepted && c.generation === st.convergingGeneration).pop();
    if (st.state === 'converging') {
      const who = running?.by ? ` requested by ${running.by}` : '';
      err(
        `cluster ${cluster} is already converging generation ${st.convergingGeneration ?? st.generation}` +
          `${st.currentPhase ? ` (phase ${st.currentPhase})` : ''}${who}${running ? `: ${running.summary}` : ''}. ` +
          `This file becomes the next generation and is applied once that converge ends; the newest file wins, so it must ` +
          `hold every host you want. Follow both with: hardway watch ${cluster}`,
      );
    } else if (st.state === 'blocked' && st.blocked?.length) {
      const b = st.blocked[0]!;
      err(`cluster ${cluster} is blocked at ${b.step} on ${b.host}: ${b.error}. This file resumes the converge from there.`);
    }
  } catch {
    // no such cluster yet, or no answer in time
  }
}

/**
 * The same phases, steps, inputs and activity code as the workflow, run from this process on shells that read
 * the hosts and record changes instead of making them. Pod ranges come from the running cluster when it answers.
 */
async function dryRunAction(o: UpFlags): Promise<void> {
  const spec = loadSpec(o.file);
  const [{ plan }, { PHASES }, { dryRun }, { createActivities, dryRunShells, sshShells }, { SshPool }] = await Promise.all([
    import('../../model/plan.js'),
    import('../../workflows/phases/index.js'),
    import('../dry-run.js'),
    import('../../activities/index.js'),
    import('../../remote/pool.js'),
  ]);
  const allocations = await runningAllocations(o, spec.name);
  err(
    allocations
      ? `pod ranges: as the running cluster ${spec.name} has them`
      : `pod ranges: as a new cluster would get them (no running cluster ${spec.name} answered)`,
  );
  const pool = new SshPool();
  try {
    const shells = dryRunShells(sshShells(pool, { identityFile: o.identity }));
    const report = await dryRun(plan(spec, allocations), PHASES, shells, createActivities(shells), out);
    process.exitCode = report.failing ? 1 : 0;
  } finally {
    await pool.close();
  }
}

async function runningAllocations(o: UpFlags, cluster: string): Promise<Record<string, string> | undefined> {
  const { workflowIdFor } = await import('../../temporal/constants.js');
  const { statusQuery } = await import('../../workflows/status.js');
  const within = <T>(p: Promise<T>, ms: number) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;
  try {
    client = await within(connectClient(temporalOptions(o)), 3000);
    const st = await within(client.workflow.getHandle(workflowIdFor(cluster)).query(statusQuery), 5000);
    return st.podAllocations;
  } catch {
    return undefined;
  } finally {
    await client?.connection.close().catch(() => undefined);
  }
}
