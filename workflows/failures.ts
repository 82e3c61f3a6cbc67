// Reading Temporal failures in workflow code. Pure.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { StepFailureDetails } from '../activities/types.js';

function innermost(err: unknown): unknown {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e;
}

/** The innermost, most specific message of a failure chain (the activity's own words), with its type. */
export function failureMessage(err: unknown): string {
  const e = innermost(err);
  if (e instanceof ApplicationFailure) return e.type ? `${e.type}: ${e.message}` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** What a failed step reported about itself (activities/step.ts puts it in the failure's details). */
export function failureDetails(err: unknown): Partial<StepFailureDetails> {
  const e = innermost(err);
  if (!(e instanceof ApplicationFailure)) return {};
  const d = e.details?.[0] as Partial<StepFailureDetails> | undefined;
  const out: Partial<StepFailureDetails> = {};
  if (d && typeof d.attempt === 'number') out.attempt = d.attempt;
  if (d && Array.isArray(d.changed)) out.changed = d.changed.filter((c): c is string => typeof c === 'string');
  return out;
}

/**
 * Any error raised by workflow code itself (a plan that cannot be computed, a bug) as an ApplicationFailure:
 * a plain Error would fail the workflow task forever and leave the run hanging in RUNNING.
 */
export function asApplicationFailure(err: unknown, context: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return ApplicationFailure.create({ type: e.name || 'Error', message: `${context}: ${e.message}`, nonRetryable: true });
}
