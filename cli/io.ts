// The CLI's output (results on stdout, progress and errors on stderr) and the worker that `up --worker` and `demo` run
// inside the CLI process.
import type { TemporalOptions } from '../temporal/connection.js';

export const out = (line: string) => process.stdout.write(`${line}\n`);
export const err = (line: string) => process.stderr.write(`${line}\n`);

/** Starts a worker in this process (loading @temporalio/worker only now); the returned function stops it. */
export async function embeddedWorker(topts: TemporalOptions, identityFile?: string): Promise<() => Promise<void>> {
  const { runWorker, installRuntimeLogger } = await import('../worker.js');
  installRuntimeLogger();
  let stop!: () => void;
  const until = new Promise<void>((r) => (stop = r));
  const running = runWorker({ temporal: topts, ssh: { identityFile }, until, log: err });
  running.catch((e: Error) => err(`worker stopped: ${e.message}`));
  return async () => {
    stop();
    await running.catch(() => {});
  };
}
