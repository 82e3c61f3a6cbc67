// Worker drills for end-to-end tests: `hardway worker` processes run a converge, and one is killed with SIGKILL in
// the middle of it. Also the status polling and the history check such drills assert with.
import assert from 'node:assert/strict';
import { clusterStatus } from '../../cli/cluster-ops.js';
import type { ClusterStatus } from '../../workflows/status.js';
import { workerProcess, type WorkerProcess } from './worker-process.js';

type ClusterHandle = Parameters<typeof clusterStatus>[0];

/** Polls the status until `ok` holds (the status then), failing after `timeoutMs`. */
export async function waitForStatus(
  handle: ClusterHandle,
  ok: (st: ClusterStatus) => boolean,
  what: string,
  timeoutMs = 10 * 60_000,
): Promise<ClusterStatus> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const st = await clusterStatus(handle);
    if (ok(st)) return st;
    assert.ok(Date.now() < until, `waited ${timeoutMs / 1000} s for ${what}: ${st.state} ${st.currentPhase ?? ''} ${st.error ?? ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Activity ids scheduled more than once in `events` (a retry, also after a worker died, is the same scheduled activity). */
export function scheduledTwice(events: unknown[]): string[] {
  const ids = events.flatMap((e) => {
    const a = (e as { activityTaskScheduledEventAttributes?: { activityId?: string } }).activityTaskScheduledEventAttributes;
    return a?.activityId ? [a.activityId] : [];
  });
  return ids.filter((id, i) => ids.indexOf(id) !== i);
}

export interface WorkerDrillOptions {
  /** The Temporal frontend the worker processes poll. */
  address: string;
  /** Where their output goes. */
  logFile: string;
  /** How many poll at once (default 1). */
  workers?: number;
  /** An in-process worker that steps aside for the drill and comes back after it (LabCluster's). */
  stepAside?: { stopWorker(): Promise<void>; startWorker(): Promise<void> };
}

/**
 * `hardway worker` processes in place of the in-process worker, one of them killed with SIGKILL in the middle of a run
 * (the one running a step in flight, when that can be told), then waits until the steps that were in flight are taken
 * over (attempt 2). By default each kill has a new worker polling first; `replace: false` leaves the others to it.
 */
export class WorkerDrill {
  private readonly alive: WorkerProcess[] = [];
  private readonly all: WorkerProcess[] = [];
  readonly kills: { what: string; takeoverS: number; inFlight: string[]; pid: number }[] = [];

  private constructor(private readonly o: WorkerDrillOptions) {}

  static async start(o: WorkerDrillOptions): Promise<WorkerDrill> {
    await o.stepAside?.stopWorker();
    const d = new WorkerDrill(o);
    await Promise.all(Array.from({ length: o.workers ?? 1 }, () => d.spawn()));
    return d;
  }

  /** The PIDs of the worker processes alive now. */
  get pids(): number[] {
    return this.alive.map((w) => w.child.pid!);
  }

  private async spawn(): Promise<WorkerProcess> {
    const w = workerProcess(this.o.address, this.o.logFile);
    this.all.push(w);
    await w.polling;
    this.alive.push(w);
    return w;
  }

  /** The worker process that runs a step now (activity identities are `<pid>@<host>`), else the oldest one. */
  private async busyWorker(handle: ClusterHandle): Promise<WorkerProcess> {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const pids = pending.map((p) => Number(/^(\d+)@/.exec(p.lastWorkerIdentity ?? '')?.[1]));
    return this.alive.find((w) => pids.includes(w.child.pid!)) ?? this.alive[0]!;
  }

  async killDuring(
    handle: ClusterHandle,
    step: (s: ClusterStatus['steps'][number]) => boolean,
    what: string,
    o: { replace?: boolean } = {},
  ): Promise<void> {
    await waitForStatus(
      handle,
      (x) => {
        assert.ok(x.state === 'converging' || x.state === 'waiting', `the converge ended (${x.state}) before ${what}`);
        return x.steps.some(step);
      },
      what,
    );
    if (o.replace ?? true) await this.spawn();
    assert.ok(this.alive.length > 1, 'no worker process would be left to take over');
    const victim = await this.busyWorker(handle);
    const inFlight = (await clusterStatus(handle)).steps.filter((s) => s.state === 'running').map((s) => s.name);
    const t0 = Date.now();
    await victim.kill();
    this.alive.splice(this.alive.indexOf(victim), 1);
    await waitForStatus(
      handle,
      (x) => inFlight.every((n) => x.steps.some((s) => s.name === n && (s.state === 'done' || s.attempts >= 2))),
      `the steps in flight when the worker died (${inFlight.join(', ')}) to be taken over`,
      60_000,
    );
    this.kills.push({ what, takeoverS: (Date.now() - t0) / 1000, inFlight, pid: victim.child.pid! });
  }

  /** Prints how long each takeover took; it was the 30 s heartbeat timeout, it is now about the 10 s one. */
  report(): void {
    console.log(
      `worker killed: ${this.kills.map((k) => `${k.what}: taken over in ${k.takeoverS.toFixed(1)} s (${k.inFlight.length} steps in flight)`).join('; ')}`,
    );
    for (const k of this.kills) assert.ok(k.takeoverS < 30, `the steps in flight (${k.what}) waited ${k.takeoverS} s for a new worker`);
  }

  async stop(): Promise<void> {
    for (const w of this.all) await w.kill();
    this.alive.length = 0;
    await this.o.stepAside?.startWorker();
  }
}
