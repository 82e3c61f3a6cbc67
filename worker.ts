// The Temporal worker: registers the cluster workflow and its activities on task queue `hardway`, and owns the
// SSH pool the activities use. Several workers may run at once; each has its own pool.
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { DefaultLogger, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { legacyActivities } from './activities/legacy-v0.js';
import type { ClusterActivities } from './activities/types.js';
import type { LegacyActivities } from './workflows/legacy/bringup-v0.js';
import { sshShells, type SshDefaults } from './activities/ssh-shells.js';
import { SshPool } from './remote/pool.js';
import { TASK_QUEUE } from './temporal/constants.js';
import { connectWorker, type TemporalOptions } from './temporal/connection.js';
import { dataConverterFor } from './temporal/data-converter.js';

export interface WorkerRunOptions {
  temporal: TemporalOptions;
  ssh?: SshDefaults;
  /** Resolves when the worker should stop (it then finishes what it runs and returns). */
  until?: Promise<unknown>;
  log?: (line: string) => void;
}

/** The workflow bundle's entry: the compiled .js next to this file, or the .ts source under tsx. */
export function workflowsPath(): string {
  const js = fileURLToPath(new URL('./workflows/index.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./workflows/index.ts', import.meta.url));
}

/** Today's activities, and the names hardway 0.1 scheduled, so that a bring-up it started finishes. */
export function registeredActivities(acts: ClusterActivities): ClusterActivities & LegacyActivities {
  return { ...acts, ...legacyActivities(acts) };
}

export async function createWorker(o: WorkerRunOptions & { pool: SshPool }): Promise<Worker> {
  const connection = await connectWorker(o.temporal);
  return Worker.create({
    connection,
    namespace: o.temporal.namespace,
    taskQueue: TASK_QUEUE,
    workflowsPath: workflowsPath(),
    activities: registeredActivities(createActivities(sshShells(o.pool, o.ssh))),
    maxConcurrentActivityTaskExecutions: 20,
    dataConverter: dataConverterFor(o.temporal.codec),
  });
}

/**
 * The SDK's own log level for this process (default WARN, so that a worker inside `up` or `demo` does not
 * drown the progress lines). HARDWAY_LOG_LEVEL=INFO or DEBUG shows more. Call before the first worker is made.
 */
export function installRuntimeLogger(level = (process.env.HARDWAY_LOG_LEVEL ?? 'WARN').toUpperCase()): void {
  Runtime.install({ logger: new DefaultLogger(level as LogLevel) });
}

/** Runs a worker until `until` resolves or the process gets SIGINT/SIGTERM. */
export async function runWorker(o: WorkerRunOptions): Promise<void> {
  const pool = new SshPool();
  const worker = await createWorker({ ...o, pool });
  const encrypted = o.temporal.codec ? `, payloads encrypted with key '${o.temporal.codec.currentKeyId}'` : '';
  o.log?.(`worker polling task queue ${TASK_QUEUE} on ${o.temporal.address} (namespace ${o.temporal.namespace}${encrypted})`);
  const stop = () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  o.until?.then(stop, stop);
  try {
    await worker.run();
  } finally {
    pool.close();
  }
}
