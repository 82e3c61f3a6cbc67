// The cluster workflow, `cluster-<name>`: one per cluster, for the life of the cluster (an entity workflow).
// It holds the spec, the pod allocations and a log of changes (entity.ts); converges; then waits for the next
// request (`apply`, `retry`, as updates or signals: handlers.ts) and continues-as-new when idle and Temporal
// suggests it. A step whose retries run out does not end it: the converge waits at that step. Deterministic
// orchestration only.
import {
  ApplicationFailure,
  ContinueAsNew,
  TemporalFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { NON_RETRYABLE_TYPES } from '../model/errors.js';
import type { ClusterSpec } from '../model/types.js';
import { CLUSTER_NAME } from '../temporal/search-attributes.js';
import { ClusterEntity, newCluster, type CarriedState } from './entity.js';
import { asApplicationFailure } from './failures.js';
import { setClusterHandlers } from './handlers.js';
import { legacyBringUp, type LegacyInput } from './legacy/bringup-v0.js';

export type { CarriedState } from './entity.js';

/** Marks histories written by the entity workflow; older ones (one bring-up per run) replay the legacy path. */
export const ENTITY_PATCH = 'entity-workflow-v1';

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
    return await lifeOfCluster(input as ClusterWorkflowInput);
  } catch (err) {
    if (err instanceof ContinueAsNew || err instanceof TemporalFailure) throw err;
    throw asApplicationFailure(err, 'cluster workflow');
  }
}

/** What the workflow returns when a `reset` has ended the cluster. */
export interface ClusterEnded {
  cluster: string;
  state: 'reset';
  includeCa: boolean;
  hosts: string[];
}

async function lifeOfCluster(input: ClusterWorkflowInput): Promise<ClusterEnded> {
  const opts = input.options ?? {};
  const carried = input.carried ?? newCluster();
  const cluster = carried.spec?.name ?? input.spec?.name ?? workflowInfo().workflowId.replace(/^cluster-/, '');
  const e = new ClusterEntity(cluster, carried);
  if (input.spec) {
    try {
      e.take(e.check(input.spec), 'start');
    } catch (err) {
      throw ApplicationFailure.create({ type: 'InvalidSpec', message: (err as Error).message, nonRetryable: true });
    }
  }
  setClusterHandlers(e);
  upsertSearchAttributes([{ key: CLUSTER_NAME, value: cluster }]);

  const activityOptions: ActivityOptions = {
    startToCloseTimeout: '15 minutes',
    // Steps heartbeat every few seconds while their worker lives: a dead worker's steps go to another within ~10 s.
    heartbeatTimeout: `${opts.heartbeatTimeoutSeconds ?? 10}s`,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '20s',
      maximumAttempts: opts.maximumAttempts ?? 30,
      nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
    },
  };
  /** The UI's "current details": where the cluster is, and which step on which host waits, and why. */
  const details = (): void => {
    const st = e.status;
    const blocked = st.blocked?.map((x) => `${x.step}: ${x.error}`).join('\n');
    setCurrentDetails(
      `**${cluster}**: ${st.state}${st.currentPhase ? ` (phase ${st.currentPhase})` : ''}, generation ${st.generation}` +
        (blocked ? `\n\nblocked:\n${blocked}` : ''),
    );
  };
  details();
  const timeToContinueAsNew = (): boolean =>
    workflowInfo().continueAsNewSuggested ||
    (!!opts.continueAsNewAfterEvents && workflowInfo().historyLength >= opts.continueAsNewAfterEvents);

  for (;;) {
    await condition(() => e.wanted || timeToContinueAsNew());
    if (!e.wanted) {
      // Idle: let running handlers finish (a queued one may still want a converge), then hand over.
      await condition(() => e.wanted || allHandlersFinished());
      if (!e.wanted) return continueAsNew<typeof clusterWorkflow>({ carried: e.carry(), options: input.options });
    }
    await e.converge(activityOptions, details);
    if (e.finished) {
      // Reset: every host is back to its state before hardway. Answer the requests waiting on it, then end.
      await condition(allHandlersFinished);
      return { cluster, state: 'reset', includeCa: !!e.status.reset?.includeCa, hosts: e.spec?.hosts.map((h) => h.name) ?? [] };
    }
  }
}
