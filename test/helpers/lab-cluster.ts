// A lab for end-to-end tests of whole bring-ups: a Temporal server (the dev server unless told otherwise), the lab's
// hosts, and the real worker with its SSH pool; stop() removes all of it. Also reads the payloads of a history, to
// prove what never enters one.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { labDown, labUp } from '../../lab/index.js';
import { plan as planCluster } from '../../model/plan.js';
import type { ClusterPlan, ClusterSpec } from '../../model/types.js';
import { parseClusterFile } from '../../model/validate.js';
import { SshPool } from '../../remote/pool.js';
import { createWorker } from '../../worker.js';
import { devServer, type TestTemporal } from './temporal.js';

export class LabCluster {
  env!: TestTemporal;
  /** The cluster file the lab wrote (its SSH settings and mirror filled in), and its plan. */
  spec!: ClusterSpec;
  plan!: ClusterPlan;
  readonly pool = new SshPool();
  private worker?: Worker;
  private running?: Promise<void>;

  constructor(
    readonly dir: string,
    private readonly startTemporal: () => Promise<TestTemporal> = devServer,
  ) {}

  async start(labSpec: ClusterSpec): Promise<void> {
    this.env = await this.startTemporal();
    await labUp({ dir: this.dir, spec: labSpec });
    const r = parseClusterFile(readFileSync(join(this.dir, 'cluster.yaml'), 'utf8'));
    if (!r.ok) throw new Error(`lab cluster.yaml does not validate: ${JSON.stringify(r.problems)}`);
    this.spec = r.spec;
    this.plan = planCluster(r.spec);
    await this.startWorker();
  }

  /** The in-process worker (start() starts it): stopped, e.g. while worker processes of a drill take its place. */
  async stopWorker(): Promise<void> {
    this.worker?.shutdown();
    await this.running?.catch(() => {});
    this.worker = undefined;
    this.running = undefined;
  }

  async startWorker(): Promise<void> {
    if (this.worker) return;
    this.worker = await createWorker({ temporal: { address: this.env.address, namespace: 'default' }, pool: this.pool });
    this.running = this.worker.run();
  }

  /** Whatever start() got to, stopped and removed (the lab directory too). */
  async stop(): Promise<void> {
    this.worker?.shutdown();
    await this.running?.catch(() => {});
    await this.pool.close();
    await this.env?.teardown();
    await labDown(this.dir).catch((e: Error) => console.error(`lab down: ${e.message}`));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every payload's bytes in a history, decoded as text. */
export function payloadTexts(events: unknown[]): string[] {
  const texts: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) texts.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    else if (typeof v === 'string') texts.push(v);
  };
  walk(events);
  return texts;
}

/**
 * A shell command that lists every file hardway manages on a lab host with its mtime, sorted: host-side evidence of
 * what a run rewrote (kubectl's own cache under /root/.kube is not hardway's).
 */
export const MANAGED_FILE_TIMES =
  'find /etc/hosts /etc/kubernetes /etc/etcd /etc/haproxy /etc/systemd/system /etc/kube-flannel /etc/cni/net.d /etc/containerd ' +
  '/var/lib/hardway /var/lib/kubelet/pki /var/lib/kubelet/config.yaml /var/lib/kubelet/kubeconfig /var/lib/kube-proxy /usr/local/bin ' +
  "/root/.kube/config -xdev -type f -printf '%p %T@\\n' 2>/dev/null | sort || true";
