// The frame every activity runs in: a heartbeat while it works (so a dead worker is noticed quickly and
// cancellation arrives), the attempt number in its report, and failures that carry their type and attempt.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { StepReport } from './types.js';
import { NON_RETRYABLE } from './types.js';

export interface StepContext {
  changed: string[];
  notes: string[];
  /** Tell Temporal we are alive, with an optional progress note. */
  progress(note?: string): void;
}

const HEARTBEAT_EVERY_MS = 3_000;

export async function runStep<R extends StepReport>(
  host: string,
  body: (ctx: StepContext) => Promise<Omit<R, keyof StepReport> | void>,
): Promise<R> {
  const activity = Context.current();
  const ctx: StepContext = {
    changed: [],
    notes: [],
    progress: (note) => activity.heartbeat(note),
  };
  const ticker = setInterval(() => activity.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    const extra = await body(ctx);
    return { host, changed: ctx.changed, notes: ctx.notes, attempt: activity.info.attempt, ...(extra ?? {}) } as R;
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    const e = err instanceof Error ? err : new Error(String(err));
    throw ApplicationFailure.create({
      type: e.name,
      message: `${host}: ${e.message}`,
      nonRetryable: (NON_RETRYABLE as readonly string[]).includes(e.name),
      details: [{ attempt: activity.info.attempt }],
    });
  } finally {
    clearInterval(ticker);
  }
}
