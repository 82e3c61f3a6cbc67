// The cluster workflow: deterministic orchestration of the bring-up, phase by phase, host by host.
// Every side effect is an activity; this file only decides what runs when, and keeps the status.
import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import { plan as planCluster } from '../model/plan.js';
import type { ClusterSpec, Role } from '../model/types.js';
import type { ClusterActivities, StepReport } from '../activities/types.js';
import { NON_RETRYABLE } from '../activities/types.js';
import { CLUSTER_NAME, CLUSTER_PHASE } from '../temporal/search-attributes.js';
import { BUILT_PHASES, PHASES, type PhaseName } from './phases.js';
import { statusQuery, type ClusterStatus, type StepStatus } from './status.js';
import { runBounded } from './bounded.js';

export interface ClusterWorkflowInput {
  spec: ClusterSpec;
  /** Pod ranges handed out by an earlier run (node -> CIDR), so that they never move. */
  previousAllocations?: Record<string, string>;
  options?: {
    /** Per-host activities of one phase running at once. */
    parallelism?: number;
    heartbeatTimeoutSeconds?: number;
    maximumAttempts?: number;
  };
}

export interface ClusterWorkflowResult {
  status: ClusterStatus;
  podAllocations: Record<string, string>;
}

type ActivityName = keyof ClusterActivities;

export async function clusterWorkflow(input: ClusterWorkflowInput): Promise<ClusterWorkflowResult> {
  const opts = input.options ?? {};
  const parallelism = opts.parallelism ?? 5;
  const plan = planCluster(input.spec, input.previousAllocations);
  const now = () => new Date().toISOString();

  const status: ClusterStatus = {
    cluster: plan.name,
    state: 'running',
    phases: PHASES.map((name) => ({ name, state: BUILT_PHASES.includes(name) ? 'pending' : 'not-built' })),
    steps: [],
    startedAt: now(),
    changedCount: 0,
    notBuilt: PHASES.filter((p) => !BUILT_PHASES.includes(p)),
  };
  setHandler(statusQuery, () => status);
  upsertSearchAttributes([{ key: CLUSTER_NAME, value: plan.name }]);

  const retry: ActivityOptions['retry'] = {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '20s',
    maximumAttempts: opts.maximumAttempts ?? 30,
    nonRetryableErrorTypes: [...NON_RETRYABLE],
  };
  const activityOptions: ActivityOptions = {
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: `${opts.heartbeatTimeoutSeconds ?? 30}s`,
    retry,
  };
  const acts = proxyActivities<ClusterActivities>(activityOptions);

  /** Runs one activity for one host (or the cluster), keeping its step status. */
  async function step(
    phase: PhaseName,
    stepName: string,
    host: string,
    activity: ActivityName,
    args: unknown[],
  ): Promise<StepReport> {
    const s: StepStatus = { phase, step: stepName, host, state: 'running', attempts: 1, startedAt: now() };
    status.steps.push(s);
    const started = Date.now();
    try {
      const fn = acts[activity] as unknown as {
        executeWithOptions(o: ActivityOptions, a: unknown[]): Promise<StepReport>;
      };
      const report = await fn.executeWithOptions(
        { ...activityOptions, activityId: `${phase}:${stepName}:${host}`, summary: `${phase}: ${stepName} on ${host}` },
        args,
      );
      s.state = 'done';
      s.attempts = report.attempt;
      s.changed = report.changed;
      if (report.notes.length) s.notes = report.notes;
      status.changedCount += report.changed.length;
      return report;
    } catch (err) {
      s.state = 'failed';
      s.lastError = failureMessage(err);
      s.attempts = failureAttempt(err) ?? s.attempts;
      throw err;
    } finally {
      s.endedAt = now();
      s.durationMs = Date.now() - started;
    }
  }

  const hostsWith = (role: Role) => plan.hosts.filter((h) => h.roles.includes(role)).map((h) => h.name);
  const everyHost = plan.hosts.map((h) => h.name);
  const fanOut = (phase: PhaseName, stepName: string, activity: ActivityName, hosts: string[]) =>
    runBounded(hosts, parallelism, (h) => step(phase, stepName, h, activity, [plan, h]));

  const phaseBodies: Partial<Record<PhaseName, () => Promise<unknown>>> = {
    preflight: () => fanOut('preflight', 'checks', 'preflight', everyHost),
    hosts: () => fanOut('hosts', 'hosts-file', 'hostsFile', everyHost),
    pki: async () => {
      await step('pki', 'authority', plan.ca.host, 'certificateAuthority', [plan]);
      const holders = [...new Set(plan.certificates.flatMap((c) => c.placements.map((p) => p.host)))];
      await fanOut('pki', 'certificates', 'hostCertificates', everyHost.filter((h) => holders.includes(h)));
    },
    etcd: async () => {
      const members = plan.etcd.members.map((m) => m.name);
      // Members of a new cluster wait for each other to form a quorum: start them all at once.
      await runBounded(members, members.length, (h) => step('etcd', 'member', h, 'etcdMember', [plan, h]));
      await step('etcd', 'quorum', members[0] ?? '', 'etcdQuorum', [plan]);
    },
    loadbalancer: () => fanOut('loadbalancer', 'haproxy', 'loadBalancer', hostsWith('loadbalancer')),
  };

  for (const phase of BUILT_PHASES) {
    const ps = status.phases.find((p) => p.name === phase)!;
    const body = phaseBodies[phase];
    if (!body) continue;
    status.currentPhase = phase;
    upsertSearchAttributes([{ key: CLUSTER_PHASE, value: phase }]);
    ps.state = 'running';
    ps.startedAt = now();
    const started = Date.now();
    try {
      await body();
      ps.state = 'done';
    } catch (err) {
      ps.state = 'failed';
      status.state = 'failed';
      status.error = `${phase}: ${failureMessage(err)}`;
      status.endedAt = now();
      upsertSearchAttributes([{ key: CLUSTER_PHASE, value: `failed:${phase}` }]);
      throw ApplicationFailure.create({
        type: 'PhaseFailed',
        message: status.error,
        nonRetryable: true,
        cause: err instanceof Error ? err : undefined,
      });
    } finally {
      ps.endedAt = now();
      ps.durationMs = Date.now() - started;
    }
  }

  status.state = 'done';
  status.currentPhase = undefined;
  status.endedAt = now();
  const lastBuilt = BUILT_PHASES[BUILT_PHASES.length - 1]!;
  upsertSearchAttributes([{ key: CLUSTER_PHASE, value: `done:${lastBuilt}` }]);
  return { status, podAllocations: plan.podAllocations };
}

/** The innermost, most specific message of a failure chain (the activity's own words). */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return e.type ? `${e.type}: ${e.message}` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

function failureAttempt(err: unknown): number | undefined {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) {
    const d = e.details?.[0] as { attempt?: number } | undefined;
    if (d && typeof d.attempt === 'number') return d.attempt;
  }
  return undefined;
}
