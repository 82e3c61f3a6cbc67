// Runs phases as values: every step of a phase for every host it targets, bounded fan-out, one status record per
// step, and failures that stop the converge at the step instead of ending the workflow. Deterministic.
import { isCancellation, patched, scheduleActivity, type ActivityOptions } from '@temporalio/workflow';
import type { StepReport } from '../activities/types.js';
import type { ClusterPlan } from '../model/types.js';
import { digestOf } from './digest.js';
import { failureDetails, failureMessage } from './failures.js';
import type { AnyStep, Phase } from './phases/phase.js';
import type { BlockedStep, ClusterStatus, PhaseStatus, StepStatus } from './status.js';

/** Steps done in the converge that is in progress (name -> digest of the input they ran with). Plain JSON. */
export interface ConvergeSession {
  generation: number;
  done: Record<string, string>;
}

export interface RunContext {
  plan: ClusterPlan;
  status: ClusterStatus;
  session: ConvergeSession;
  parallelism: number;
  /** Hosts a finished converge set up: steps marked `rolling` take them one at a time. */
  established: readonly string[];
  activityOptions: ActivityOptions;
  /** Called when a phase starts (search attributes, UI details). */
  onPhase(phase: PhaseStatus): void;
}

const now = () => new Date().toISOString();

export const stepName = (activity: string, host: string): string => `${activity}/${host}`;

/** Runs the phases in order. Returns the steps that failed for good (the converge stops at the first phase with
 * a failure), or an empty list when every phase is done. */
export async function runPhases(phases: readonly Phase[], ctx: RunContext): Promise<BlockedStep[]> {
  for (const phase of phases) {
    const ps = ctx.status.phases.find((p) => p.name === phase.name);
    if (!ps) continue;
    if (phase.since !== undefined && !patched(phase.since)) {
      ps.state = 'not-built'; // replaying a converge recorded before this phase existed
      continue;
    }
    ps.state = 'running';
    ps.startedAt = now();
    const started = Date.now();
    ctx.status.currentPhase = phase.name;
    ctx.onPhase(ps);
    const blocked: BlockedStep[] = [];
    for (const s of phase.steps) {
      blocked.push(...(await runStepEverywhere(phase, s, ctx)));
      if (blocked.length) break;
    }
    ps.endedAt = now();
    ps.durationMs = Date.now() - started;
    ps.state = blocked.length ? 'failed' : 'done';
    if (blocked.length) return blocked;
  }
  ctx.status.currentPhase = undefined;
  return [];
}

async function runStepEverywhere(phase: Phase, s: AnyStep, ctx: RunContext): Promise<BlockedStep[]> {
  let hosts: string[];
  try {
    hosts = s.hosts(ctx.plan, ctx.established);
  } catch (err) {
    return [{ step: stepName(s.activity, '*'), host: '*', error: failureMessage(err) }];
  }
  const rolling = s.rolling !== undefined && hosts.some((h) => ctx.established.includes(h)) && patched(s.rolling.since);
  if (rolling && patched(DEFERRED_RESTARTS)) {
    // Every host at once, with restarts of running services deferred (marked on the host); then the hosts that
    // deferred one, one at a time, each restart behind its step's own gate. A run with nothing to restart is one wave.
    const deferred: string[] = [];
    const first = await inLanes(hosts, ctx.parallelism, (h) =>
      runOne(phase, s, h, ctx, { deferRestarts: true, onDeferred: () => deferred.push(h) }),
    );
    if (first.length) return first;
    return inLanes(
      hosts.filter((h) => deferred.includes(h)),
      1,
      (h) => runOne(phase, s, h, ctx, { restartPass: true }),
    );
  }
  const limit = rolling || s.oneAtATime ? 1 : s.fanOut === 'all' ? hosts.length : ctx.parallelism;
  return inLanes(hosts, limit, (h) => runOne(phase, s, h, ctx));
}

/** The patch that made rolling steps two passes (checks everywhere at once, then the restarts one by one). */
export const DEFERRED_RESTARTS = 'rolling-deferred-restarts';

/** Runs `one` for every host, at most `limit` at once, in order; after a failure no new host starts, the running ones finish. */
async function inLanes(
  hosts: readonly string[],
  limit: number,
  one: (host: string) => Promise<BlockedStep | undefined>,
): Promise<BlockedStep[]> {
  const blocked: BlockedStep[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < hosts.length && !blocked.length) {
      const b = await one(hosts[next++]!);
      if (b) blocked.push(b);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, hosts.length)) }, lane));
  return blocked;
}

function record(ctx: RunContext, name: string, phase: string, host: string): StepStatus {
  let r = ctx.status.steps.find((x) => x.name === name);
  if (!r) {
    r = { name, phase, host, state: 'pending', attempts: 0 };
    ctx.status.steps.push(r);
  }
  return r;
}

interface PassOptions {
  /** First pass of a rolling step: the activity defers restarts; `onDeferred` hears of each host that did. */
  deferRestarts?: boolean;
  onDeferred?: () => void;
  /** Second pass of a rolling step (its hosts are never marked done by the first: see onDeferred). */
  restartPass?: boolean;
}

async function runOne(phase: Phase, s: AnyStep, host: string, ctx: RunContext, pass: PassOptions = {}): Promise<BlockedStep | undefined> {
  const name = stepName(s.activity, host);
  const r = record(ctx, name, phase.name, host);
  let input: unknown;
  try {
    input = s.input(ctx.plan, host, ctx.established);
  } catch (err) {
    // A plan inconsistency: retrying cannot help, and it must not end the workflow either.
    r.state = 'failed';
    r.lastError = failureMessage(err);
    return { step: name, host, error: r.lastError };
  }
  const digest = digestOf(input);
  if (ctx.session.done[name] === digest) {
    r.state = 'done';
    r.reused = true;
    return undefined;
  }
  const earlier = r.changed ?? [];
  r.state = 'running';
  r.reused = undefined;
  r.attempts += 1;
  r.lastError = undefined;
  r.startedAt = now();
  r.endedAt = undefined;
  const started = Date.now();
  try {
    const report = await scheduleActivity<StepReport>(
      s.activity,
      [pass.deferRestarts ? { ...(input as object), deferRestarts: true } : input],
      {
        ...ctx.activityOptions,
        activityId: name,
        summary: pass.restartPass ? `${name} (restart, one host at a time)` : name,
      },
    );
    r.state = 'done';
    r.attempts = r.attempts - 1 + report.attempt;
    r.changed = union(earlier, report.changed);
    if (report.notes.length) r.notes = report.notes;
    ctx.status.changedCount += report.changed.length;
    if (report.restartDeferred && pass.deferRestarts) pass.onDeferred?.();
    else ctx.session.done[name] = digest; // a deferred restart is not done: a resumed converge runs the step again
    return undefined;
  } catch (err) {
    if (isCancellation(err)) throw err;
    const d = failureDetails(err);
    r.state = 'failed';
    r.lastError = failureMessage(err);
    if (d.attempt) r.attempts = r.attempts - 1 + d.attempt;
    r.changed = union(earlier, d.changed ?? []);
    ctx.status.changedCount += (d.changed ?? []).length;
    return { step: name, host, error: r.lastError };
  } finally {
    r.endedAt = now();
    r.durationMs = Date.now() - started;
  }
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}
