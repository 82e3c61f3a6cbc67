// The cluster workflow's messages: the status query, `apply` and `retry` as updates (validated before they enter
// history, answered when their converge has finished or blocked) and as signals (for `temporal workflow signal`).
// Requests that change the cluster go through the entity's mutex, one at a time.
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { Accepted } from './accept.js';
import type { ClusterEntity } from './entity.js';
import { withAddedNode, type AddedRole, type AddNodeRequest } from '../model/add-node.js';
import {
  addControlPlaneSignal,
  addControlPlaneUpdate,
  addWorkerSignal,
  addWorkerUpdate,
  applySignal,
  cancelSignal,
  cancelUpdate,
  applyUpdate,
  removeWorkerSignal,
  removeWorkerUpdate,
  replaceEtcdMemberSignal,
  replaceEtcdMemberUpdate,
  resetSignal,
  resetUpdate,
  retrySignal,
  retryUpdate,
  specQuery,
  statusQuery,
  type AddNodeResult,
  type RemoveWorkerRequest,
  type RemoveWorkerResult,
  type ReplaceEtcdMemberRequest,
  type ReplaceEtcdMemberResult,
  type ResetResult,
} from './status.js';

/** A spec refused inside an accepted update: an ApplicationFailure (a plain Error would retry the task forever). */
function checkedOrFail(e: ClusterEntity, spec: Parameters<ClusterEntity['check']>[0]): Accepted {
  try {
    return e.check(spec);
  } catch (err) {
    throw ApplicationFailure.create({ type: 'InvalidSpec', message: (err as Error).message, nonRetryable: true });
  }
}

/** The spec with the requested node added, checked as `apply` checks a spec; throws an Error that says why not. */
function addNodeAccepted(e: ClusterEntity, req: AddNodeRequest, role: AddedRole): Accepted {
  return e.check(withAddedNode(e.spec, req, role));
}

/** An Error from a check, as the non-retryable failure of an accepted update (the validator raised it before). */
function failWith(type: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw ApplicationFailure.create({ type, message: (err as Error).message, nonRetryable: true });
  }
}

function removedName(req: RemoveWorkerRequest): string {
  const name = req && typeof req.name === 'string' ? req.name.trim() : '';
  if (!name) throw new Error('the request has no name: send { "name": "worker-2" }');
  return name;
}

function nothingToCancel(e: ClusterEntity): string | undefined {
  return e.converging ? undefined : `nothing to cancel: cluster ${e.cluster} is ${e.status.state}, no converge runs`;
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
        const generation = e.take(a, 'update', req.requestId, req.requestedBy);
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
        e.take(a, 'signal', req.requestId, req.requestedBy);
      } catch (err) {
        e.refuse('signal', req.requestId, err);
      }
    }),
  );

  addNodeHandlers(e, 'worker', addWorkerUpdate, addWorkerSignal);
  addNodeHandlers(e, 'controlplane', addControlPlaneUpdate, addControlPlaneSignal);

  setHandler(
    removeWorkerUpdate,
    (req) =>
      e.mutex.run(async (): Promise<RemoveWorkerResult> => {
        let checked!: ReturnType<ClusterEntity['checkRemoval']>;
        let name = '';
        failWith('RemoveWorkerRefused', () => {
          name = removedName(req);
          checked = e.checkRemoval(name, !!req.hostLost);
        });
        const generation = e.takeRemoval(checked.accepted, checked.removal, 'update', req.requestId);
        const result = await e.nextResult(generation);
        const podRange = e.status.podAllocations[name];
        return {
          name,
          ...(podRange ? { podRange } : {}),
          state: result.outcome === 'converged' ? 'removed' : 'blocked',
          generation: result.generation,
          ...(result.blocked ? { blocked: result.blocked } : {}),
        };
      }),
    { validator: (req) => void e.checkRemoval(removedName(req), !!req.hostLost) },
  );

  setHandler(removeWorkerSignal, (req) =>
    e.mutex.run(async () => {
      if (e.seenSignal(req?.requestId)) return;
      try {
        const { accepted, removal } = e.checkRemoval(removedName(req), !!req.hostLost);
        e.takeRemoval(accepted, removal, 'signal', req.requestId);
      } catch (err) {
        e.refuse('signal', req?.requestId, err);
      }
    }),
  );

  const replacement = (req: ReplaceEtcdMemberRequest) => {
    const old = req && typeof req.old === 'string' ? req.old.trim() : '';
    if (!old) throw new Error('the request names no member to replace: send { "old": "etcd-3", "name": "etcd-4", "address": "..." }');
    return e.checkReplacement(old, req, !!req.hostLost);
  };
  setHandler(
    replaceEtcdMemberUpdate,
    (req) =>
      e.mutex.run(async (): Promise<ReplaceEtcdMemberResult> => {
        let checked!: ReturnType<typeof replacement>;
        failWith('ReplaceEtcdMemberRefused', () => {
          checked = replacement(req);
        });
        const generation = e.takeRemoval(checked.accepted, checked.removal, 'update', req.requestId);
        const result = await e.nextResult(generation);
        return {
          old: checked.removal.name,
          name: req.name.trim(),
          state: result.outcome === 'converged' ? 'replaced' : 'blocked',
          generation: result.generation,
          ...(result.blocked ? { blocked: result.blocked } : {}),
        };
      }),
    { validator: (req) => void replacement(req) },
  );
  setHandler(replaceEtcdMemberSignal, (req) =>
    e.mutex.run(async () => {
      if (e.seenSignal(req?.requestId)) return;
      try {
        const { accepted, removal } = replacement(req);
        e.takeRemoval(accepted, removal, 'signal', req.requestId);
      } catch (err) {
        e.refuse('signal', req?.requestId, err);
      }
    }),
  );

  setHandler(
    resetUpdate,
    (req) =>
      e.mutex.run(async (): Promise<ResetResult> => {
        failWith('ResetRefused', () => e.checkReset());
        e.takeReset(!!req?.includeCa, 'update', req?.requestId);
        const result = await e.nextResult();
        return {
          state: result.outcome === 'converged' ? 'reset' : 'blocked',
          hosts: e.spec?.hosts.map((h) => h.name) ?? [],
          keptCa: !e.status.reset?.includeCa,
          ...(result.blocked ? { blocked: result.blocked } : {}),
        };
      }),
    { validator: (_req) => e.checkReset() },
  );

  setHandler(resetSignal, (req) =>
    e.mutex.run(async () => {
      if (e.seenSignal(req?.requestId)) return;
      try {
        e.takeReset(!!req?.includeCa, 'signal', req?.requestId);
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
  // Not behind the mutex: the request that started the converge holds it until the converge ends.
  setHandler(
    cancelUpdate,
    async () => {
      const why = nothingToCancel(e);
      if (why) throw ApplicationFailure.create({ type: 'NothingToCancel', message: why, nonRetryable: true });
      const result = e.nextResult();
      e.cancel();
      return result;
    },
    {
      validator: () => {
        const why = nothingToCancel(e);
        if (why) throw new Error(why);
      },
    },
  );
  setHandler(cancelSignal, () => {
    if (!nothingToCancel(e)) e.cancel();
  });
  setHandler(retrySignal, () => {
    if (!nothingToRetry(e)) e.wanted = true;
  });
}

function addNodeHandlers(e: ClusterEntity, role: AddedRole, update: typeof addWorkerUpdate, signal: typeof addWorkerSignal): void {
  const refusal = role === 'worker' ? 'AddWorkerRefused' : 'AddControlPlaneRefused';
  setHandler(
    update,
    (req) =>
      e.mutex.run(async (): Promise<AddNodeResult> => {
        let a!: Accepted;
        failWith(refusal, () => {
          a = addNodeAccepted(e, req, role);
        });
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
    { validator: (req) => void addNodeAccepted(e, req, role) },
  );

  setHandler(signal, (req) =>
    e.mutex.run(async () => {
      if (e.seenSignal(req?.requestId)) return;
      try {
        e.take(addNodeAccepted(e, req, role), 'signal', req.requestId);
      } catch (err) {
        e.refuse('signal', req?.requestId, err);
      }
    }),
  );
}
