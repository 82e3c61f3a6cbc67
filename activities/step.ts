// The frame every activity runs in: a heartbeat while it works (so a dead worker is noticed quickly and
// cancellation arrives), what it changed so far in those heartbeats (so a retry after a crash still reports what
// the first attempt did), the attempt number in its report, and failures that carry their type, their
// retryability (decided by the error's class, model/errors.ts) and what was changed before they happened.
// Also runs outside an activity (a dry run, a test): no heartbeat then, attempt 1.
import { ApplicationFailure, asyncLocalStorage, CancelledFailure, type Context } from '@temporalio/activity';
import { HardwayError, isRetryable } from '../model/errors.js';
import type { StepFailureDetails, StepReport } from './types.js';

export interface StepContext {
  /** This attempt's number (1 outside Temporal). */
  readonly attempt: number;
  /** What earlier attempts of this step changed, from their last heartbeat (oldest first). */
  readonly earlier: readonly string[];
  /** Records what this attempt changed on a host; sent at once as heartbeat details, so a retry keeps it. */
  changed(...what: string[]): void;
  /** Everything changed so far, by earlier attempts and this one, each once, in the order of its last change. */
  changes(): string[];
  /** Observations for the report (facts, warnings). */
  notes: string[];
  /** Tell Temporal we are alive, with an optional progress note. */
  progress(note?: string): void;
}

/** The heartbeat details of a step: what every attempt so far changed, and what it is doing now. */
export interface StepHeartbeat {
  changed: string[];
  note?: string;
}

const HEARTBEAT_EVERY_MS = 3_000;

/** Earlier entries that come again move to the end: the order is that of each entry's last change. */
export function mergeChanges(earlier: readonly string[], now: readonly string[]): string[] {
  const later = new Set(now);
  return [...new Set([...earlier.filter((c) => !later.has(c)), ...now])];
}

/** The changes in a previous attempt's heartbeat details (anything else, e.g. an older worker's note, is none). */
export function changesInHeartbeat(details: unknown): string[] {
  const changed = (details as Partial<StepHeartbeat> | null | undefined)?.changed;
  return Array.isArray(changed) ? changed.filter((c): c is string => typeof c === 'string') : [];
}

export async function runStep<R extends StepReport>(
  host: string,
  body: (ctx: StepContext) => Promise<Omit<R, keyof StepReport> | void>,
): Promise<R> {
  const activity: Context | undefined = asyncLocalStorage.getStore();
  const attempt = activity?.info.attempt ?? 1;
  const earlier = changesInHeartbeat(activity?.info.heartbeatDetails);
  const mine: string[] = [];
  const changes = () => mergeChanges(earlier, mine);
  const beat = (note?: string) =>
    activity?.heartbeat({ changed: changes(), ...(note !== undefined ? { note } : {}) } satisfies StepHeartbeat);
  const ctx: StepContext = {
    attempt,
    earlier,
    changed: (...what) => {
      if (what.length === 0) return;
      mine.push(...what);
      beat();
    },
    changes,
    notes: [],
    progress: (note) => beat(note),
  };
  const ticker = activity ? setInterval(() => beat(), HEARTBEAT_EVERY_MS) : undefined;
  try {
    const extra = await body(ctx);
    return { host, changed: changes(), notes: ctx.notes, attempt, ...(extra ?? {}) } as R;
  } catch (err) {
    if (err instanceof ApplicationFailure || err instanceof CancelledFailure) throw err;
    const e = err instanceof Error ? err : new Error(String(err));
    const details: StepFailureDetails = { attempt, changed: changes() };
    const failure = ApplicationFailure.create({
      type: e.name,
      message: `${host}: ${e.message}`,
      nonRetryable: !isRetryable(e),
      details: [details],
    });
    // A failure hardway names (host down, command failed, ...) says all in its message: the UI and `hardway status`
    // show no stack trace of the worker's code for it. Anything else keeps its stack: it is a bug to report.
    if (e instanceof HardwayError) failure.stack = `${e.name}: ${failure.message}`;
    throw failure;
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
