// The cluster workflow of hardway 0.1 (one bring-up per run, ending after the load balancer), kept so that a run
// started by 0.1 replays and finishes after an upgrade: `clusterWorkflow` takes this path when its history has
// no ENTITY_PATCH marker. Frozen: its commands (activity types and ids, search attributes) must stay exactly
// as 0.1 issued them; test/workflow/replay.test.ts replays a recorded 0.1 history. Remove once no 0.1 run is
// left (`temporal workflow list -q "HardwayPhase != 'converged'"`), together with activities/legacy-v0.ts.
import { ApplicationFailure, scheduleActivity, setHandler, upsertSearchAttributes, type ActivityOptions } from '@temporalio/workflow';
import { checkSpec } from '../../model/check.js';
import { plan as planCluster } from '../../model/plan.js';
import type { ClusterPlan, ClusterSpec, Role } from '../../model/types.js';
import { formatProblems } from '../../model/problem-format.js';
import { CLUSTER_NAME, CLUSTER_PHASE } from '../../temporal/search-attributes.js';
import { failureMessage, failureDetails } from '../failures.js';
import { statusQuery, type ClusterStatus, type StepStatus } from '../status.js';

export interface LegacyInput {
  spec: ClusterSpec;
  previousAllocations?: Record<string, string>;
  options?: { parallelism?: number; heartbeatTimeoutSeconds?: number; maximumAttempts?: number };
}

/** The activities of 0.1: (plan, host) each. The worker registers them as adapters (activities/legacy-v0.ts). */
export interface LegacyActivities {
  preflight(plan: ClusterPlan, host: string): Promise<LegacyReport>;
  hostsFile(plan: ClusterPlan, host: string): Promise<LegacyReport>;
  certificateAuthority(plan: ClusterPlan): Promise<LegacyReport>;
  hostCertificates(plan: ClusterPlan, host: string): Promise<LegacyReport>;
  etcdMember(plan: ClusterPlan, host: string): Promise<LegacyReport>;
  etcdQuorum(plan: ClusterPlan): Promise<LegacyReport>;
  loadBalancer(plan: ClusterPlan, host: string): Promise<LegacyReport>;
}
export interface LegacyReport {
  host: string;
  changed: string[];
  notes: string[];
  attempt: number;
}

const LEGACY_PHASES = ['preflight', 'hosts', 'pki', 'etcd', 'loadbalancer'] as const;
const LEGACY_NOT_BUILT = ['controlplane', 'workers', 'addons', 'admin'];
const LEGACY_NON_RETRYABLE = ['ConfigurationError', 'HostKeyMismatch', 'HostKeyUnknown', 'AuthenticationFailed', 'PreflightFailed'];
type LegacyPhase = (typeof LEGACY_PHASES)[number];

async function runBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let firstError: { error: unknown } | undefined;
  async function lane(): Promise<void> {
    while (next < items.length && !firstError) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T);
      } catch (error) {
        firstError ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (firstError) throw firstError.error;
  return results;
}

export async function legacyBringUp(input: LegacyInput): Promise<{ status: ClusterStatus; podAllocations: Record<string, string> }> {
  const opts = input.options ?? {};
  const parallelism = opts.parallelism ?? 5;
  const checked = checkSpec(input.spec);
  if (!checked.ok) {
    throw ApplicationFailure.create({ type: 'InvalidSpec', message: formatProblems(checked.problems, 'spec'), nonRetryable: true });
  }
  const plan = planCluster(checked.spec, input.previousAllocations);
  const now = () => new Date().toISOString();

  const status: ClusterStatus = {
    cluster: plan.name,
    state: 'converging',
    generation: 1,
    convergingGeneration: 1,
    phases: [
      ...LEGACY_PHASES.map((name) => ({ name, title: name, state: 'pending' as const })),
      ...LEGACY_NOT_BUILT.map((name) => ({ name, title: name, state: 'not-built' as const })),
    ],
    steps: [],
    startedAt: now(),
    changedCount: 0,
    notBuilt: LEGACY_NOT_BUILT,
    podAllocations: plan.podAllocations,
    changes: [],
  };
  setHandler(statusQuery, () => status);
  upsertSearchAttributes([{ key: CLUSTER_NAME, value: plan.name }]);

  const activityOptions: ActivityOptions = {
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: `${opts.heartbeatTimeoutSeconds ?? 30}s`,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '20s',
      maximumAttempts: opts.maximumAttempts ?? 30,
      nonRetryableErrorTypes: LEGACY_NON_RETRYABLE,
    },
  };

  async function step<K extends keyof LegacyActivities>(
    phase: LegacyPhase,
    stepName: string,
    host: string,
    activity: K,
    args: Parameters<LegacyActivities[K]>,
  ): Promise<LegacyReport> {
    const s: StepStatus = { name: `${phase}/${stepName}/${host}`, phase, host, state: 'running', attempts: 1, startedAt: now() };
    status.steps.push(s);
    const started = Date.now();
    try {
      const report = await scheduleActivity<LegacyReport>(activity, args, {
        ...activityOptions,
        activityId: `${phase}:${stepName}:${host}`,
        summary: `${phase}: ${stepName} on ${host}`,
      });
      s.state = 'done';
      s.attempts = report.attempt;
      s.changed = report.changed;
      if (report.notes.length) s.notes = report.notes;
      status.changedCount += report.changed.length;
      return report;
    } catch (err) {
      s.state = 'failed';
      s.lastError = failureMessage(err);
      s.attempts = failureDetails(err).attempt ?? s.attempts;
      throw err;
    } finally {
      s.endedAt = now();
      s.durationMs = Date.now() - started;
    }
  }

  const hostsWith = (role: Role) => plan.hosts.filter((h) => h.roles.includes(role)).map((h) => h.name);
  const everyHost = plan.hosts.map((h) => h.name);
  const fanOut = (
    phase: LegacyPhase,
    stepName: string,
    activity: 'preflight' | 'hostsFile' | 'hostCertificates' | 'loadBalancer',
    hosts: string[],
  ) => runBounded(hosts, parallelism, (h) => step(phase, stepName, h, activity, [plan, h]));

  const phaseBodies: Record<LegacyPhase, () => Promise<unknown>> = {
    preflight: () => fanOut('preflight', 'checks', 'preflight', everyHost),
    hosts: () => fanOut('hosts', 'hosts-file', 'hostsFile', everyHost),
    pki: async () => {
      await step('pki', 'authority', plan.ca.host, 'certificateAuthority', [plan]);
      const holders = [...new Set(plan.certificates.flatMap((c) => c.placements.map((p) => p.host)))];
      await fanOut(
        'pki',
        'certificates',
        'hostCertificates',
        everyHost.filter((h) => holders.includes(h)),
      );
    },
    etcd: async () => {
      const members = plan.etcd.members.map((m) => m.name);
      await runBounded(members, members.length, (h) => step('etcd', 'member', h, 'etcdMember', [plan, h]));
      await step('etcd', 'quorum', members[0] ?? '', 'etcdQuorum', [plan]);
    },
    loadbalancer: () => fanOut('loadbalancer', 'haproxy', 'loadBalancer', hostsWith('loadbalancer')),
  };

  for (const phase of LEGACY_PHASES) {
    const ps = status.phases.find((p) => p.name === phase)!;
    status.currentPhase = phase;
    upsertSearchAttributes([{ key: CLUSTER_PHASE, value: phase }]);
    ps.state = 'running';
    ps.startedAt = now();
    const started = Date.now();
    try {
      await phaseBodies[phase]();
      ps.state = 'done';
    } catch (err) {
      ps.state = 'failed';
      status.state = 'blocked';
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
  status.state = 'converged';
  status.convergedGeneration = 1;
  status.currentPhase = undefined;
  status.endedAt = now();
  upsertSearchAttributes([{ key: CLUSTER_PHASE, value: 'done:loadbalancer' }]);
  return { status, podAllocations: plan.podAllocations };
}
