// The cluster workflow's messages: the status query, `apply` and `retry` as updates (validated before they enter
// history, answered when their converge has finished or blocked) and as signals (for `temporal workflow signal`).
// Requests that change the cluster go through the entity's mutex, one at a time.
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { Accepted } from './accept.js';
import type { ClusterEntity } from './entity.js';
import { withAddedWorker, type AddWorkerRequest } from '../model/add-node.js';
import {
  addWorkerSignal,
  addWorkerUpdate,
  applySignal,
  applyUpdate,
  retrySignal,
  retryUpdate,
  specQuery,
  statusQuery,
  type AddWorkerResult,
} from './status.js';

/** A spec refused inside an accepted update: an ApplicationFailure (a plain Error would retry the task forever). */
function checkedOrFail(e: ClusterEntity, spec: Parameters<ClusterEntity['check']>[0]): Accepted {
  try {
    return e.check(spec);
  } catch (err) {
    throw ApplicationFailure.create({ type: 'InvalidSpec', message: (err as Error).message, nonRetryable: true });
  }
}

/** The spec with the requested worker added, checked as `apply` checks a spec; throws an Error that says why not. */
function addWorkerAccepted(e: ClusterEntity, req: AddWorkerRequest): Accepted {
  return e.check(withAddedWorker(e.spec, req));
}

function nothingToRetry(e: ClusterEntity): string | undefined {
  return e.status.state === 'blocked' ? undefined : `nothing to retry: cluster ${e.cluster} is ${e.status.state}, no step is blocked`;
}

export function setClusterHandlers(e: ClusterEntity): void {
  setHandler(statusQuery, () => e.status);
  setHandler(specQuery, () => e.spec ?? null);

  setHandler(
    applyUpdate,
    (req) =>
      e.mutex.run(async () => {
        // Checked again: a request before this one may have changed what is allowed since validation.
        const a = checkedOrFail(e, req.spec);
        if (req.parallelism) e.parallelism = req.parallelism;
        const generation = e.take(a, 'update', req.requestId);
        return e.nextResult(generation);
      }),
    { validator: (req) => void e.check(req.spec) },
  );

  setHandler(applySignal, (req) =>
    e.mutex.run(async () => {
      if (e.seenSignal(req.requestId)) return;
      try {
        const a = e.check(req.spec);
        if (req.parallelism) e.parallelism = req.parallelism;
        e.take(a, 'signal', req.requestId);
      } catch (err) {
        e.refuse('signal', req.requestId, err);
      }
    }),
  );

  setHandler(
    addWorkerUpdate,
    (req) =>
      e.mutex.run(async (): Promise<AddWorkerResult> => {
        let a: Accepted;
        try {
          a = addWorkerAccepted(e, req);
        } catch (err) {
          throw ApplicationFailure.create({ type: 'AddWorkerRefused', message: (err as Error).message, nonRetryable: true });
        }
        const generation = e.take(a, 'update', req.requestId);
        const result = await e.nextResult(generation);
        const name = req.name.trim();
        return {
          name,
          podRange: result.podAllocations[name] ?? a.plan.podAllocations[name]!,
          state: result.outcome === 'converged' ? 'Ready' : 'blocked',
          generation: result.generation,
          ...(result.blocked ? { blocked: result.blocked } : {}),
        };
      }),
    { validator: (req) => void addWorkerAccepted(e, req) },
  );

  setHandler(addWorkerSignal, (req) =>
    e.mutex.run(async () => {
      if (e.seenSignal(req?.requestId)) return;
      try {
        e.take(addWorkerAccepted(e, req), 'signal', req.requestId);
      } catch (err) {
        e.refuse('signal', req?.requestId, err);
      }
    }),
  );

  setHandler(
    retryUpdate,
    () =>
      e.mutex.run(async () => {
        const why = nothingToRetry(e);
        if (why) throw ApplicationFailure.create({ type: 'NothingToRetry', message: why, nonRetryable: true });
        e.wanted = true;
        return e.nextResult();
      }),
    {
      validator: () => {
        const why = nothingToRetry(e);
        if (why) throw new Error(why);
      },
    },
  );
  setHandler(retrySignal, () => {
    if (!nothingToRetry(e)) e.wanted = true;
  });
}
