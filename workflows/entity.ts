// The state of one cluster's workflow and the transitions on it: take a checked spec, wait for a converge, run
// one, hand everything to the next run. Deterministic; the handlers (handlers.ts) and the main loop (cluster.ts)
// drive it. Everything here is plain JSON or rebuilt from it, so that continue-as-new carries it whole.
import { CancellationScope, condition, isCancellation, upsertSearchAttributes, type ActivityOptions } from '@temporalio/workflow';
import type { ClusterSpec } from '../model/types.js';
import { CLUSTER_PHASE } from '../temporal/search-attributes.js';
import { acceptSpec, type Accepted } from './accept.js';
import { summarizeChange } from './change-summary.js';
import { Mutex } from './mutex.js';
import { NOT_BUILT, PHASES, type Phase } from './phases/index.js';
import { removalPhase, type Removal } from './phases/removal.js';
import { resetPhase } from './phases/reset.js';
import { hostFootprint } from '../model/footprint.js';
import { targetOf } from './phases/plan-lookup.js';
import { withReplacedEtcdMember, type AddNodeRequest } from '../model/add-node.js';
import { runPhases, type ConvergeSession } from './runner.js';
import type { BlockedStep, ChangeRecord, ClusterStatus, ConvergeResult } from './status.js';

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
  /** Workers being taken out (`removeWorker`): drained, deleted and cleaned first by the next converge. */
  removals?: Removal[];
  /** A `reset` asked for: the next converge resets every host instead, and the workflow then ends. */
  reset?: { includeCa: boolean };
  /** The last converge's phases and steps, so that `status` still shows them after continue-as-new (when not huge). */
  lastConverge?: Pick<ClusterStatus, 'phases' | 'steps' | 'changedCount' | 'startedAt' | 'endedAt' | 'convergingGeneration'>;
}

/** The last converge's records travel through continue-as-new only below this size (JSON); status shows less above. */
const CARRIED_STEPS_MAX_BYTES = 512 * 1024;

export const newCluster = (): CarriedState => ({
  generation: 0,
  podAllocations: {},
  established: [],
  changes: [],
  signalRequestIds: [],
  parallelism: 5,
});

export class ClusterEntity {
  readonly status: ClusterStatus;
  /** Serializes requests: each runs after the previous one has settled. */
  readonly mutex = new Mutex();
  /** A converge is wanted: a new spec was accepted, or a blocked one is to be retried. */
  wanted = false;
  parallelism: number;
  private desired: Accepted | undefined;
  private session: ConvergeSession | undefined;
  private established: string[];
  private removals: Removal[];
  private resetting: { includeCa: boolean } | undefined;
  private readonly signalIds: string[];
  /** The converge in progress, to cancel it (`hardway cancel`); and whether that was asked. */
  private running: CancellationScope | undefined;
  private cancelAsked = false;
  /** Converges run so far by this run, and the last one's result (handlers wait on them). */
  private runs = 0;
  private lastResult: ConvergeResult | undefined;

  constructor(
    readonly cluster: string,
    carried: CarriedState,
  ) {
    this.parallelism = carried.parallelism;
    this.session = carried.session;
    this.established = carried.established;
    this.removals = carried.removals ?? [];
    this.resetting = carried.reset;
    this.signalIds = [...carried.signalRequestIds];
    this.status = {
      cluster,
      state: 'waiting',
      generation: carried.generation,
      convergedGeneration: carried.convergedGeneration,
      phases: carried.lastConverge?.phases ?? [],
      steps: carried.lastConverge?.steps ?? [],
      changedCount: carried.lastConverge?.changedCount ?? 0,
      ...(carried.lastConverge?.startedAt ? { startedAt: carried.lastConverge.startedAt } : {}),
      ...(carried.lastConverge?.endedAt ? { endedAt: carried.lastConverge.endedAt } : {}),
      ...(carried.lastConverge?.convergingGeneration !== undefined
        ? { convergingGeneration: carried.lastConverge.convergingGeneration }
        : {}),
      notBuilt: NOT_BUILT.map((p) => p.name),
      podAllocations: carried.podAllocations,
      changes: [...carried.changes],
      ...(this.removals.length ? { removing: this.removals.map((r) => r.name) } : {}),
      ...(this.resetting ? { reset: this.resetting } : {}),
    };
    if (carried.blocked?.length) {
      this.status.state = 'blocked';
      this.status.blocked = carried.blocked;
    } else if (carried.convergedGeneration !== undefined && carried.convergedGeneration === carried.generation) {
      this.status.state = 'converged';
    }
    // The spec the cluster was last given, planned again (it was checked when it was accepted).
    if (carried.spec) {
      this.desired = { ...this.check(carried.spec), generation: carried.generation };
      if (this.session || carried.convergedGeneration !== carried.generation) this.wanted = !carried.blocked?.length;
    }
  }

  /** The spec the cluster converges to (the last accepted one). */
  get spec(): ClusterSpec | undefined {
    return this.desired?.spec;
  }

  /** Whether the cluster can take `spec` now, and its plan; throws an Error that says why not. Pure. */
  check(spec: ClusterSpec, removing?: readonly string[]): Accepted {
    if (this.resetting) {
      throw new Error(`cluster ${this.cluster} is being reset: when that has finished, hardway up -f FILE starts it again`);
    }
    return acceptSpec(spec, {
      cluster: this.cluster,
      current: this.desired?.spec,
      established: this.established,
      podAllocations: this.status.podAllocations,
      pendingRemovals: this.removals.map((r) => r.name),
      ...(removing ? { removing } : {}),
    });
  }

  /** The spec without worker `name`, checked, and what to take off its host; throws an Error that says why not. Pure. */
  checkRemoval(name: string, hostLost: boolean): { accepted: Accepted; removal: Removal } {
    const current = this.desired;
    if (!current) throw new Error(`cluster ${this.cluster} has no spec yet: there is no worker to remove`);
    const host = current.plan.hosts.find((h) => h.name === name);
    if (!host) {
      const workers = current.plan.hosts.filter((h) => h.roles.includes('worker')).map((h) => h.name);
      throw new Error(`cluster ${this.cluster} has no host ${name}: its workers are ${workers.join(', ') || '(none)'}`);
    }
    if (host.roles.length !== 1 || host.roles[0] !== 'worker') {
      throw new Error(
        `${name} is not only a worker (roles: ${host.roles.join(', ')}): remove-worker takes out workers; ` +
          `to take down the whole cluster: hardway reset ${this.cluster}`,
      );
    }
    const spec = { ...current.spec, hosts: current.spec.hosts.filter((h) => h.name !== name) };
    const accepted = this.check(spec, [name]);
    return { accepted, removal: this.removalOf(name, 'worker', hostLost) };
  }

  /** The spec with etcd member `old` replaced by a new host, checked, and what to take out; throws an Error. Pure. */
  checkReplacement(old: string, req: AddNodeRequest, hostLost: boolean): { accepted: Accepted; removal: Removal } {
    const spec = withReplacedEtcdMember(this.desired?.spec, old, req);
    const accepted = this.check(spec, [old]);
    return { accepted, removal: this.removalOf(old, 'etcd', hostLost) };
  }

  private removalOf(name: string, kind: Removal['kind'], hostLost: boolean): Removal {
    const plan = this.desired!.plan;
    const peerUrl = plan.etcd.members.find((m) => m.name === name)?.peerUrl;
    return {
      name,
      kind,
      ...(peerUrl ? { peerUrl } : {}),
      target: targetOf(plan, name),
      hostLost,
      footprint: hostFootprint(plan, name, { includeCa: false }),
    };
  }

  /** Takes a checked removal: the spec without the worker, and the worker to drain, delete and clean first. */
  takeRemoval(a: Accepted, removal: Removal, via: ChangeRecord['via'], requestId?: string): number {
    this.removals = [...this.removals.filter((r) => r.name !== removal.name), removal];
    this.status.removing = this.removals.map((r) => r.name);
    return this.take(a, via, requestId);
  }

  /** Whether a reset can start now; throws an Error that says why not. */
  checkReset(): void {
    if (!this.desired) throw new Error(`cluster ${this.cluster} has no spec yet: there is nothing to reset`);
  }

  takeReset(includeCa: boolean, via: ChangeRecord['via'], requestId?: string): void {
    this.checkReset();
    this.resetting = { includeCa: !!includeCa || !!this.resetting?.includeCa };
    this.status.reset = this.resetting;
    this.log({
      generation: this.status.generation,
      via,
      requestId,
      summary: `reset every host${this.resetting.includeCa ? ', the CA too' : ' (CA kept)'}`,
      accepted: true,
    });
    // A converge blocked earlier is not resumed: the reset is a new walk over every host.
    this.session = undefined;
    this.wanted = true;
  }

  /** Whether a converge runs now (what `cancel` stops). */
  get converging(): boolean {
    return this.running !== undefined;
  }

  /**
   * Stops the converge in progress (`hardway cancel`): its running steps are cancelled, and it ends blocked at them,
   * so that `retry` resumes there. The workflow lives on. Requests that came meanwhile wait for that retry.
   */
  cancel(): void {
    this.cancelAsked = true;
    this.wanted = false;
    this.running?.cancel();
  }

  /** The steps that were running when the converge was cancelled, marked failed with `why` (a phase too). */
  private stoppedAt(why: string): BlockedStep[] {
    const st = this.status;
    const at = st.steps.filter((s) => s.state === 'running');
    for (const s of at) {
      s.state = 'failed';
      s.lastError = why;
      s.endedAt = new Date().toISOString();
    }
    for (const p of st.phases) if (p.state === 'running') p.state = 'failed';
    return at.length
      ? at.map((s) => ({ step: s.name, host: s.host, error: why }))
      : [{ step: st.currentPhase ?? '*', host: '*', error: why }];
  }

  /** A reset has finished: the workflow ends. */
  get finished(): boolean {
    return this.status.state === 'reset';
  }

  /** Takes a checked spec as the cluster's desired state; returns its generation. */
  take(a: Accepted, via: ChangeRecord['via'], requestId?: string, by?: string): number {
    const previous = this.desired?.spec;
    this.status.generation += 1;
    this.desired = { ...a, generation: this.status.generation };
    this.status.podAllocations = a.plan.podAllocations;
    const summary = summarizeChange(previous, a.spec);
    this.log({ generation: this.status.generation, via, requestId, ...(by ? { by } : {}), summary, accepted: true });
    this.wanted = true;
    return this.status.generation;
  }

  refuse(via: ChangeRecord['via'], requestId: string | undefined, err: unknown): void {
    const summary = `refused: ${err instanceof Error ? err.message : String(err)}`;
    this.log({ generation: this.status.generation, via, requestId, summary, accepted: false });
  }

  /** A signal's request id seen before (a signal sent twice is applied once); remembers it otherwise. */
  seenSignal(requestId: string | undefined): boolean {
    if (!requestId) return false;
    if (this.signalIds.includes(requestId)) return true;
    this.signalIds.push(requestId);
    if (this.signalIds.length > SIGNAL_IDS_KEPT) this.signalIds.shift();
    return false;
  }

  /** The result of the first converge that ends after this call (and, if given, covers `generation`). */
  async nextResult(generation?: number): Promise<ConvergeResult> {
    const after = this.runs;
    await condition(() => this.runs > after && !!this.lastResult && (generation === undefined || this.lastResult.generation >= generation));
    return this.lastResult!;
  }

  carry(): CarriedState {
    return {
      spec: this.desired?.spec,
      generation: this.status.generation,
      podAllocations: this.status.podAllocations,
      established: this.established,
      convergedGeneration: this.status.convergedGeneration,
      changes: this.status.changes,
      signalRequestIds: this.signalIds,
      session: this.session,
      blocked: this.status.blocked,
      parallelism: this.parallelism,
      ...(this.removals.length ? { removals: this.removals } : {}),
      ...(this.resetting ? { reset: this.resetting } : {}),
      ...this.lastConvergeCarried(),
    };
  }

  private lastConvergeCarried(): Pick<CarriedState, 'lastConverge'> {
    const st = this.status;
    if (!st.steps.length && !st.phases.length) return {};
    const last = {
      phases: st.phases,
      steps: st.steps,
      changedCount: st.changedCount,
      ...(st.startedAt ? { startedAt: st.startedAt } : {}),
      ...(st.endedAt ? { endedAt: st.endedAt } : {}),
      ...(st.convergingGeneration !== undefined ? { convergingGeneration: st.convergingGeneration } : {}),
    };
    return JSON.stringify(last).length <= CARRIED_STEPS_MAX_BYTES ? { lastConverge: last } : {};
  }

  /** Converges the desired spec; a converge that blocked before resumes, skipping steps done with the same input. */
  async converge(activityOptions: ActivityOptions, onChange: () => void): Promise<void> {
    this.wanted = false;
    const target = this.desired!;
    const resumed = this.session !== undefined;
    const session = (this.session ??= { generation: target.generation, done: {} });
    session.generation = target.generation;
    const resetting = this.resetting;
    const removed = resetting ? [] : this.removals.map((r) => r.name);
    const phases: readonly Phase[] = resetting
      ? [resetPhase(resetting.includeCa)]
      : this.removals.length
        ? [removalPhase(this.removals), ...PHASES]
        : PHASES;
    this.start(target.generation, resumed, phases);
    onChange();
    // In a scope of its own, so that `cancel` stops this converge and not the workflow.
    const scope = new CancellationScope();
    this.running = scope;
    this.cancelAsked = false;
    let blocked: BlockedStep[];
    try {
      blocked = await scope.run(() =>
        runPhases(phases, {
          plan: target.plan,
          status: this.status,
          session,
          parallelism: this.parallelism,
          established: this.established,
          activityOptions,
          onPhase: (p) => {
            upsertSearchAttributes([{ key: CLUSTER_PHASE, value: p.name }]);
            onChange();
          },
        }),
      );
    } catch (err) {
      if (!this.cancelAsked || !isCancellation(err)) throw err;
      blocked = this.stoppedAt('cancelled by the operator (hardway cancel): hardway retry resumes here');
    } finally {
      this.running = undefined;
    }
    const st = this.status;
    st.endedAt = new Date().toISOString();
    if (blocked.length) {
      st.state = 'blocked';
      st.blocked = blocked;
      st.error = blocked.map((b) => `${b.step}: ${b.error}`).join('; ');
      upsertSearchAttributes([{ key: CLUSTER_PHASE, value: `blocked:${st.currentPhase ?? ''}` }]);
    } else if (resetting) {
      st.state = 'reset';
      this.established = [];
      this.session = undefined;
      upsertSearchAttributes([{ key: CLUSTER_PHASE, value: 'reset' }]);
    } else {
      st.state = 'converged';
      st.convergedGeneration = target.generation;
      this.established = target.plan.hosts.map((h) => h.name);
      this.session = undefined;
      // Only the removals this converge made: one taken while it ran is still to do.
      this.removals = this.removals.filter((r) => !removed.includes(r.name));
      st.removing = this.removals.length ? this.removals.map((r) => r.name) : undefined;
      upsertSearchAttributes([{ key: CLUSTER_PHASE, value: 'converged' }]);
    }
    this.lastResult = {
      generation: target.generation,
      outcome: blocked.length ? 'blocked' : 'converged',
      changedCount: st.changedCount,
      ...(blocked.length ? { blocked } : {}),
      podAllocations: st.podAllocations,
    };
    this.runs += 1;
    onChange();
  }

  /** Resets the status for a converge; a resumed one keeps every record (done steps are skipped, failed ones keep
   * what they had changed). */
  private start(generation: number, resumed: boolean, phases: readonly Phase[]): void {
    const st = this.status;
    st.state = 'converging';
    st.convergingGeneration = generation;
    st.blocked = undefined;
    st.error = undefined;
    st.startedAt = new Date().toISOString();
    st.endedAt = undefined;
    st.phases = [
      ...phases.map((p) => ({ name: p.name, title: p.title, state: 'pending' as const })),
      ...NOT_BUILT.map((p) => ({ name: p.name, title: p.title, state: 'not-built' as const })),
    ];
    if (!resumed) {
      st.steps = [];
      st.changedCount = 0;
    }
  }

  private log(entry: Omit<ChangeRecord, 'at'>): void {
    const changes = this.status.changes;
    changes.push({ ...entry, at: new Date().toISOString() });
    if (changes.length > CHANGE_LOG_LENGTH) changes.splice(0, changes.length - CHANGE_LOG_LENGTH);
  }
}
