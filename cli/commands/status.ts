// hardway status: ask the cluster workflow where it is (a query), and print it as a table or JSON.
import type { Command } from 'commander';
import { temporalOptions, connectClient, type TemporalFlags } from '../../temporal/connection.js';
import { workflowIdFor } from '../../temporal/constants.js';
import { err, out } from '../io.js';
import { loadSpec, UsageError } from '../load-spec.js';
import { temporalFlags } from '../options.js';
import { formatStatus } from '../status-format.js';

export type StatusFlags = TemporalFlags & { file?: string; json?: boolean; output?: string; host?: string };

/** How long the status query may take before `status` says what it knows without a worker. */
const QUERY_DEADLINE_MS = 5_000;

export function statusCommand(program: Command): void {
  temporalFlags(
    program
      .command('status')
      .description('phase, per-host steps, attempts, errors and timings of a cluster (a workflow query)')
      .argument('[cluster]', 'cluster name (default: the name in -f FILE)')
      .option('-f, --file <cluster.yaml>', 'take the cluster name from this file')
      .option('-o, --output <format>', 'wide: every step, with what it changed; json: the status as JSON')
      .option('--host <name>', 'every step of one host, with what it changed')
      .option('--json', 'print the status as JSON (same as -o json)'),
  ).action(statusAction);
}

export async function statusAction(name: string | undefined, o: StatusFlags): Promise<void> {
  const cluster = name ?? (o.file ? loadSpec(o.file).name : undefined);
  if (o.output !== undefined && o.output !== 'wide' && o.output !== 'json') {
    throw new UsageError(`-o ${o.output}: give wide or json`);
  }
  const json = o.json || o.output === 'json';
  if (!cluster) throw new UsageError('name the cluster: hardway status NAME (or -f cluster.yaml)');
  const topts = temporalOptions(o);
  const client = await connectClient(topts);
  try {
    const { clusterStatus, statusWithoutWorker } = await import('../cluster-ops.js');
    const { liveWorkers } = await import('../worker-presence.js');
    const handle = client.workflow.getHandle(workflowIdFor(cluster));
    const notFound = (e: Error) => {
      if (e.name === 'WorkflowNotFoundError')
        throw new UsageError(`no cluster named ${cluster} (no workflow ${workflowIdFor(cluster)})`, 1);
      throw e;
    };
    // The status is a query, which only a worker answers: without one it would hang. A worker polls again at least
    // every ~70 s while it lives, so none seen for longer means none runs.
    const live = await liveWorkers(client, topts.namespace);
    const st = live.length
      ? await client
          .withDeadline(Date.now() + QUERY_DEADLINE_MS, () => clusterStatus(handle))
          .catch((e: Error) => {
            if (e.name === 'WorkflowNotFoundError') notFound(e);
            return undefined; // the worker did not answer in time (busy, or just died)
          })
      : undefined;
    if (st) {
      out(json ? JSON.stringify(st, null, 2) : formatStatus(st, { wide: o.output === 'wide', host: o.host }));
      return;
    }
    const what = await statusWithoutWorker(handle).catch(notFound);
    err(
      live.length
        ? `no worker answered the status query within ${QUERY_DEADLINE_MS / 1000} s (workers seen: ${live.map((p) => p.identity).join(', ')})`
        : `no worker is polling task queue "hardway": the cluster waits until one runs (hardway worker, or up/retry --worker)`,
    );
    out(what);
    process.exitCode = 1;
  } finally {
    await client.connection.close();
  }
}
