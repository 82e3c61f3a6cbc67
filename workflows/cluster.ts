// The cluster workflow, `cluster-<name>`: one per cluster, for the life of the cluster (an entity workflow).
// It holds the spec, the pod allocations and a log of changes; converges; then waits for the next request
// (`apply`, `retry`, as updates or signals) and continues-as-new when Temporal suggests it. A step whose retries
// run out does not end it: the converge waits at that step. Deterministic orchestration only.
import {
  ApplicationFailure,
  ContinueAsNew,
  TemporalFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { NON_RETRYABLE_TYPES } from '../model/errors.js';
import type { ClusterPlan, ClusterSpec } from '../model/types.js';
import { CLUSTER_NAME, CLUSTER_PHASE } from '../temporal/search-attributes.js';
import { summarizeChange } from './change-summary.js';
import { asApplicationFailure } from './failures.js';
import { legacyBringUp, type LegacyInput } from './legacy/bringup-v0.js';
import { Mutex } from './mutex.js';
import { NOT_BUILT, PHASES } from './phases/index.js';
import { acceptSpec, type Accepted } from './accept.js';
import { runPhases, type ConvergeSession } from './runner.js';
import {
  applySignal,
  applyUpdate,
  retrySignal,
  retryUpdate,
  statusQuery,
  type ApplyRequest,
  type BlockedStep,
  type ChangeRecord,
  type ClusterStatus,
  type ConvergeResult,
} from './status.js';

/** Marks histories written by the entity workflow; older ones (one bring-up per run) replay the legacy path. */
export const ENTITY_PATCH = 'entity-workflow-v1';
const CHANGE_LOG_LENGTH = 20;
const SIGNAL_IDS_KEPT = 50;

/** What a run hands to the next one through continue-as-new. Plain JSON. */
export interface CarriedState {
  spec?: ClusterSpec;
  generation: number;
  podAllocations: Record<string, string>;
  /** Hosts a finished converge has set up: their address and roles can no longer change through `apply`. */
  established: string[];
  convergedGeneration?: number;
  changes: ChangeRecord[];
  signalRequestIds: string[];
  /** A converge that had not finished: it resumes, skipping the steps it had done. */
  session?: ConvergeSession;
  blocked?: BlockedStep[];
  parallelism: number;
}

export interface ClusterWorkflowInput {
  /** Converge this spec at once (as `temporal workflow start` would); omitted: wait for the first `apply`. */
  spec?: ClusterSpec;
  /** Set by continue-as-new. */
  carried?: CarriedState;
  options?: {
    heartbeatTimeoutSeconds?: number;
    maximumAttempts?: number;
    /** Continue-as-new at an idle point once history has this many events (Temporal's own suggestion also counts). */
    continueAsNewAfterEvents?: number;
  };
}

export async function clusterWorkflow(input: ClusterWorkflowInput | LegacyInput): Promise<unknown> {
  if (!patched(ENTITY_PATCH)) return legacyBringUp(input as LegacyInput);
  try {
    return await entity(input as ClusterWorkflowInput);
  } catch (err) {
    if (err instanceof ContinueAsNew || err instanceof TemporalFailure) throw err;
    throw asApplicationFailure(err, 'cluster workflow');
  }
}

async function entity(input: ClusterWorkflowInput): Promise<never> {
  const opts = input.options ?? {};
  const carried: CarriedState = input.carried ?? {
    generation: 0,
    podAllocations: {},
    established: [],
    changes: [],
    signalRequestIds: [],
    parallelism: 5,
  };
  const clusterName = carried.spec?.name ?? input.spec?.name ?? workflowInfo().workflowId.replace(/^cluster-/, '');

  const status: ClusterStatus = {
    cluster: clusterName,
    state: 'waiting',
    generation: carried.generation,
    convergedGeneration: carried.convergedGeneration,
    phases: [],
    steps: [],
    changedCount: 0,
    notBuilt: NOT_BUILT.map((p) => p.name),
    podAllocations: carried.podAllocations,
    changes: carried.changes,
  };
  if (carried.blocked?.length) {
    status.state = 'blocked';
    status.blocked = carried.blocked;
  } else if (carried.convergedGeneration !== undefined && carried.convergedGeneration === carried.generation) {
    status.state = 'converged';
  }

  let desired: Accepted | undefined;
  let session: ConvergeSession | undefined = carried.session;
  let parallelism = carried.parallelism;
  /** A converge is wanted: a new spec was accepted, or a blocked one is to be retried. */
  let wanted = false;
  /** Converges run so far by this run, and the last one's result (handlers wait on them). */
  let runs = 0;
  let lastResult: ConvergeResult | undefined;
  const mutex = new Mutex();
  const signalIds = [...carried.signalRequestIds];

  const log = (entry: Omit<ChangeRecord, 'at'>): void => {
    status.changes.push({ ...entry, at: new Date().toISOString() });
    if (status.changes.length > CHANGE_LOG_LENGTH) status.changes.splice(0, status.changes.length - CHANGE_LOG_LENGTH);
  };
  const established = (): string[] => carried.established;

  /** Takes a checked spec as the cluster's desired state. */
  const take = (a: Accepted, via: ChangeRecord['via'], requestId?: string): number => {
    const previous = desired?.spec ?? carried.spec;
    status.generation += 1;
    desired = { ...a, generation: status.generation };
    status.podAllocations = a.plan.podAllocations;
    log({ generation: status.generation, via, requestId, summary: summarizeChange(previous, a.spec), accepted: true });
    wanted = true;
    return status.generation;
  };
  const check = (spec: ClusterSpec): Accepted =>
    acceptSpec(spec, {
      cluster: clusterName,
      current: desired?.spec ?? carried.spec,
      established: established(),
      podAllocations: status.podAllocations,
    });

  // The spec the cluster was last given: re-planned from carried state (it was checked when it was accepted).
  if (carried.spec) {
    desired = { ...check(carried.spec), generation: carried.generation };
    if (session || carried.convergedGeneration !== carried.generation) wanted = !carried.blocked?.length;
  }
  if (input.spec) {
    let a: Accepted;
    try {
      a = check(input.spec);
    } catch (err) {
      throw ApplicationFailure.create({ type: 'InvalidSpec', message: (err as Error).message, nonRetryable: true });
    }
    take(a, 'start');
  }

  setHandler(statusQuery, () => status);

  const waitForConverge = async (afterRuns: number, generation?: number): Promise<ConvergeResult> => {
    await condition(() => runs > afterRuns && !!lastResult && (generation === undefined || lastResult.generation >= generation));
    return lastResult!;
  };

  setHandler(
    applyUpdate,
    (req) =>
      mutex.run(async () => {
        let a: Accepted;
        try {
          a = check(req.spec); // again: an earlier request may have changed what is allowed since validation
        } catch (err) {
          throw ApplicationFailure.create({ type: 'InvalidSpec', message: (err as Error).message, nonRetryable: true });
        }
        if (req.parallelism) parallelism = req.parallelism;
        const before = runs;
        const generation = take(a, 'update', req.requestId);
        return waitForConverge(before, generation);
      }),
    { validator: (req) => void check(req.spec) },
  );

  setHandler(applySignal, (req) =>
    mutex.run(async () => {
      if (req.requestId && signalIds.includes(req.requestId)) return;
      if (req.requestId) {
        signalIds.push(req.requestId);
        if (signalIds.length > SIGNAL_IDS_KEPT) signalIds.shift();
      }
      try {
        const a = check(req.spec);
        if (req.parallelism) parallelism = req.parallelism;
        take(a, 'signal', req.requestId);
      } catch (err) {
        log({
          generation: status.generation,
          via: 'signal',
          requestId: req.requestId,
          summary: `refused: ${(err as Error).message}`,
          accepted: false,
        });
      }
    }),
  );

  const retryable = (): void => {
    if (status.state !== 'blocked') {
      throw new Error(`nothing to retry: cluster ${clusterName} is ${status.state}, no step is blocked`);
    }
  };
  setHandler(
    retryUpdate,
    () =>
      mutex.run(async () => {
        if (status.state !== 'blocked')
          throw ApplicationFailure.create({
            type: 'NothingToRetry',
            message: `cluster ${clusterName} is ${status.state}`,
            nonRetryable: true,
          });
        const before = runs;
        wanted = true;
        return waitForConverge(before);
      }),
    { validator: retryable },
  );
  setHandler(retrySignal, () => {
    if (status.state === 'blocked') wanted = true;
  });

  upsertSearchAttributes([{ key: CLUSTER_NAME, value: clusterName }]);
  const retry: ActivityOptions['retry'] = {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '20s',
    maximumAttempts: opts.maximumAttempts ?? 30,
    nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
  };
  const activityOptions: ActivityOptions = {
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: `${opts.heartbeatTimeoutSeconds ?? 30}s`,
    retry,
  };
  const details = (): void => {
    const b = status.blocked?.map((x) => `${x.step}: ${x.error}`).join('\n');
    setCurrentDetails(
      `**${clusterName}**: ${status.state}${status.currentPhase ? ` (phase ${status.currentPhase})` : ''}, generation ${status.generation}` +
        (b ? `\n\nblocked:\n${b}` : ''),
    );
  };
  details();

  const timeToContinueAsNew = (): boolean =>
    workflowInfo().continueAsNewSuggested ||
    (!!opts.continueAsNewAfterEvents && workflowInfo().historyLength >= opts.continueAsNewAfterEvents);

  for (;;) {
    await condition(() => wanted || timeToContinueAsNew());
    if (!wanted) {
      // Idle: let running handlers finish (a queued one may still want a converge), then hand over.
      await condition(() => wanted || allHandlersFinished());
      if (!wanted) {
        const next: CarriedState = {
          spec: desired?.spec,
          generation: status.generation,
          podAllocations: status.podAllocations,
          established: carried.established,
          convergedGeneration: status.convergedGeneration,
          changes: status.changes,
          signalRequestIds: signalIds,
          session,
          blocked: status.blocked,
          parallelism,
        };
        return continueAsNew<typeof clusterWorkflow>({ carried: next, options: input.options });
      }
    }
    wanted = false;
    const target = desired!;
    const resumed = session !== undefined;
    if (!session) session = { generation: target.generation, done: {} };
    session.generation = target.generation;
    startConverge(status, target.plan, target.generation, resumed);
    details();
    const blocked = await runPhases(PHASES, {
      plan: target.plan,
      status,
      session,
      parallelism,
      activityOptions,
      onPhase: (p) => {
        upsertSearchAttributes([{ key: CLUSTER_PHASE, value: p.name }]);
        details();
      },
    });
    status.endedAt = new Date().toISOString();
    if (blocked.length) {
      status.state = 'blocked';
      status.blocked = blocked;
      status.error = blocked.map((b) => `${b.step}: ${b.error}`).join('; ');
      upsertSearchAttributes([{ key: CLUSTER_PHASE, value: `blocked:${status.currentPhase ?? ''}` }]);
    } else {
      status.state = 'converged';
      status.convergedGeneration = target.generation;
      carried.established = target.plan.hosts.map((h) => h.name);
      session = undefined;
      upsertSearchAttributes([{ key: CLUSTER_PHASE, value: 'converged' }]);
    }
    carried.spec = target.spec;
    lastResult = {
      generation: target.generation,
      outcome: blocked.length ? 'blocked' : 'converged',
      changedCount: status.changedCount,
      ...(blocked.length ? { blocked } : {}),
      podAllocations: status.podAllocations,
    };
    runs += 1;
    details();
  }
}

/** Resets the status for a converge; a resumed one keeps the records of the steps it has done. */
function startConverge(status: ClusterStatus, plan: ClusterPlan, generation: number, resumed: boolean): void {
  status.state = 'converging';
  status.convergingGeneration = generation;
  status.blocked = undefined;
  status.error = undefined;
  status.startedAt = new Date().toISOString();
  status.endedAt = undefined;
  status.cluster = plan.name;
  status.phases = [
    ...PHASES.map((p) => ({ name: p.name, title: p.title, state: 'pending' as const })),
    ...NOT_BUILT.map((p) => ({ name: p.name, title: p.title, state: 'not-built' as const })),
  ];
  if (!resumed) {
    status.steps = [];
    status.changedCount = 0;
  }
  // A resumed converge keeps every record: done steps are skipped, failed ones keep what they had changed.
}
