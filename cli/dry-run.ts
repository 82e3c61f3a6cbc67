// `hardway up --dry-run`: walks the bring-up's phases as the workflow would (same phases, same steps, same inputs,
// same activity code), on shells that read the real hosts and record every change instead of making it
// (activities/dry-run.ts), and reports per host what WOULD change. Nothing goes through Temporal, nothing is
// written to a host.
//
// A step that cannot be judged because a change above would have come first (certificates before the CA exists,
// a check of a config that would be written) is reported as depending on those changes, not as a failure.
import { ApplicationFailure } from '@temporalio/common';
import type { DryRunAction, DryRunShells } from '../activities/dry-run.js';
import type { ActivityName, ClusterActivities, StepFailureDetails, StepReport } from '../activities/types.js';
import type { ClusterPlan } from '../model/types.js';
import type { Phase } from '../workflows/phases/phase.js';

export type DryRunOutcome = 'unchanged' | 'changes' | 'depends' | 'fails';

export interface DryRunStep {
  phase: string;
  activity: ActivityName;
  /** The host the step runs for. */
  host: string;
  outcome: DryRunOutcome;
  /** What the step would change (or would have changed before it stopped), on `host` or on the host named. */
  changes: DryRunAction[];
  /** The step's own account of those changes (its report, or its failure's details). */
  reported: string[];
  notes: string[];
  /** Why the step depends on changes above, or why it would fail. */
  reason?: string;
}

export interface DryRunReport {
  steps: DryRunStep[];
  /** Steps that would change something. */
  changing: number;
  /** Steps that cannot be judged before changes above are made. */
  depending: number;
  /** Steps that would fail as the hosts are now. */
  failing: number;
  /** Nothing would change, nothing depends on a change, nothing fails: the cluster is converged. */
  converged: boolean;
  /** Every change that would be made, per host it would be made on, in order ("step: what"). */
  byHost: Record<string, string[]>;
}

function describeFailure(err: unknown, host: string): { type: string; retryable: boolean; message: string; changed: string[] } {
  if (err instanceof ApplicationFailure) {
    const d = err.details?.[0] as Partial<StepFailureDetails> | undefined;
    const message = err.message.startsWith(`${host}: `) ? err.message.slice(host.length + 2) : err.message;
    return { type: err.type ?? 'Error', retryable: !err.nonRetryable, message, changed: Array.isArray(d?.changed) ? d.changed : [] };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  // Not through runStep: building the step's input failed (a plan inconsistency, PlanError).
  return { type: e.name, retryable: false, message: e.message, changed: [] };
}

export async function dryRun(
  plan: ClusterPlan,
  phases: readonly Phase[],
  shells: DryRunShells,
  activities: ClusterActivities,
  print: (line: string) => void,
): Promise<DryRunReport> {
  const steps: DryRunStep[] = [];
  shells.take(); // only what this walk records
  for (const phase of phases) {
    print(`${phase.name}: ${phase.title}`);
    for (const step of phase.steps) {
      for (const host of step.hosts(plan)) {
        const changedBefore = shells.recorded.length > 0;
        const r: DryRunStep = {
          phase: phase.name,
          activity: step.activity,
          host,
          outcome: 'unchanged',
          changes: [],
          reported: [],
          notes: [],
        };
        try {
          const run = activities[step.activity] as (input: unknown) => Promise<StepReport>;
          const report = await run(step.input(plan, host));
          r.reported = report.changed;
          r.notes = report.notes;
          r.changes = shells.take();
          r.outcome = r.changes.length > 0 ? 'changes' : 'unchanged';
        } catch (err) {
          const f = describeFailure(err, host);
          r.changes = shells.take();
          r.reported = f.changed;
          // A retryable failure after a recorded change (e.g. a verification of what would have been written,
          // a file an earlier step creates) says nothing about the real run: the change comes first there.
          const depends = f.type === 'DependsOnChanges' || (f.retryable && (changedBefore || r.changes.length > 0));
          // A step that would change something and then checks its own change is a changing step: its own
          // changes are what the operator needs to see; only its verification has to wait for them.
          r.outcome = depends ? (r.changes.length > 0 ? 'changes' : 'depends') : 'fails';
          r.reason = f.message;
        }
        steps.push(r);
        printStep(r, print);
      }
    }
  }
  const count = (o: DryRunOutcome) => steps.filter((s) => s.outcome === o).length;
  const byHost: Record<string, string[]> = {};
  for (const s of steps) for (const c of s.changes) (byHost[c.host] ??= []).push(`${s.activity}: ${c.what}`);
  const report: DryRunReport = {
    steps,
    changing: count('changes'),
    depending: count('depends'),
    failing: count('fails'),
    converged: steps.every((s) => s.outcome === 'unchanged'),
    byHost,
  };
  print(
    report.converged
      ? 'dry run: nothing would change'
      : `dry run: ${report.changing} step(s) would change something, ${report.depending} depend on changes above, ${report.failing} would fail`,
  );
  return report;
}

function printStep(r: DryRunStep, print: (line: string) => void): void {
  const name = `${r.activity}/${r.host}`;
  const reason = (r.reason ?? '').split('\n')[0]; // a failed command's message goes on with its stderr and command line
  const head: Record<DryRunOutcome, string> = {
    unchanged: 'no change',
    changes: r.reason ? `would change (what follows in the step depends on these changes: ${reason})` : 'would change',
    depends: `depends on changes above: ${reason}`,
    fails: `would fail: ${reason}`,
  };
  print(`  ${name}: ${head[r.outcome]}`);
  for (const c of r.changes) print(`      ${c.host === r.host ? '' : `${c.host}: `}${c.what}`);
}
