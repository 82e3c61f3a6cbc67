// Whether a hardway worker polls the task queue, for commands that wait on the workflow: without one a request
// waits silently forever, so after a few seconds they say which it is and what to do.
import type { Client } from '@temporalio/client';
import { TASK_QUEUE } from '../temporal/constants.js';
import proto from '@temporalio/proto';

/** The workers the server has seen polling hardway's task queue, and how long ago each last polled. */
export async function pollersOf(client: Client, namespace: string): Promise<{ identity: string; secondsAgo: number }[]> {
  const r = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: TASK_QUEUE },
    taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const now = Date.now();
  return (r.pollers ?? []).map((p) => ({
    identity: p.identity ?? '?',
    secondsAgo: p.lastAccessTime?.seconds ? Math.max(0, Math.round(now / 1000 - Number(p.lastAccessTime.seconds))) : Infinity,
  }));
}

/** A worker polls again at least every ~70 s while it lives, so one not seen for longer is gone. */
export const NO_WORKER_AFTER_S = 90;

/** The workers seen polling within NO_WORKER_AFTER_S. */
export async function liveWorkers(client: Client, namespace: string): Promise<{ identity: string; secondsAgo: number }[]> {
  return (await pollersOf(client, namespace)).filter((p) => p.secondsAgo <= NO_WORKER_AFTER_S);
}

/** What to say when a request has not been taken after a while: no worker at all, or the ones that should take it. */
export function noWorkerMessage(address: string, namespace: string, live: { identity: string; secondsAgo: number }[]): string {
  if (live.length === 0) {
    return (
      `no worker is polling task queue "${TASK_QUEUE}" (namespace ${namespace} on ${address}), so nothing happens yet. ` +
      `Start one in another terminal: hardway worker${address === 'localhost:7233' ? '' : ` --address ${address}`}` +
      ' (or run this command with --worker). This command goes on waiting; Ctrl-C is safe.'
    );
  }
  const seen = live.map((p) => `${p.identity} (polled ${p.secondsAgo} s ago)`).join(', ');
  return `waiting for a worker to take the request; workers seen on task queue "${TASK_QUEUE}": ${seen}. If they are gone, start one: hardway worker`;
}

/**
 * Runs `wait` (sending a request, following it). If it has not settled after `afterMs` and no worker polls, says so
 * at once; when workers are seen but the request still waits after `busyMs`, names them (one may have died since).
 * Errors of the look itself are ignored: it is advice, not the request.
 */
export async function sayWhenNoWorker<T>(
  client: Client,
  where: { address: string; namespace: string },
  say: (line: string) => void,
  wait: Promise<T>,
  afterMs = 3000,
  busyMs = 15_000,
): Promise<T> {
  let settled = false;
  const timers: NodeJS.Timeout[] = [];
  const look = (sayIfSeen: boolean) =>
    liveWorkers(client, where.namespace)
      .then((live) => {
        if (settled) return;
        if (live.length === 0 || sayIfSeen) say(noWorkerMessage(where.address, where.namespace, live));
        else timers.push(setTimeout(() => void look(true), busyMs - afterMs));
      })
      .catch(() => undefined);
  timers.push(setTimeout(() => void look(false), afterMs));
  try {
    return await wait;
  } finally {
    settled = true;
    for (const t of timers) clearTimeout(t);
  }
}
