// What every command that sends the cluster workflow one request does: connect, run a worker in this process when
// asked (--worker), send the request, and either say how to follow it or follow it to its end (--wait), printing the
// status and one closing line; the exit code says whether it ended as asked.
import type { Client } from '@temporalio/client';
import { connectClient, temporalOptions, type TemporalFlags } from '../temporal/connection.js';
import type { Request } from './cluster-ops.js';
import { embeddedWorker, err, out } from './io.js';
import { detachOnInterrupt, interruptWhileSending, viewFor } from './live-view.js';
import { UsageError } from './load-spec.js';
import { sayWhenNoWorker } from './worker-presence.js';

export interface RequestFlags {
  wait?: boolean;
  worker?: boolean;
  identity?: string;
}

export interface RequestCommand<R> {
  cluster: string;
  send(client: Client): Promise<Request<R>>;
  /** The line printed once the workflow has accepted the request. */
  accepted: string;
  /** Once it has ended: whether it did what was asked, and the closing line. */
  ended(result: R): { ok: boolean; line: string };
}

export async function runRequest<R>(topts: ReturnType<typeof temporalOptions>, o: RequestFlags, c: RequestCommand<R>): Promise<void> {
  const client = await connectClient(topts);
  const { follow } = await import('./cluster-ops.js');
  const { formatStatus } = await import('./status-format.js');
  const stopWorker = o.worker ? await embeddedWorker(topts, o.identity) : undefined;
  try {
    const stopSending = interruptWhileSending(c.cluster, 'the request', err);
    const req = await sayWhenNoWorker(client, topts, err, c.send(client)).finally(stopSending);
    out(c.accepted);
    if (!o.wait && !o.worker) {
      out(`follow it with: hardway status ${c.cluster}`);
      return;
    }
    const stopDetach = detachOnInterrupt(c.cluster, { embeddedWorker: !!o.worker, say: err });
    const view = viewFor(out);
    const { result, status } = await follow(req, out, 1000, view).finally(stopDetach);
    if (!process.stdout.isTTY) out(formatStatus(status)); // a terminal shows it already

    const { ok, line } = c.ended(result);
    out(line);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await stopWorker?.();
    await client.connection.close();
  }
}

/** The Temporal options of a command whose --address is a node's: the frontend is --temporal-address there. */
export function temporalOptionsBesideNodeAddress(o: Omit<TemporalFlags, 'address'> & { temporalAddress?: string; address?: string }) {
  const { temporalAddress, address: _node, ...rest } = o;
  return temporalOptions({ ...rest, ...(temporalAddress ? { address: temporalAddress } : {}) });
}

/** The per-host SSH settings of --user and --port (checked before anything is contacted), or none. */
export function sshFlags(o: { user?: string; port?: number }): { ssh?: { user?: string; port?: number } } {
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port > 0 && o.port < 65536)) {
    throw new UsageError(`--port ${o.port}: give a TCP port between 1 and 65535`);
  }
  const ssh = { ...(o.user ? { user: o.user } : {}), ...(o.port !== undefined ? { port: o.port } : {}) };
  return Object.keys(ssh).length ? { ssh } : {};
}
