// How a converge is shown while it runs (`up --wait`, `retry --wait`, `watch`, the node commands): on a terminal the
// compact status is redrawn in place; piped or in CI, one plain line per step whenever its state changes. Ctrl-C
// detaches (the workflow goes on) and says how to come back.
import type { ClusterStatus } from '../workflows/status.js';
import { formatDuration, formatStatus } from './status-format.js';

export interface LiveView {
  show(st: ClusterStatus): void;
}

/** One line per step state change, with the time since the view started (CI logs, pipes). */
export function lineView(print: (line: string) => void): LiveView {
  const seen = new Map<string, string>();
  const t0 = Date.now();
  return {
    show(st) {
      for (const s of st.steps) {
        const line = `${s.state}${s.attempts > 1 ? ` (attempt ${s.attempts}${s.lastError && s.state !== 'failed' ? `: ${s.lastError}` : ''})` : ''}`;
        if (seen.get(s.name) === line) continue;
        seen.set(s.name, line);
        const when = `[${formatDuration(Date.now() - t0).padStart(9)}]`;
        const detail =
          s.state === 'done'
            ? s.reused
              ? ' earlier in this converge: not run again'
              : ` in ${formatDuration(s.durationMs)}: ${s.changed?.length ? s.changed.join(', ') : 'no change'}${s.notes?.length ? ` (${s.notes.join('; ')})` : ''}`
            : s.state === 'failed'
              ? `: ${s.lastError}`
              : '';
        print(`${when} ${s.name.padEnd(36)} ${line}${detail}`);
      }
    },
  };
}

/** The compact status, redrawn in place (cursor home, clear to the end) when it changed. */
export function terminalView(write: (text: string) => void): LiveView {
  let last = '';
  const t0 = Date.now();
  return {
    show(st) {
      const text = `${formatStatus(st)}\n\n(watching for ${formatDuration(Date.now() - t0)}; Ctrl-C detaches, the workflow goes on)\n`;
      if (text === last) return;
      last = text;
      write(`\x1b[H\x1b[J${text}`);
    },
  };
}

/** The view for this process's stdout. */
export function viewFor(print: (line: string) => void): LiveView {
  return process.stdout.isTTY ? terminalView((t) => process.stdout.write(t)) : lineView(print);
}

export interface DetachOptions {
  embeddedWorker?: boolean;
  say: (line: string) => void;
  /** Instead of detaching: what to say, and what to stop before exiting (`demo` stops the dev server it started). */
  onInterrupt?: { message: string; cleanup: () => Promise<void> };
}

/**
 * Until `stop()`: Ctrl-C ends the process after saying that the workflow goes on, and how to come back or stop it
 * (with an embedded worker, that the cluster now waits for a worker).
 */
export function detachOnInterrupt(cluster: string, o: DetachOptions): () => void {
  const onInt = () => {
    if (o.onInterrupt) {
      o.say(`\n${o.onInterrupt.message}`);
      const deadline = new Promise((r) => setTimeout(r, 15_000).unref());
      void Promise.race([o.onInterrupt.cleanup().catch(() => undefined), deadline]).finally(() => process.exit(130));
      return;
    }
    o.say(
      `\ndetached: the workflow of cluster ${cluster} goes on` +
        (o.embeddedWorker ? ' once a worker runs (this one stopped with you: hardway worker)' : '') +
        `. hardway watch ${cluster} re-attaches; hardway cancel ${cluster} stops the converge.`,
    );
    process.exit(130);
  };
  return untilStopped(onInt);
}

/**
 * Until `stop()`, while a request waits to be accepted (no worker has taken it yet): Ctrl-C ends the process after
 * saying that the workflow may still take the request once a worker polls, and how to see whether it did.
 */
export function interruptWhileSending(cluster: string, what: string, say: (line: string) => void): () => void {
  const onInt = () => {
    say(
      `\ninterrupted before the workflow of cluster ${cluster} accepted ${what}: it may still take it once a worker polls ` +
        `(the same request, so no harm). hardway status ${cluster} shows whether it did; hardway worker runs a worker.`,
    );
    process.exit(130);
  };
  return untilStopped(onInt);
}

/** Handles the next Ctrl-C with `onInt` until the function returned is called. */
function untilStopped(onInt: () => void): () => void {
  process.once('SIGINT', onInt);
  return () => process.off('SIGINT', onInt);
}
